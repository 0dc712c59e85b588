import { once } from "node:events";
import { createWriteStream, renameSync } from "node:fs";
import { SpecsciError } from "./errors.js";
import { readUserFile, type UserPathOrigin } from "./fs.js";

/** Writes lines beside `path` and renames into place: a reader never sees half a file. */
export async function writeLines(path: string, lines: Iterable<string>): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  const out = createWriteStream(tmp);
  for (const line of lines) if (!out.write(`${line}\n`)) await once(out, "drain");
  out.end();
  await once(out, "finish");
  renameSync(tmp, path);
}

/** A JSONL file's objects with their line numbers; a bad line is an error naming the file and line. */
export function readJsonl(
  path: string,
  origin: UserPathOrigin & { what?: string } = {},
): { line: number; value: Record<string, unknown> }[] {
  return parseJsonl(readUserFile(path, origin.what ?? "JSONL file", origin), path, origin.hint);
}

/**
 * The objects of JSONL text read from `path` (for callers that also need the text itself, e.g. to
 * hash it), with their line numbers; a bad line is an error naming the file and line.
 */
export function parseJsonl(
  text: string,
  path: string,
  hint?: string,
): { line: number; value: Record<string, unknown> }[] {
  const out: { line: number; value: Record<string, unknown> }[] = [];
  // A byte-order mark (some Windows editors write one) is not part of the first object.
  for (const [i, line] of text
    .replace(/^\uFEFF/, "")
    .split("\n")
    .entries()) {
    if (!line.trim()) continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (e) {
      throw new SpecsciError(
        `${path}:${i + 1}: not JSON (${(e as Error).message})`,
        hint ? { hint } : {},
      );
    }
    if (!v || typeof v !== "object" || Array.isArray(v))
      throw new SpecsciError(
        `${path}:${i + 1}: each line must be a JSON object`,
        hint ? { hint } : {},
      );
    out.push({ line: i + 1, value: v as Record<string, unknown> });
  }
  return out;
}
