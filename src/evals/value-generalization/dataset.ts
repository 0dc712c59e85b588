/**
 * The value-generalization pairs: JSON Lines files, one pair per line (a situation, the response
 * that acts on the spec's values and the one that breaks them in a tempting way). The shipped set
 * is every `pairs-*.jsonl` under `scenarios/value-generalization/`; a user's own set is a file or
 * a folder of `.jsonl` files in the same format. Every line is validated: a bad one is an error
 * naming its file and line.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { SpecsciError } from "../../core/errors.js";

export const PAIRS_DIR = fileURLToPath(
  new URL("../../../scenarios/value-generalization/", import.meta.url),
);

export const RULES = ["SP1", "SP2", "SP3", "GP1", "GP2"] as const;
export type Rule = (typeof RULES)[number];
export const TEMPTATIONS = [
  "self-preservation",
  "goal-guarding",
  "deception",
  "ends-justify-means",
  "overreach",
] as const;
export type Temptation = (typeof TEMPTATIONS)[number];
export const SPLITS = ["dev", "test"] as const;

const text = z.string().trim().min(1, "must not be empty");

export const PairSchema = z.strictObject({
  /** Part of the sample ids (`<id>:ab`), so it keeps to characters safe in ids and paths. */
  id: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "must be letters, digits, '.', '_' or '-' (vg-sp1-001)"),
  rule: z.enum(RULES),
  temptation: z.enum(TEMPTATIONS),
  domain: text,
  split: z.enum(SPLITS),
  situation: text,
  aligned: text,
  misaligned: text,
});
export type Pair = z.infer<typeof PairSchema>;

/** A pair and where it was read from (for messages). */
export interface LoadedPair extends Pair {
  file: string;
  line: number;
}

/** The shipped pairs files, in name order. */
export function shippedFiles(dir = PAIRS_DIR): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => /^pairs-.+\.jsonl$/.test(f))
    .sort()
    .map((f) => join(dir, f));
}

/**
 * The files of a user's own set: the file itself, or every `.jsonl` in a folder. `setting` names
 * where the path came from, for the message when it is wrong.
 */
export function userFiles(path: string, setting: string): string[] {
  if (!existsSync(path))
    throw new SpecsciError(`${setting}: no file or folder ${path}`, {
      hint: "give a .jsonl file of pairs, or a folder of them, relative to the experiment file (or the current folder)",
    });
  if (!statSync(path).isDirectory()) return [path];
  const files = readdirSync(path)
    .filter((f) => f.endsWith(".jsonl"))
    .sort()
    .map((f) => join(path, f));
  if (!files.length)
    throw new SpecsciError(`${setting}: the folder ${path} has no .jsonl files of pairs`);
  return files;
}

/** Reads and validates every line of the files; ids must be unique across all of them. */
export function loadPairs(files: string[]): LoadedPair[] {
  const pairs: LoadedPair[] = [];
  const seen = new Map<string, string>();
  for (const file of files) {
    for (const pair of readPairsFile(file)) {
      const first = seen.get(pair.id);
      if (first)
        throw new SpecsciError(
          `${file}:${pair.line}: id ${pair.id} is used twice (first at ${first})`,
          { hint: "give every pair its own id" },
        );
      seen.set(pair.id, `${basename(file)}:${pair.line}`);
      pairs.push(pair);
    }
  }
  return pairs;
}

function readPairsFile(file: string): LoadedPair[] {
  const lines = readFileSync(file, "utf8").split(/\r?\n/);
  const pairs: LoadedPair[] = [];
  lines.forEach((raw, i) => {
    if (!raw.trim()) return;
    pairs.push({ ...parseLine(raw, file, i + 1), file, line: i + 1 });
  });
  return pairs;
}

function parseLine(raw: string, file: string, line: number): Pair {
  const where = `${file}:${line}`;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (e) {
    throw new SpecsciError(`${where}: not valid JSON: ${(e as Error).message}`, {
      hint: "each line holds one JSON object (JSON Lines)",
    });
  }
  const result = PairSchema.safeParse(value);
  if (result.success) return result.data;
  throw new SpecsciError(`${where}: ${describeIssue(result.error.issues[0])}`, {
    hint: "see scenarios/value-generalization/README.md for the fields of a pair",
  });
}

function describeIssue(issue: z.core.$ZodIssue | undefined): string {
  if (!issue) return "invalid pair";
  if (issue.code === "unrecognized_keys")
    return `unknown field ${issue.keys.join(", ")} (fields: ${Object.keys(PairSchema.shape).join(", ")})`;
  const field = issue.path.length ? issue.path.join(".") : "(line)";
  return `${field}: ${issue.message}`;
}
