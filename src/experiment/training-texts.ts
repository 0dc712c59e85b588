/**
 * The texts a trained arm learned from, read back from its data directories: every string of
 * every MSM document record, AFT chat (both sets, in every base family's template) and preference pair, for checks such as spec-knowledge's
 * contamination flags. Read on demand, file by file; nothing is cached.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { stringsIn } from "../data/contamination.js";
import { SET_FILES } from "../data/manifest.js";
import { PREF_FILES } from "../data/pref/output.js";
import { type Arm, isTrained, type LoadedExperiment, type TrainedArm } from "./config.js";
import { armDataAllBases } from "./training.js";

/** The files of an arm's data that exist: the MSM corpus's records, the AFT chat sets. */
export function armTrainingFiles(loaded: LoadedExperiment, arm: Arm): string[] {
  if (!isTrained(arm)) return [];
  return armDataAllBases(loaded, arm as TrainedArm)
    .flatMap((step) =>
      step.kind === "msm"
        ? [join(step.dir, "dataset.jsonl")]
        : step.kind === "pref"
          ? [join(step.dir, PREF_FILES.pairs)]
          : Object.values(SET_FILES).map((f) => join(step.dir, f)),
    )
    .filter((f) => existsSync(f));
}

/** Every string in the JSONL records of `files`, one file in memory at a time. */
export function* trainingTexts(files: string[]): Generator<string> {
  for (const file of files)
    for (const line of readFileSync(file, "utf8").split("\n")) {
      if (!line.trim()) continue;
      try {
        yield* stringsIn(JSON.parse(line));
      } catch {
        yield line; // a damaged line is still text the model may have seen
      }
    }
}
