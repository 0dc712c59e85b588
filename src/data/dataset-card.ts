/**
 * Hugging Face dataset cards for the data directories: `README.md` with the YAML front matter the
 * Hub and `datasets.load_dataset` read (configs with their files per split, `dataset_info` with
 * each config's features, licence, language, task and size categories, tags) plus specsci's
 * provenance, then a Markdown body the writer supplies. Features are inferred from the very
 * records written, so the card cannot drift from the files.
 */
import { stringify } from "yaml";
import { SpecsciError } from "../core/errors.js";

/**
 * The licence a card declares when the recipe sets none. specsci cannot know the terms of the
 * spec's text or of the generator models' outputs, so it claims none: the Hub's `unknown`.
 */
export const DEFAULT_LICENSE = "unknown";

/** A JSON value's type as a dataset feature: a scalar, a list of one type, or a struct. */
export type FeatureType =
  | { kind: "value"; dtype: "string" | "int64" | "float64" | "bool" | "null" }
  | { kind: "list"; of: FeatureType }
  | { kind: "struct"; fields: Map<string, FeatureType> };

const NULL: FeatureType = { kind: "value", dtype: "null" };

/** The type of one JSON value (as `JSON.stringify` writes it: undefined members are absent). */
export function typeOf(v: unknown, path: string): FeatureType {
  if (v === null || v === undefined) return NULL;
  if (typeof v === "string") return { kind: "value", dtype: "string" };
  if (typeof v === "boolean") return { kind: "value", dtype: "bool" };
  if (typeof v === "number")
    return { kind: "value", dtype: Number.isInteger(v) ? "int64" : "float64" };
  if (Array.isArray(v))
    return { kind: "list", of: v.reduce((t, x) => merge(t, typeOf(x, `${path}[]`), path), NULL) };
  if (typeof v === "object") return structOf(v as Record<string, unknown>, path);
  throw new SpecsciError(`${path}: a ${typeof v} has no dataset feature type`);
}

function structOf(o: Record<string, unknown>, path: string): FeatureType {
  const fields = new Map<string, FeatureType>();
  for (const [k, x] of Object.entries(o))
    if (x !== undefined) fields.set(k, typeOf(x, path ? `${path}.${k}` : k));
  return { kind: "struct", fields };
}

/**
 * The one type that holds values of both: null joins anything (Arrow columns are nullable),
 * an integer widens to a float, lists merge their items and structs their fields. Anything else
 * is a column no Arrow schema can hold, which is a bug in the writer, so it throws.
 */
export function merge(a: FeatureType, b: FeatureType, path: string): FeatureType {
  if (a.kind === "value" && a.dtype === "null") return b;
  if (b.kind === "value" && b.dtype === "null") return a;
  if (a.kind === "value" && b.kind === "value") {
    if (a.dtype === b.dtype) return a;
    const numbers = new Set(["int64", "float64"]);
    if (numbers.has(a.dtype) && numbers.has(b.dtype)) return { kind: "value", dtype: "float64" };
  }
  if (a.kind === "list" && b.kind === "list")
    return { kind: "list", of: merge(a.of, b.of, `${path}[]`) };
  if (a.kind === "struct" && b.kind === "struct") {
    const fields = new Map(a.fields);
    for (const [k, t] of b.fields) {
      const had = fields.get(k);
      fields.set(k, had ? merge(had, t, `${path}.${k}`) : t);
    }
    return { kind: "struct", fields };
  }
  throw new SpecsciError(`${path || "a record"} holds both ${describe(a)} and ${describe(b)}`);
}

const describe = (t: FeatureType) => (t.kind === "value" ? t.dtype : t.kind);

/** The columns of a set of records: every top-level key of any record, in first-seen order. */
export function recordSchema(records: Iterable<unknown>): Map<string, FeatureType> {
  let t: FeatureType = { kind: "struct", fields: new Map() };
  for (const r of records) t = merge(t, typeOf(r, ""), "");
  if (t.kind !== "struct") throw new SpecsciError("a dataset's records must be JSON objects");
  return t.fields;
}

/**
 * The Hub's feature list: `dtype` for a scalar, `struct` for an object, `list` for a list of
 * objects and `sequence` for a list of anything else (the spelling every `datasets` release reads).
 */
export function hubFeatures(fields: Map<string, FeatureType>): Record<string, unknown>[] {
  return [...fields].map(([name, t]) => ({ name, ...hubType(t) }));
}

function hubType(t: FeatureType): Record<string, unknown> {
  if (t.kind === "value") return { dtype: t.dtype };
  if (t.kind === "struct") return { struct: hubFeatures(t.fields) };
  if (t.of.kind === "struct") return { list: hubFeatures(t.of.fields) };
  const inner = hubType(t.of);
  return { sequence: inner.dtype ?? inner };
}

/** The Hub's size bucket for a row count. */
export function sizeCategory(rows: number): string {
  const buckets: [number, string][] = [
    [1e3, "n<1K"],
    [1e4, "1K<n<10K"],
    [1e5, "10K<n<100K"],
    [1e6, "100K<n<1M"],
    [1e7, "1M<n<10M"],
  ];
  return buckets.find(([limit]) => rows < limit)?.[1] ?? "n>10M";
}

/** One loadable view of the directory: its name, and the file of each split with its records. */
export interface CardConfig {
  name: string;
  /** The config `load_dataset` picks when none is named. */
  default?: boolean;
  splits: { split: string; path: string; records: readonly unknown[] }[];
}

export interface CardMetadata {
  prettyName: string;
  license: string;
  /** ISO 639-1 codes; empty when the language is not known. */
  language: string[];
  taskCategories: string[];
  tags: string[];
  configs: CardConfig[];
  /** specsci's own record of where the data came from (not a Hub field; the Hub keeps it). */
  provenance: Record<string, unknown>;
}

/** The YAML front matter as an object, in the Hub's field names. */
export function cardMetadata(m: CardMetadata): Record<string, unknown> {
  const rows = Math.max(0, ...m.configs.flatMap((c) => c.splits.map((s) => s.records.length)));
  return {
    pretty_name: m.prettyName,
    license: m.license,
    ...(m.language.length ? { language: m.language } : {}),
    task_categories: m.taskCategories,
    size_categories: [sizeCategory(rows)],
    tags: m.tags,
    configs: m.configs.map((c) => ({
      config_name: c.name,
      ...(c.default ? { default: true } : {}),
      data_files: c.splits.map((s) => ({ split: s.split, path: s.path })),
    })),
    dataset_info: m.configs.map((c) => ({
      config_name: c.name,
      features: hubFeatures(recordSchema(c.splits.flatMap((s) => s.records))),
      splits: c.splits.map((s) => ({ name: s.split, num_examples: s.records.length })),
    })),
    specsci: m.provenance,
  };
}

/**
 * A whole card: front matter, then the body. The YAML is written for 1.1 readers (the Hub's
 * `huggingface_hub` uses PyYAML), so strings such as the creation time or `off` stay quoted
 * strings rather than becoming timestamps and booleans there.
 */
export function datasetCard(m: CardMetadata, body: string): string {
  return `---\n${stringify(cardMetadata(m), { lineWidth: 0, version: "1.1" })}---\n\n${body}`;
}

/** Model-written names in a Markdown table cell: one line, no table or HTML syntax. */
export const cell = (text: string) =>
  text.replace(/\s+/g, " ").replace(/\|/g, "\\|").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** The card body's field list, from the same schema as its `dataset_info`. */
export function fieldList(fields: Map<string, FeatureType>): string {
  return [...fields].map(([name, t]) => `\`${name}\` (${typeName(t)})`).join(", ");
}

function typeName(t: FeatureType): string {
  if (t.kind === "value") return t.dtype;
  if (t.kind === "list") return `list of ${typeName(t.of)}`;
  return `${[...t.fields.keys()].join(", ")}`;
}

/** The body's section on loading the files and on their licence. */
export function usageSections(configs: CardConfig[], license: string): string {
  const load = configs
    .map((c) =>
      c.splits
        .map((s) => `load_dataset("json", data_files={"${s.split}": "${s.path}"})  # ${c.name}`)
        .join("\n"),
    )
    .join("\n");
  const terms =
    license === DEFAULT_LICENSE
      ? "No licence was chosen when this set was made (`license: unknown`). Before sharing it, set `license:` in the recipe to a Hub licence id you have the right to grant, considering the spec's own terms and the generator models' terms of use."
      : `Declared licence: \`${license}\` (the recipe's \`license:\`). The generator models' terms of use may add conditions.`;
  return `## Loading

From this directory with Hugging Face \`datasets\` (or from the Hub, whose viewer reads the configs above):

\`\`\`python
from datasets import load_dataset
${load}
\`\`\`

## Licence

${terms}
`;
}
