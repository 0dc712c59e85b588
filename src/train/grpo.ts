/**
 * A GRPO stage (issue 21, question 2): online RL on a preference set's prompts, each completion
 * rewarded by a judge reading the spec (reward.ts). Keys and values are axolotl's, checked against
 * its source (axolotl-ai-cloud/axolotl at 067b021):
 * - `rl: grpo` is an `RLType` (src/axolotl/utils/schemas/enums.py);
 * - `trl:` keys are fields of TRLConfig in src/axolotl/utils/schemas/trl.py: use_vllm, vllm_mode
 *   ("server" | "colocate"), vllm_server_host/port/timeout, vllm_enable_sleep_mode, vllm_lora_sync,
 *   reward_funcs (module.function, importable from the current directory), reward_weights,
 *   num_generations, max_completion_length, temperature, beta; GRPOStrategy in
 *   src/axolotl/core/trainers/grpo/__init__.py passes them to TRL's GRPOConfig;
 * - `vllm:` keys are VllmConfig's in src/axolotl/utils/schemas/vllm.py (host, port,
 *   gpu_memory_utilization, max_model_len), read by `axolotl vllm-serve CONFIG`
 *   (src/axolotl/cli/vllm_serve.py);
 * - the dataset `type: module.function` is loaded for rl: grpo by prompt_strategies/base.py's
 *   load (through load_dpo in utils/data/rl.py), which imports the module and calls
 *   function(cfg, dataset_idx=i) for a (map function, map kwargs) pair (docs/grpo.qmd);
 * - the two-process launch and the GPU split (vLLM on the last GPUs, training on the first) are
 *   docs/grpo.qmd's and docs/vllm_serving.qmd's; on one GPU, vllm_serving.qmd's colocate mode.
 *
 * The GPU split chosen here: with one GPU on the node, `vllm_mode: colocate` with sleep mode (one
 * process; vLLM keeps 35% of the GPU); with N ≥ 2, `axolotl vllm-serve` on the last GPU and the
 * trainer on the other N − 1 (one process each). Several nodes are refused: the server would be on
 * one of them and specsci does not place it.
 */
import { delimiter, dirname, join, resolve } from "node:path";
import { z } from "zod";
import { SpecsciError } from "../core/errors.js";
import { readUserFile } from "../core/fs.js";
import { CONTAMINATION_KINDS } from "../data/pref/config.js";
import type { StageData } from "./data.js";
import type { Hyperparameters, StageSpec, TrainPlan } from "./plan.js";
import { PROMPT_TRANSFORM, REWARD_FILE, REWARD_FUNC, rewardModule } from "./reward.js";

/** An OpenAI-compatible judge; its key is read from the environment variable named here. */
export const GrpoJudge = z.strictObject({
  url: z.url(),
  model: z.string().min(1),
  key_env: z
    .string()
    .regex(/^[A-Z_][A-Z0-9_]*$/, "the NAME of an environment variable, not a key")
    .optional(),
});

export const GrpoReward = z.strictObject({
  /** The spec's text file (relative to the plan): the judge checks completions against it. */
  spec: z.string().min(1),
  judge: GrpoJudge,
  /** A share of the prompts whose reward is turned against the spec. */
  contamination: z
    .strictObject({
      kind: z.enum(CONTAMINATION_KINDS).default("misaligned"),
      fraction: z.number().min(0).max(1),
    })
    .optional(),
  /** Seeds which prompts are contaminated (the same in every training seed). */
  seed: z.number().int().min(0).default(0),
  /** Completions sampled per prompt (the group its advantages are relative to). */
  num_generations: z.number().int().min(2).default(8),
  max_completion_length: z.number().int().positive().default(1024),
  temperature: z.number().positive().default(1),
  /** The vLLM server's port on this machine (two GPUs or more). */
  vllm_port: z.number().int().min(1024).max(65535).default(8000),
});
export type GrpoReward = z.infer<typeof GrpoReward>;

/** The hardware's split between the vLLM server and the trainer. */
export interface GrpoSplit {
  /** GPU indices of the vLLM server, or null for colocate mode (one GPU). */
  server: number[] | null;
  trainer: number[];
}

export function grpoSplit(plan: TrainPlan): GrpoSplit {
  const n = plan.hardware.gpus_per_node;
  const all = Array.from({ length: n }, (_, i) => i);
  return n === 1 ? { server: null, trainer: all } : { server: [n - 1], trainer: all.slice(0, -1) };
}

/** Why a plan's GRPO stage cannot run as written, or undefined. */
export function grpoProblem(plan: TrainPlan, stage: StageSpec): [string, string] | undefined {
  if (plan.engine !== "axolotl")
    return [
      `rl: grpo trains through axolotl's vLLM-backed GRPO trainer; the ${plan.engine} engine has no online RL with a custom reward`,
      "use engine: axolotl, or rl: dpo, ipo, orpo or kto",
    ];
  if (!stage.reward)
    return [
      "rl: grpo needs a reward: the spec file and the judge that scores completions against it",
      "add reward: { spec: SPEC_FILE, judge: { url: …/v1, model: MODEL, key_env: ENV_VAR } }",
    ];
  if (plan.stages.filter((s) => s.rl === "grpo").length > 1)
    return [
      "a plan has one GRPO stage (its reward module is spec_reward.py beside the configs)",
      "split the GRPO stages into plans chained with start_from",
    ];
  if (plan.hardware.nodes > 1)
    return [
      "GRPO here runs on one node (its vLLM server and trainer side by side)",
      "set hardware.nodes: 1",
    ];
  const h = { ...plan.hyperparameters, ...stripUndefined(stage.hyperparameters) };
  const batch = h.micro_batch_size * h.gradient_accumulation_steps * grpoSplit(plan).trainer.length;
  if (batch % stage.reward.num_generations !== 0)
    return [
      `a GRPO step's completions (micro_batch_size × gradient_accumulation_steps × ${grpoSplit(plan).trainer.length} training GPUs = ${batch}) must be a multiple of reward.num_generations (${stage.reward.num_generations})`,
      "change reward.num_generations or the batch settings",
    ];
  return undefined;
}

const stripUndefined = (o: object) =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

/** The reward module's path for a run directory (beside the configs, where axolotl imports it). */
export const rewardPath = (runDir: string) => join(runDir, REWARD_FILE);

/** The reward module of a GRPO stage, with the spec read from the plan's directory. */
export function grpoRewardModule(stage: StageSpec, planDir: string): string {
  const r = stage.reward as GrpoReward;
  const specFile = resolve(planDir, r.spec);
  return rewardModule({
    spec: readUserFile(specFile, "spec for the GRPO reward", {
      hint: `stage ${stage.name}: reward.spec is relative to the plan file`,
    }),
    judge: { url: r.judge.url, model: r.judge.model, keyEnv: r.judge.key_env ?? "" },
    ...(r.contamination ? { contamination: r.contamination } : {}),
    seed: r.seed,
  });
}

/** The axolotl settings of a GRPO stage. */
export function grpoSettings(
  plan: TrainPlan,
  stage: StageSpec,
  data: StageData,
  h: Hyperparameters,
): Record<string, unknown> {
  const r = stage.reward as GrpoReward;
  const server = grpoSplit(plan).server !== null;
  const host = "127.0.0.1";
  return {
    rl: "grpo",
    datasets: [{ path: data.file, ds_type: "json", type: PROMPT_TRANSFORM }],
    trl: {
      use_vllm: true,
      ...(server
        ? {
            vllm_mode: "server",
            vllm_server_host: host,
            vllm_server_port: r.vllm_port,
            // The trainer waits this long for the server to load the model.
            vllm_server_timeout: 900,
            ...(h.full_finetune ? {} : { vllm_lora_sync: true }),
          }
        : { vllm_mode: "colocate", vllm_enable_sleep_mode: true }),
      reward_funcs: [REWARD_FUNC],
      reward_weights: [1],
      num_generations: r.num_generations,
      max_completion_length: r.max_completion_length,
      temperature: r.temperature,
      ...(stage.beta !== undefined ? { beta: stage.beta } : {}),
    },
    vllm: {
      host,
      port: r.vllm_port,
      gpu_memory_utilization: server ? 0.85 : 0.35,
      max_model_len: h.sequence_len,
    },
    ...(stage.steps !== undefined ? { max_steps: stage.steps } : {}),
    sample_packing: false,
    pad_to_sequence_len: false,
  };
}

/** Thrown where a plan asks for GRPO that cannot run as written. */
export function checkGrpoStage(plan: TrainPlan, stage: StageSpec, where: string): void {
  if (stage.reward !== undefined && stage.rl !== "grpo")
    throw new SpecsciError(`${where}: reward belongs to a GRPO stage`, {
      hint: "set rl: grpo, or remove reward",
    });
  if (stage.rl !== "grpo") return;
  const problem = grpoProblem(plan, stage);
  if (problem) throw new SpecsciError(`${where}: ${problem[0]}`, { hint: problem[1] });
}

/**
 * How a GRPO stage's processes start: the vLLM server (null in colocate mode) and the trainer's
 * environment. The trainer imports the reward module from the configs' directory (axolotl imports
 * `reward_funcs` by module name; one it cannot import it takes for a Hub model id).
 */
export function grpoProcesses(
  plan: TrainPlan,
  configPath: string,
  axolotl: string,
  /** The PYTHONPATH to keep after the configs' directory (a Slurm script keeps none). */
  pythonPath?: string,
): { server: { cmd: string[]; env: Record<string, string> } | null; env: Record<string, string> } {
  const split = grpoSplit(plan);
  const path = [dirname(configPath), pythonPath].filter(Boolean).join(delimiter);
  if (!split.server) return { server: null, env: { PYTHONPATH: path } };
  return {
    server: {
      cmd: [axolotl, "vllm-serve", configPath],
      env: { CUDA_VISIBLE_DEVICES: split.server.join(",") },
    },
    env: { PYTHONPATH: path, CUDA_VISIBLE_DEVICES: split.trainer.join(",") },
  };
}
