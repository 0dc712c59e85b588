/**
 * A stage's training data: the corpus or chat-set directory named in the plan, checked against
 * the stage's kind, with the file the engine reads, its hash and its token count.
 */

import { createHash } from "node:crypto";
import { createReadStream, existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { SpecsciError } from "../core/errors.js";
import {
  AFT_MANIFEST_FORMAT,
  CORPUS_FILES,
  MANIFEST_FILE,
  MSM_MANIFEST_FORMAT,
  readManifest,
  setFile,
  togetherExport,
} from "../data/manifest.js";
import { PREF_FILES, PREF_MANIFEST_FORMAT } from "../data/pref/output.js";
import type { LoadedPlan, StageSpec } from "./plan.js";
import { readsKtoLines } from "./preference.js";

export interface StageData {
  dir: string;
  /** The file the engine trains on: `{"text"}` lines (midtraining) or `{"messages"}` lines (AFT). */
  file: string;
  format: "text" | "messages" | "pairs";
  sha256: string;
  examples: number;
  /** Tokens as the data's manifest counted them (the trained model's tokenizer or template). */
  tokens: number;
  manifestFormat: string;
  /** For a chat set: the chat template its examples were formatted and counted with. */
  chatTemplate?: string;
}

const FORMATS = {
  midtraining: MSM_MANIFEST_FORMAT,
  aft: AFT_MANIFEST_FORMAT,
  preference: PREF_MANIFEST_FORMAT,
} as const;

const NEEDS = {
  midtraining: ["an MSM corpus", "point data: at a corpus written by `specsci msm generate`"],
  aft: [
    "an AFT chat set",
    "point data: at a chat set written by `specsci aft generate` or `specsci aft mix`",
  ],
  preference: ["a preference set", "point data: at a preference set written by buildPrefSet"],
} as const;

/** The file a stage trains on and the one its tokens are counted on, in the data's directory. */
function trainedFiles(stage: StageSpec, dir: string): [string, string] {
  if (stage.kind === "midtraining")
    return [join(dir, CORPUS_FILES.text), join(dir, CORPUS_FILES.dataset)];
  if (stage.kind === "preference") {
    const f = join(dir, readsKtoLines(stage) ? PREF_FILES.kto : PREF_FILES.pairs);
    return [f, f];
  }
  return [join(dir, togetherExport(setFile(stage.set))), join(dir, setFile(stage.set))];
}

export async function stageData(stage: StageSpec, planDir: string): Promise<StageData> {
  const dir = resolve(planDir, stage.data);
  const manifestFile = join(dir, MANIFEST_FILE);
  const [needs, hint] = NEEDS[stage.kind];
  if (!existsSync(manifestFile))
    throw new SpecsciError(`stage ${stage.name}: ${manifestFile} does not exist`, { hint });
  const { manifest } = readManifest(dir, "data manifest", hint);
  const format = typeof manifest.format === "string" ? manifest.format : undefined;
  if (format !== FORMATS[stage.kind])
    throw new SpecsciError(
      `stage ${stage.name} (${stage.kind}) needs ${needs}, and ${dir} is ${format ?? "not one"}`,
    );
  // The engine trains on the export; tokens are counted on the lines that carry their count.
  const [file, counted] = trainedFiles(stage, dir);
  const { examples, tokens } = await countTokens(counted);
  const template =
    manifest.chat_template ?? (manifest.config as { chat_template?: unknown })?.chat_template;
  return {
    dir,
    file,
    format:
      stage.kind === "midtraining" ? "text" : stage.kind === "preference" ? "pairs" : "messages",
    sha256: await sha256File(file),
    examples,
    tokens,
    manifestFormat: format,
    ...(stage.kind === "aft" && typeof template === "string" ? { chatTemplate: template } : {}),
  };
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** Lines and tokens (`token_count` of each line; lines without one, from mixes, at chars / 4). */
async function countTokens(file: string): Promise<{ examples: number; tokens: number }> {
  let examples = 0;
  let tokens = 0;
  for await (const line of createInterface({ input: createReadStream(file) })) {
    if (!line.trim()) continue;
    examples++;
    const m = /"token_count":(\d+)/.exec(line);
    tokens += m ? Number(m[1]) : Math.ceil(line.length / 4);
  }
  return { examples, tokens };
}

/** Every stage's data, by stage name. */
export async function resolveData(loaded: LoadedPlan): Promise<Map<string, StageData>> {
  const data = new Map<string, StageData>();
  for (const s of loaded.plan.stages) data.set(s.name, await stageData(s, loaded.dir));
  return data;
}
