/**
 * The data directories other modules read: an MSM corpus (`specsci msm generate`) and an AFT chat
 * set (`specsci aft generate`, `aft mix`), each a `manifest.json` naming its format plus files at
 * fixed places. The writers here and the readers in train/ and experiment/ share these names, so
 * a file moved on one side cannot be looked for in the old place on the other.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { SpecsciError } from "../core/errors.js";
import { readUserFile } from "../core/fs.js";

export const MANIFEST_FILE = "manifest.json";
/** The dataset card beside the manifest. */
export const CARD_FILE = "README.md";

export const MSM_MANIFEST_FORMAT = "specsci-msm-corpus/1";
export const AFT_MANIFEST_FORMAT = "specsci-aft-chatset/1";

/** A corpus directory's files, relative to it; its manifest lists them under `files`. */
export const CORPUS_FILES = {
  /** Text plus provenance on every line, in the corpus seed's shuffle. */
  dataset: "dataset.jsonl",
  /** `{"text"}` lines: what completion training reads. */
  text: "exports/text.jsonl",
  /** The axolotl `datasets:` entry for `text`. */
  axolotl: "exports/axolotl.yaml",
  duplicates: "duplicates.jsonl",
} as const;

/** A chat set's two sets: the same examples with and without the model's reasoning. */
export const SET_FILES = { reasoning: "reasoning.jsonl", plain: "no-reasoning.jsonl" } as const;

/** The set file a training stage names by its stem (`set: reasoning` or `set: no-reasoning`). */
export const setFile = (stem: "reasoning" | "no-reasoning") =>
  stem === "reasoning" ? SET_FILES.reasoning : SET_FILES.plain;

/** A set's `{"messages"}` lines (Together's conversational format, and TRL's), relative to the set. */
export const togetherExport = (file: string) => `exports/together-${file}`;

/** A set's axolotl `datasets:` entry (chat_template, trained on the assistant turns). */
export const axolotlExport = (file: string) => `exports/axolotl-${file.replace(".jsonl", ".yaml")}`;

/**
 * A data directory's manifest, parsed (its format is the caller's to check); a missing or
 * unreadable file and one that is not a JSON object are errors naming the file, with `hint`
 * saying what belongs there.
 */
export function readManifest(
  dir: string,
  what: string,
  hint: string,
): { file: string; manifest: Record<string, unknown> } {
  const file = join(dir, MANIFEST_FILE);
  const text = readUserFile(file, what, { hint });
  let manifest: unknown;
  try {
    manifest = JSON.parse(text);
  } catch (e) {
    throw new SpecsciError(`${file} is not JSON: ${(e as Error).message}`, { hint });
  }
  if (!isObject(manifest))
    throw new SpecsciError(`${file} is not a manifest: it holds no JSON object`, { hint });
  return { file, manifest };
}

/** A data directory's manifest when it has a readable one (a directory still to make has none). */
export function writtenManifest(dir: string): Record<string, unknown> | undefined {
  try {
    const manifest: unknown = JSON.parse(readFileSync(join(dir, MANIFEST_FILE), "utf8"));
    return isObject(manifest) ? manifest : undefined;
  } catch {
    return undefined;
  }
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
