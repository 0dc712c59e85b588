/**
 * The trained-model registry: every trained (or registered) model is an artifact of kind `model`
 * in the run store, keyed `model:<run>:<stage>`, holding its whole recipe. Training writes it; the
 * experiment planner, the serving chain and `specsci train` read it, all through here, so a record
 * that is not one (damaged, or written by something else) is refused by name instead of being
 * taken apart field by field somewhere downstream.
 */
import { z } from "zod";
import { SpecsciError } from "../core/errors.js";
import { hashValue } from "../core/hash.js";
import type { Store } from "../store/index.js";
import type { EngineVersions } from "./versions.js";

export interface ModelArtifact {
  id: string;
  run: string;
  plan: string;
  base_model: string;
  /** What the weights sit on when served: the base model, or an earlier stage merged into it. */
  served_base?: string;
  stage: string;
  stages: { name: string; kind: string; data: string; data_sha256: string; tokens: number }[];
  seed: number;
  engine: string;
  hyperparameters: unknown;
  output_dir: string;
  adapter: boolean;
  configs: Record<string, string>;
  specsci: unknown;
  /** The Python packages that trained it (axolotl, transformers, peft, torch…), when known. */
  engine_versions?: EngineVersions;
  /** The experiment arm whose plan made it, and the fingerprint of that plan's inputs. */
  origin?: { experiment: string; arm: string; fingerprint: string };
}

export const MODEL_KIND = "model";

/** The run that trains one seed of a plan (`train-<plan>-seed<n>`). */
export const trainRunIdOf = (planName: string, seed: number) => `train-${planName}-seed${seed}`;
export const modelKey = (runId: string, stage: string) => `model:${runId}:${stage}`;
/** A model trained elsewhere and registered by `specsci train register`. */
export const externalModelKey = (name: string) => `model:external:${name}`;

/**
 * What every writer (axolotl, Together, `train register`) has always stored. Loose: fields a later
 * version adds are kept, so a record read and written back is the record that was stored.
 */
const ModelArtifactSchema = z.looseObject({
  id: z.string().min(1),
  run: z.string(),
  plan: z.string(),
  base_model: z.string(),
  served_base: z.string().optional(),
  stage: z.string(),
  stages: z.array(
    z.looseObject({
      name: z.string(),
      kind: z.string(),
      data: z.string(),
      data_sha256: z.string(),
      tokens: z.number(),
    }),
  ),
  seed: z.number().int(),
  engine: z.string().min(1),
  hyperparameters: z.unknown(),
  output_dir: z.string(),
  adapter: z.boolean(),
  configs: z.record(z.string(), z.string()),
  specsci: z.unknown(),
  engine_versions: z.unknown().optional(),
  origin: z
    .looseObject({ experiment: z.string(), arm: z.string(), fingerprint: z.string() })
    .optional(),
});

/** A stored model record, checked; errors name the record and say how to replace it. */
export function parseModelArtifact(content: string, key: string): ModelArtifact {
  const hint =
    "train or register it again (`specsci train run PLAN`, `specsci train register`): that writes a new record";
  let raw: unknown;
  try {
    raw = JSON.parse(content);
  } catch (e) {
    throw new SpecsciError(`trained-model record ${key} is not JSON: ${(e as Error).message}`, {
      hint,
    });
  }
  const r = ModelArtifactSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new SpecsciError(
      `trained-model record ${key} is not one specsci wrote (${issue?.path.join(".") || "record"}: ${issue?.message})`,
      { hint },
    );
  }
  // The record as stored (not zod's copy of it): printed or written back, it stays byte-identical.
  return raw as ModelArtifact;
}

/** The trained model under `key`, or undefined when none is registered there. */
export function trainedModel(store: Store, key: string): ModelArtifact | undefined {
  const a = store.artifacts.get(key);
  return a ? parseModelArtifact(a.content, key) : undefined;
}

/** Every registered model, oldest first. */
export function trainedModels(store: Store): ModelArtifact[] {
  return store.artifacts.list(MODEL_KIND).map((a) => parseModelArtifact(a.content, a.key));
}

/** Registers (or replaces) the model under `key`; `meta` is what `artifacts` lists it by. */
export function registerModel(store: Store, key: string, a: ModelArtifact, meta: unknown): void {
  store.artifacts.put(key, MODEL_KIND, JSON.stringify(a), meta);
}

/**
 * What identifies a trained model's weights: its base, data, configs, hyperparameters and seed
 * (not when it was made). A model retrained on other data under the same name differs here, so
 * evaluations and cached answers of the old one are not taken for the new one's.
 */
export const weightsOf = (a: ModelArtifact) =>
  hashValue({
    base: a.base_model,
    engine: a.engine,
    stages: (a.stages ?? []).map((s) => [s.name, s.kind, s.data_sha256]),
    configs: a.configs,
    hyperparameters: a.hyperparameters,
    seed: a.seed,
    output: a.output_dir,
  }).slice(0, 16);
