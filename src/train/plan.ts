import { dirname, resolve } from "node:path";
import { z } from "zod";
import { SpecsciError } from "../core/errors.js";
import { readUserFile } from "../core/fs.js";
import { parseYamlWithSchema } from "../core/yaml-schema.js";
import { GrpoReward } from "./grpo.js";
import { checkPreferenceStages, PREFERENCE_METHODS } from "./preference.js";

const name = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_.+-]*$/, "use lower-case letters, digits, '-', '_', '.' or '+'");

const SLURM_WORD = /^[\w.,:=+-]+$/;
const SLURM_HINT = "letters, digits and . _ , : = + - only";

export const Hyperparameters = z.strictObject({
  /** LoRA on all attention and MLP projections unless `full_finetune`. */
  full_finetune: z.boolean().default(false),
  lora_r: z.number().int().positive().default(64),
  lora_alpha: z.number().int().positive().default(128),
  lora_dropout: z.number().min(0).max(1).default(0),
  epochs: z.number().positive().default(1),
  learning_rate: z.number().positive().default(1e-4),
  lr_scheduler: z.enum(["cosine", "linear", "constant"]).default("cosine"),
  warmup_ratio: z.number().min(0).max(1).default(0.05),
  weight_decay: z.number().min(0).default(0.01),
  optimizer: z.enum(["adamw_torch", "adamw_torch_fused", "adamw_8bit"]).default("adamw_torch"),
  sequence_len: z.number().int().positive().default(4096),
  micro_batch_size: z.number().int().positive().default(1),
  gradient_accumulation_steps: z.number().int().positive().default(8),
  sample_packing: z.boolean().default(true),
  save_steps: z.number().int().positive().default(200),
});
export type Hyperparameters = z.infer<typeof Hyperparameters>;

/**
 * A stage's overrides: the same fields without defaults. (`partial()` of the schema above would
 * keep its defaults, and every stage override would then reset the plan's values.)
 */
export const HyperparameterOverrides = z.strictObject(
  Object.fromEntries(
    Object.entries(Hyperparameters.shape).map(([k, v]) => [
      k,
      (v as z.ZodDefault<z.ZodType>).unwrap().optional(),
    ]),
  ) as { [K in keyof Hyperparameters]: z.ZodOptional<z.ZodType<Hyperparameters[K]>> },
);

export const Hardware = z.strictObject({
  gpus_per_node: z.number().int().positive().default(1),
  nodes: z.number().int().positive().default(1),
  /** How several GPUs share the model. */
  distributed: z.enum(["ddp", "fsdp", "deepspeed-zero3"]).default("fsdp"),
  /** For the estimate in `specsci train plan`: trained tokens per GPU per second. */
  tokens_per_gpu_second: z.number().positive().default(2500),
  /** Write a Slurm batch script (submitted with `specsci train run --slurm`). */
  slurm: z
    .strictObject({
      // Checked: these go into #SBATCH lines of a shell script.
      partition: z.string().regex(SLURM_WORD, SLURM_HINT).optional(),
      account: z.string().regex(SLURM_WORD, SLURM_HINT).optional(),
      time: z
        .string()
        .regex(/^[\d:-]+$/, "a Slurm time such as 24:00:00 or 1-12:00:00")
        .default("24:00:00"),
      gres: z.string().regex(SLURM_WORD, SLURM_HINT).optional(),
    })
    .optional(),
});

const Stage = z.strictObject({
  name,
  /**
   * `midtraining`: plain next-token prediction on an MSM corpus; `aft`: chat SFT on assistant
   * turns; `preference`: preference optimisation (`rl`) on a preference set (src/train/preference.ts).
   */
  kind: z.enum(["midtraining", "aft", "preference"]),
  /** A corpus or chat-set directory (with its manifest.json), relative to this file. */
  data: z.string().min(1),
  /** For AFT: which of the two chat sets. */
  set: z.enum(["reasoning", "no-reasoning"]).default("reasoning"),
  /** How a stage starts from the one before: continue its LoRA adapter (the paper), a fresh adapter on the merged weights, or its full weights. */
  from_previous: z.enum(["adapter", "fresh-adapter"]).default("adapter"),
  /** For a preference stage: the method (axolotl's `rl`). */
  rl: z.enum(PREFERENCE_METHODS).optional(),
  /** For a preference stage: DPO/IPO/KTO's beta, or ORPO's alpha; absent, 0.1. */
  beta: z.number().positive().optional(),
  /** For a preference stage: stop after this many optimiser steps (axolotl's `max_steps`). */
  steps: z.number().int().positive().optional(),
  /** For a GRPO stage: its reward (src/train/grpo.ts). */
  reward: GrpoReward.optional(),
  /** Overrides of the plan's hyperparameters for this stage (e.g. sequence_len 8192 for long chats). */
  hyperparameters: HyperparameterOverrides.default({}),
});
export type StageSpec = z.infer<typeof Stage>;

export const TrainPlanSchema = z.strictObject({
  name,
  /** A Hugging Face model id or a local path. */
  base_model: z.string().min(1),
  /**
   * The base's family (`specsci train bases`) where its id does not say it (a local path, a
   * renamed copy): its chat template and LoRA targets go into the configs.
   */
  base_family: z.string().min(1).optional(),
  engine: z.enum(["axolotl", "together"]).default("axolotl"),
  /** One training run per seed; several seeds per arm are the norm. */
  seeds: z.array(z.number().int().min(0)).min(1).default([1]),
  stages: z.array(Stage).min(1),
  hyperparameters: Hyperparameters.prefault({}),
  hardware: Hardware.prefault({}),
  /**
   * Start from a stage of another plan, trained first with the same seed: e.g. one MSM run shared
   * by every AFT that continues it (the cells of an MSM × AFT grid). The path is relative to this file.
   */
  start_from: z.strictObject({ plan: z.string().min(1), stage: name }).optional(),
  /** Where runs write configs, logs and checkpoints; relative to this file. */
  output_dir: z.string().default("runs"),
  /** Who wrote this plan from what (an experiment's arm): recorded with the models it makes. */
  origin: z
    .strictObject({ experiment: z.string(), arm: z.string(), fingerprint: z.string() })
    .optional(),
  wandb: z.strictObject({ project: z.string().min(1), entity: z.string().optional() }).optional(),
});
export type TrainPlan = z.infer<typeof TrainPlanSchema>;

export interface LoadedPlan {
  plan: TrainPlan;
  file: string;
  /** The plan file's directory: data and output paths are relative to it. */
  dir: string;
}

export function parseTrainPlan(text: string, file: string): LoadedPlan {
  const plan = parseYamlWithSchema(text, file, TrainPlanSchema, "see examples/recipes/train.yaml");
  const names = new Set<string>();
  for (const s of plan.stages) {
    if (names.has(s.name)) throw new SpecsciError(`${file}: two stages are named "${s.name}"`);
    names.add(s.name);
  }
  checkPreferenceStages(plan, file);
  return { plan, file, dir: dirname(resolve(file)) };
}

export function loadTrainPlan(file: string, from?: string): LoadedPlan {
  const text = readUserFile(file, "training plan", { from });
  return parseTrainPlan(text, file);
}

/** A stage's hyperparameters: the plan's, with the stage's overrides. */
export function stageHyperparameters(plan: TrainPlan, stage: StageSpec): Hyperparameters {
  const overrides = Object.fromEntries(
    Object.entries(stage.hyperparameters).filter(([, v]) => v !== undefined),
  );
  return { ...plan.hyperparameters, ...overrides } as Hyperparameters;
}
