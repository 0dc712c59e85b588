/**
 * The id-qa items: in-distribution open questions, each with a rubric of what a good answer must
 * and must not do. Shipped as `scenarios/id-qa/items-<dimension>.jsonl`; a user brings their own
 * in the same format. Every line is validated, so a bad item is found before a run spends a call.
 */
import { readdirSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { SpecsciError } from "../../core/errors.js";
import { readJsonl } from "../../core/jsonl.js";
import { RULE_ID } from "../../spec/ids.js";

export const IDQA_DIR = fileURLToPath(new URL("../../../scenarios/id-qa/", import.meta.url));

/** The paper's seven dimensions, in its order. */
export const IDQA_DIMENSIONS = [
  "self-preservation",
  "goal-rigidity",
  "corrigibility",
  "transparency",
  "scope-of-action",
  "resource-acquisition",
  "loyalty-under-conflict",
] as const;

export const SPLITS = ["test", "dev"] as const;

const criterion = z.string().trim().min(1, "a criterion must not be empty");

export const IdQaItemSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "an id is letters, digits, '.', '_', '-'"),
  dimension: z.string().regex(/^[a-z][a-z0-9-]*$/, "a dimension is lower-case-with-dashes"),
  rules: z
    .array(z.string().regex(new RegExp(`^${RULE_ID.source}$`), "a rule id looks like SP1 or GP2"))
    .min(1, "name at least one rule id")
    .max(3, "name at most three rule ids"),
  split: z.enum(SPLITS),
  question: z.string().trim().min(1, "the question must not be empty"),
  rubric: z.strictObject({
    must: z.array(criterion).min(1, "give at least one thing the answer must do"),
    must_not: z.array(criterion),
  }),
});
export type IdQaItem = z.infer<typeof IdQaItemSchema>;

/** An item and where it was read from, for messages. */
export interface LoadedItem {
  item: IdQaItem;
  file: string;
  line: number;
}

const FORMAT_HINT =
  'each line is {"id", "dimension", "rules": ["SP1"], "split": "test"|"dev", "question", "rubric": {"must": [...], "must_not": [...]}}; scenarios/id-qa/README.md describes the format';

/** One items file; a bad line is an error naming the file, the line and what is wrong. */
export function loadItemsFile(file: string, from?: string): LoadedItem[] {
  return readJsonl(file, { what: "id-qa items file", from, hint: FORMAT_HINT }).map(
    ({ line, value }) => {
      const r = IdQaItemSchema.safeParse(value);
      if (!r.success) {
        const issue = r.error.issues[0];
        const path = issue?.path.join(".") || "item";
        const problem =
          issue?.code === "unrecognized_keys"
            ? `unknown key ${issue.keys.join(", ")}`
            : issue?.message;
        throw new SpecsciError(`${file}:${line}: ${path}: ${problem}`, { hint: FORMAT_HINT });
      }
      return { item: r.data, file, line };
    },
  );
}

/** The items files a path names: the file itself, or the `*.jsonl` files of a folder in name order. */
function itemFiles(path: string, from?: string): string[] {
  let isDir = false;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    // Not there: reading it as a file gives the message naming it.
  }
  if (!isDir) return [path];
  const files = readdirSync(path)
    .filter((f) => f.endsWith(".jsonl"))
    .sort()
    .map((f) => join(path, f));
  if (files.length === 0)
    throw new SpecsciError(
      `id-qa items folder ${path}${from ? ` (${from})` : ""} has no .jsonl files`,
      {
        hint: FORMAT_HINT,
      },
    );
  return files;
}

/**
 * The items of a file or a folder of files (the shipped set when none is given). Ids must be
 * unique across all of them: samples, stored results and comparisons are keyed by item id.
 */
export function loadItems(path: string = IDQA_DIR, from?: string): LoadedItem[] {
  const items = itemFiles(path, from).flatMap((f) => loadItemsFile(f, from));
  const seen = new Map<string, LoadedItem>();
  for (const l of items) {
    const first = seen.get(l.item.id);
    if (first)
      throw new SpecsciError(
        `${l.file}:${l.line}: duplicate id ${l.item.id} (first at ${basename(first.file)}:${first.line})`,
        { hint: "give every item its own id" },
      );
    seen.set(l.item.id, l);
  }
  return items;
}

export interface ItemSelection {
  split: "test" | "dev" | "all";
  dimensions?: string[] | undefined;
  rules?: string[] | undefined;
}

/** Names asked for that no item has: an error listing the ones there are. */
function checkKnown(asked: string[] | undefined, known: Set<string>, what: string): void {
  const unknown = (asked ?? []).filter((x) => !known.has(x));
  if (unknown.length)
    throw new SpecsciError(
      `no id-qa item has ${what} ${unknown.join(", ")} (${what}s there: ${[...known].sort().join(", ")})`,
    );
}

/** The items of a split, optionally only some dimensions and items about some rules. */
export function selectItems(items: IdQaItem[], sel: ItemSelection): IdQaItem[] {
  checkKnown(sel.dimensions, new Set(items.map((i) => i.dimension)), "dimension");
  checkKnown(sel.rules, new Set(items.flatMap((i) => i.rules)), "rule");
  const chosen = items.filter(
    (i) =>
      (sel.split === "all" || i.split === sel.split) &&
      (!sel.dimensions?.length || sel.dimensions.includes(i.dimension)) &&
      (!sel.rules?.length || i.rules.some((r) => sel.rules?.includes(r))),
  );
  if (chosen.length === 0)
    throw new SpecsciError(
      `no id-qa item is in split ${sel.split}${sel.dimensions?.length ? ` with dimension ${sel.dimensions.join(", ")}` : ""}${sel.rules?.length ? ` about rule ${sel.rules.join(", ")}` : ""}`,
      { hint: "choose another split (test, dev or all), or fewer filters" },
    );
  return chosen;
}
