/**
 * A stage's training data: the corpus or chat-set directory named in the plan, checked against
 * the stage's kind, with the file the engine reads, its hash and its token count.
 */

import { createHash } from "node:crypto";
import { createReadStream, existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { SpecsciError } from "../core/errors.js";
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
}

const FORMATS = { midtraining: "specsci-msm-corpus/1", aft: "specsci-aft-chatset/1" } as const;

export async function stageData(stage: StageSpec, planDir: string): Promise<StageData> {
  const dir = resolve(planDir, stage.data);
  const manifestFile = join(dir, "manifest.json");
  if (!existsSync(manifestFile))
    throw new SpecsciError(`stage ${stage.name}: ${manifestFile} does not exist`, {
      hint:
        stage.kind === "midtraining"
          ? "point data: at a corpus written by `specsci msm generate`"
          : "point data: at a chat set written by `specsci aft generate` or `specsci aft mix`",
    });
  const manifest = JSON.parse(readFileSync(manifestFile, "utf8")) as { format?: string };
  if (manifest.format !== FORMATS[stage.kind])
    throw new SpecsciError(
      `stage ${stage.name} (${stage.kind}) needs ${stage.kind === "midtraining" ? "an MSM corpus" : "an AFT chat set"}, and ${dir} is ${manifest.format ?? "not one"}`,
    );
  const file =
    stage.kind === "midtraining"
      ? join(dir, "exports", "text.jsonl")
      : join(dir, "exports", `together-${stage.set}.jsonl`);
  const counted = join(dir, stage.kind === "midtraining" ? "dataset.jsonl" : `${stage.set}.jsonl`);
  const { examples, tokens } = await countTokens(counted);
  return {
    dir,
    file,
    format: stage.kind === "midtraining" ? "text" : "messages",
    sha256: await sha256File(file),
    examples,
    tokens,
    manifestFormat: manifest.format,
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
