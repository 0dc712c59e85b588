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
import type { LoadedPlan, StageSpec } from "./plan.js";

export interface StageData {
  dir: string;
  /** The file the engine trains on: `{"text"}` lines (midtraining) or `{"messages"}` lines (AFT). */
  file: string;
  format: "text" | "messages";
  sha256: string;
  examples: number;
  /** Tokens as the data's manifest counted them (the trained model's tokenizer or template). */
  tokens: number;
  manifestFormat: string;
  /** For a chat set: the chat template its examples were formatted and counted with. */
  chatTemplate?: string;
}

const FORMATS = { midtraining: MSM_MANIFEST_FORMAT, aft: AFT_MANIFEST_FORMAT } as const;

export async function stageData(stage: StageSpec, planDir: string): Promise<StageData> {
  const dir = resolve(planDir, stage.data);
  const manifestFile = join(dir, MANIFEST_FILE);
  const hint =
    stage.kind === "midtraining"
      ? "point data: at a corpus written by `specsci msm generate`"
      : "point data: at a chat set written by `specsci aft generate` or `specsci aft mix`";
  if (!existsSync(manifestFile))
    throw new SpecsciError(`stage ${stage.name}: ${manifestFile} does not exist`, { hint });
  const { manifest } = readManifest(dir, "data manifest", hint);
  const format = typeof manifest.format === "string" ? manifest.format : undefined;
  if (format !== FORMATS[stage.kind])
    throw new SpecsciError(
      `stage ${stage.name} (${stage.kind}) needs ${stage.kind === "midtraining" ? "an MSM corpus" : "an AFT chat set"}, and ${dir} is ${format ?? "not one"}`,
    );
  // The engine trains on the export; tokens are counted on the lines that carry their count.
  const [file, counted] =
    stage.kind === "midtraining"
      ? [join(dir, CORPUS_FILES.text), join(dir, CORPUS_FILES.dataset)]
      : [join(dir, togetherExport(setFile(stage.set))), join(dir, setFile(stage.set))];
  const { examples, tokens } = await countTokens(counted);
  const template =
    manifest.chat_template ?? (manifest.config as { chat_template?: unknown })?.chat_template;
  return {
    dir,
    file,
    format: stage.kind === "midtraining" ? "text" : "messages",
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
