import { LineCounter, parseDocument } from "yaml";
import { z } from "zod";
import { SpecsciError } from "./errors.js";
import { closestMatch } from "./text.js";

/**
 * Parses YAML and validates it with a zod schema. The first problem is reported as
 * `file:line:col: setting: problem`, pointing at the offending value (or, for an unknown
 * setting, at its key, listing the known ones), so the user knows exactly what to fix.
 */
export function parseYamlWithSchema<S extends z.ZodType>(
  text: string,
  file: string,
  schema: S,
  hint?: string,
  /** Rewrites the document before it is validated (an experiment's preset fills its values). */
  prepare?: (raw: unknown) => unknown,
): z.infer<S> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    const err = doc.errors[0];
    const pos = err ? lineCounter.linePos(err.pos[0]) : undefined;
    const where = pos ? `${file}:${pos.line}:${pos.col}` : file;
    throw new SpecsciError(`${where}: invalid YAML: ${err?.message.split("\n")[0]}`);
  }
  const raw = doc.toJS() ?? {};
  const result = schema.safeParse(prepare ? prepare(raw) : raw);
  if (result.success) return result.data;

  const first = result.error.issues[0];
  if (!first) throw new SpecsciError(`${file}: invalid content`);
  const issue = deepestIssue(first);
  let path = issue.path.map(String);
  if (issue.code === "unrecognized_keys") path = [...path, String(issue.keys[0])];
  const keyProblem = issue.code === "unrecognized_keys" || issue.code === "invalid_key";
  const node = doc.getIn(path, true) as { range?: [number, number, number] } | undefined;
  const keyNode = findKeyRange(doc, path);
  let offset = keyProblem ? (keyNode ?? node?.range?.[0]) : (node?.range?.[0] ?? keyNode);
  // A missing setting has no position of its own: point at the closest enclosing one.
  for (let n = path.length - 1; offset === undefined && n > 0; n--)
    offset = findKeyRange(doc, path.slice(0, n));
  const pos = offset === undefined ? undefined : lineCounter.linePos(offset);
  const where = pos ? `${file}:${pos.line}:${pos.col}` : file;
  const setting = path.length > 0 ? path.join(".") : "(top level)";
  const problem =
    issue.code === "unrecognized_keys"
      ? unknownSetting(String(issue.keys[0]), knownKeys(schema, path.slice(0, -1), doc.toJS()))
      : issue.code === "invalid_key"
        ? (issue.issues[0]?.message ?? issue.message)
        : (unknownChoice(issue, doc.getIn(path)) ?? issue.message);
  throw new SpecsciError(`${where}: ${setting}: ${problem}`, hint ? { hint } : {});
}

/**
 * A value that picks no option of a discriminated union (an eval's `task`): "unknown value", the
 * closest option as a likely typo, and every option.
 */
function unknownChoice(issue: z.core.$ZodIssue, given: unknown): string | undefined {
  const options = (issue as { note?: string; options?: unknown[] }).options;
  if ((issue as { note?: string }).note !== "No matching discriminator" || !options)
    return undefined;
  const names = options.map(String);
  const close = typeof given === "string" ? closestMatch(given, names) : undefined;
  return `unknown value${given === undefined ? " (missing)" : ` "${String(given)}"`}${close ? `; did you mean ${close}?` : ""} (one of: ${names.join(", ")})`;
}

/** "unknown setting", the closest known one as a likely typo, and all that are allowed there. */
function unknownSetting(key: string, known: string[]): string {
  if (!known.length) return "unknown setting";
  const close = closestMatch(key, known);
  return `unknown setting${close ? `; did you mean ${close}?` : ""} (known: ${known.join(", ")})`;
}

function findKeyRange(doc: ReturnType<typeof parseDocument>, path: string[]): number | undefined {
  // For unknown keys the value node may be null; point at the key itself instead.
  const parent = path.length > 1 ? doc.getIn(path.slice(0, -1), true) : doc.contents;
  const items = (parent as { items?: { key?: { value?: unknown; range?: number[] } }[] })?.items;
  const key = items?.find((p) => p.key?.value === path[path.length - 1])?.key;
  return key?.range?.[0];
}

/**
 * The settings allowed where the unknown one is: the keys of every object schema the value there
 * could match, found by walking the schema along the path (through optional, default, pipe,
 * lazy, records, arrays and unions; a union's options are narrowed by the literal fields the
 * value gives, such as an arm's `kind`).
 */
function knownKeys(root: z.ZodType, path: string[], value: unknown): string[] {
  let schemas = [root];
  let at = value;
  for (const part of path) {
    schemas = schemas.flatMap((schema) => childSchemas(schema, part, at));
    at = (at as Record<string, unknown> | undefined)?.[part];
  }
  const keys = schemas.flatMap((schema) =>
    objectOptions(schema, at).flatMap((o) => Object.keys(o.shape)),
  );
  return [...new Set(keys)];
}

/** The schemas that a value's child `key` is checked against. */
function childSchemas(schema: z.ZodType, key: string, value: unknown): z.ZodType[] {
  const s = unwrap(schema);
  if (s instanceof z.ZodRecord) return [s.valueType as z.ZodType];
  if (s instanceof z.ZodArray) return [s.element as z.ZodType];
  if (s instanceof z.ZodTuple) {
    const item = (s.def.items as z.ZodType[])[Number(key)];
    return item ? [item] : [];
  }
  return objectOptions(s, value).flatMap((o) => {
    const child = (o.shape as Record<string, z.ZodType>)[key];
    return child ? [child] : [];
  });
}

/** The object schemas a value may be under `schema`: a union's options that fit its literals. */
function objectOptions(schema: z.ZodType, value: unknown): z.ZodObject[] {
  const s = unwrap(schema);
  if (s instanceof z.ZodObject) return [s];
  if (s instanceof z.ZodIntersection)
    return [
      ...objectOptions(s.def.left as z.ZodType, value),
      ...objectOptions(s.def.right as z.ZodType, value),
    ];
  if (!(s instanceof z.ZodUnion)) return [];
  const all = (s.options as z.ZodType[]).flatMap((o) => objectOptions(o, value));
  const fitting = all.filter((o) => literalsFit(o, value));
  return fitting.length ? fitting : all;
}

/** Whether every literal- or enum-typed field of an object schema that the value gives has its value. */
function literalsFit(o: z.ZodObject, value: unknown): boolean {
  if (!value || typeof value !== "object") return true;
  return Object.entries(o.shape as Record<string, z.ZodType>).every(([key, field]) => {
    const literal = unwrap(field);
    if (!(key in value)) return true;
    const given = (value as Record<string, z.core.util.Literal>)[key];
    if (literal instanceof z.ZodLiteral) return literal.values.has(given);
    if (literal instanceof z.ZodEnum) return (literal.options as unknown[]).includes(given);
    return true;
  });
}

function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema;
  for (;;) {
    if (
      s instanceof z.ZodOptional ||
      s instanceof z.ZodDefault ||
      s instanceof z.ZodPrefault ||
      s instanceof z.ZodNullable ||
      s instanceof z.ZodReadonly ||
      s instanceof z.ZodCatch ||
      s instanceof z.ZodLazy
    ) {
      s = s.unwrap() as z.ZodType;
    } else if (s instanceof z.ZodPipe) {
      // What is written is the pipe's input (the experiment before its arms are expanded), or
      // its output after a preprocessing step.
      s = (s.in instanceof z.ZodTransform ? s.out : s.in) as z.ZodType;
    } else return s;
  }
}

/**
 * For a value that matches no option of a union, the problem of the option it got furthest into
 * (the deepest issue path): `derive.transform: invalid option` rather than "invalid input".
 */
function deepestIssue(issue: z.core.$ZodIssue): z.core.$ZodIssue {
  if (issue.code !== "invalid_union" || !issue.errors.length) return issue;
  let best: z.core.$ZodIssue | undefined;
  for (const option of issue.errors)
    for (const inner of option) if (!best || inner.path.length > best.path.length) best = inner;
  if (!best || best.path.length === 0) return issue;
  return deepestIssue({ ...best, path: [...issue.path, ...best.path] });
}
