import { LineCounter, parseDocument } from "yaml";
import { z } from "zod";
import { SpecsciError } from "./errors.js";

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
): z.infer<S> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    const err = doc.errors[0];
    const pos = err ? lineCounter.linePos(err.pos[0]) : undefined;
    const where = pos ? `${file}:${pos.line}:${pos.col}` : file;
    throw new SpecsciError(`${where}: invalid YAML: ${err?.message.split("\n")[0]}`);
  }
  const result = schema.safeParse(doc.toJS() ?? {});
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
      ? `unknown setting (known: ${knownKeys(schema, path.slice(0, -1)).join(", ")})`
      : issue.code === "invalid_key"
        ? (issue.issues[0]?.message ?? issue.message)
        : issue.message;
  throw new SpecsciError(`${where}: ${setting}: ${problem}`, hint ? { hint } : {});
}

function findKeyRange(doc: ReturnType<typeof parseDocument>, path: string[]): number | undefined {
  // For unknown keys the value node may be null; point at the key itself instead.
  const parent = path.length > 1 ? doc.getIn(path.slice(0, -1), true) : doc.contents;
  const items = (parent as { items?: { key?: { value?: unknown; range?: number[] } }[] })?.items;
  const key = items?.find((p) => p.key?.value === path[path.length - 1])?.key;
  return key?.range?.[0];
}

function knownKeys(root: z.ZodType, path: string[]): string[] {
  let schema: z.ZodType = root;
  for (const part of path) {
    const unwrapped = unwrap(schema);
    if (unwrapped instanceof z.ZodObject) {
      schema = (unwrapped.shape as Record<string, z.ZodType>)[part] ?? z.never();
    } else if (unwrapped instanceof z.ZodRecord) {
      schema = unwrapped.valueType as z.ZodType;
    } else if (unwrapped instanceof z.ZodArray) {
      schema = unwrapped.element as z.ZodType;
    }
  }
  const obj = unwrap(schema);
  return obj instanceof z.ZodObject ? Object.keys(obj.shape) : [];
}

function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema;
  for (;;) {
    if (s instanceof z.ZodOptional || s instanceof z.ZodDefault || s instanceof z.ZodPrefault) {
      s = s.unwrap() as z.ZodType;
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
