/**
 * axolotl configs and launch commands for one training run (a plan × a seed). Field names and
 * dataset types are the ones axolotl documents: `type: completion` with `field: text` for
 * midtraining; `type: chat_template` with `field_messages: messages` training only assistant
 * turns for AFT; LoRA on every linear projection; FSDP2 or DeepSpeed ZeRO-3 on several GPUs.
 * The base's family (bases.ts) decides the chat template and LoRA targets: Qwen trains with its
 * tokenizer's own template on every linear layer; the other families with the registry's
 * template (`chat_template: jinja`), its end-of-turn token and the listed projections.
 */
import { join } from "node:path";
import { stringify } from "yaml";
import { SpecsciError } from "../core/errors.js";
import { FAMILY_TEMPLATES, isBaseFamilyId } from "../data/base-templates.js";
import { type BaseFamily, resolveBaseFamily } from "./bases.js";
import type { StageData } from "./data.js";
import { grpoProcesses, grpoRewardModule, grpoSplit, rewardPath } from "./grpo.js";
import { type LoadedPlan, type StageSpec, stageHyperparameters } from "./plan.js";
import { preferenceSettings } from "./preference.js";

export interface StageConfig {
  stage: StageSpec;
  /** The config file's path and content. */
  path: string;
  config: Record<string, unknown>;
  outputDir: string;
  /** Shell commands run before training (merging the previous adapter for a fresh one). */
  before: string[][];
  /** Files the config imports, written beside it (a GRPO stage's reward module). */
  files: { path: string; text: string }[];
}

export const runDirOf = (loaded: LoadedPlan, seed: number) =>
  join(loaded.dir, loaded.plan.output_dir, loaded.plan.name, `seed-${seed}`);

export function axolotlConfigs(
  loaded: LoadedPlan,
  seed: number,
  data: Map<string, StageData>,
  /** The stage of another plan the first stage continues (`start_from`). */
  parent?: StageConfig,
): StageConfig[] {
  const { plan } = loaded;
  const family = resolveBaseFamily(
    plan.base_model,
    `${loaded.file}: ${plan.base_family === undefined ? "base_model" : "base_family"}`,
    plan.base_family,
  );
  const runDir = runDirOf(loaded, seed);
  const out: StageConfig[] = [];
  let previous: StageConfig | undefined = parent;
  for (const stage of plan.stages) {
    const h = stageHyperparameters(plan, stage);
    const d = data.get(stage.name) as StageData;
    if (stage.kind === "aft") checkChatTemplate(loaded, stage, d, family);
    const outputDir = join(runDir, stage.name);
    const before: string[][] = [];
    let baseModel = plan.base_model;
    let adapterFrom: string | undefined;
    if (previous) {
      const prevFull = (previous.config.adapter ?? null) === null;
      if (prevFull) baseModel = previous.outputDir;
      else if (stage.from_previous === "adapter" && !h.full_finetune)
        adapterFrom = previous.outputDir;
      else {
        // A fresh adapter (or full fine-tuning) starts from the previous stage merged into the base.
        before.push([
          "axolotl",
          "merge-lora",
          previous.path,
          "--lora-model-dir",
          previous.outputDir,
        ]);
        baseModel = join(previous.outputDir, "merged");
      }
    }
    const dataset =
      stage.kind === "midtraining"
        ? { path: d.file, ds_type: "json", type: "completion", field: "text" }
        : {
            path: d.file,
            ds_type: "json",
            type: "chat_template",
            field_messages: "messages",
            message_property_mappings: { role: "role", content: "content" },
            roles_to_train: ["assistant"],
            train_on_eos: "turn",
          };
    const config: Record<string, unknown> = {
      base_model: baseModel,
      seed,
      output_dir: outputDir,
      // axolotl's cache key hashes the dataset's path, not its content: the data hash is in the name.
      dataset_prepared_path: join(runDir, "prepared", `${stage.name}-${d.sha256.slice(0, 12)}`),
      datasets: [dataset],
      // Chat stages (AFT, preference) read the base family's turn format.
      ...(stage.kind !== "midtraining" ? chatTemplateSettings(family) : {}),
      sequence_len: h.sequence_len,
      sample_packing: h.sample_packing,
      pad_to_sequence_len: h.sample_packing,
      ...(h.full_finetune
        ? {}
        : {
            adapter: "lora",
            lora_r: h.lora_r,
            lora_alpha: h.lora_alpha,
            lora_dropout: h.lora_dropout,
            ...loraTargetSettings(family),
            ...(adapterFrom ? { lora_model_dir: adapterFrom } : {}),
          }),
      num_epochs: h.epochs,
      learning_rate: h.learning_rate,
      lr_scheduler: h.lr_scheduler,
      warmup_ratio: h.warmup_ratio,
      weight_decay: h.weight_decay,
      optimizer: h.optimizer,
      micro_batch_size: h.micro_batch_size,
      gradient_accumulation_steps: h.gradient_accumulation_steps,
      bf16: "auto",
      flash_attention: true,
      gradient_checkpointing: true,
      logging_steps: 1,
      save_steps: h.save_steps,
      save_total_limit: 3,
      // A resubmitted Slurm job continues too (locally specsci also sets resume_from_checkpoint).
      auto_resume_from_checkpoints: true,
      ...distributedSettings(loaded, runDir, trainingGpus(loaded, stage)),
      // Its method, beta and dataset entry replace the SFT dataset; packing is off for rl.
      ...(stage.kind === "preference" ? preferenceSettings(plan, stage, d, h) : {}),
      ...(plan.wandb
        ? {
            wandb_project: plan.wandb.project,
            ...(plan.wandb.entity ? { wandb_entity: plan.wandb.entity } : {}),
            wandb_name: `${plan.name}-seed${seed}-${stage.name}`,
          }
        : {}),
    };
    const c: StageConfig = {
      stage,
      path: join(runDir, `${stage.name}.yaml`),
      config,
      outputDir,
      before,
      files:
        stage.rl === "grpo"
          ? [{ path: rewardPath(runDir), text: grpoRewardModule(stage, loaded.dir) }]
          : [],
    };
    out.push(c);
    previous = c;
  }
  return out;
}

/** Qwen's tokenizers carry the template AFT sets are counted with; the others get it written in. */
function chatTemplateSettings(f: BaseFamily): Record<string, unknown> {
  if (f.ownTemplate) return { chat_template: "tokenizer_default" };
  return {
    chat_template: "jinja",
    chat_template_jinja: f.template.jinja,
    eot_tokens: [f.template.endOfTurn],
  };
}

function loraTargetSettings(f: BaseFamily): Record<string, unknown> {
  return f.loraTargets === "all-linear"
    ? { lora_target_linear: true }
    : { lora_target_modules: f.loraTargets };
}

/** A chat set formatted and counted in another family's turn format would train on wrong text. */
function checkChatTemplate(loaded: LoadedPlan, stage: StageSpec, d: StageData, f: BaseFamily) {
  const made = d.chatTemplate;
  if (made === undefined || !isBaseFamilyId(made)) return;
  if (FAMILY_TEMPLATES[made].turnFormat === f.template.turnFormat) return;
  throw new SpecsciError(
    `${loaded.file}: stage ${stage.name}: ${d.dir} was formatted and counted with the ${made} chat template, and base_model ${loaded.plan.base_model} is ${f.id}`,
    {
      hint: `make the chat set with chat_template: ${f.id} in its AFT recipe (for an experiment, the one training.data.aft names), or train a ${made} base`,
    },
  );
}

/** The DeepSpeed ZeRO-3 settings written beside the configs (axolotl reads them from a file). */
export const ZERO3 = {
  zero_optimization: {
    stage: 3,
    overlap_comm: true,
    contiguous_gradients: true,
    reduce_bucket_size: "auto",
    stage3_prefetch_bucket_size: "auto",
    stage3_param_persistence_threshold: "auto",
    stage3_gather_16bit_weights_on_model_save: true,
  },
  bf16: { enabled: "auto" },
  gradient_accumulation_steps: "auto",
  gradient_clipping: "auto",
  train_batch_size: "auto",
  train_micro_batch_size_per_gpu: "auto",
  wall_clock_breakdown: false,
};

export const zero3Path = (runDir: string) => join(runDir, "deepspeed-zero3.json");

/** The GPUs a stage trains on: all of them, less the one a GRPO stage leaves to its vLLM server. */
const trainingGpus = (loaded: LoadedPlan, stage: StageSpec) =>
  stage.rl === "grpo"
    ? grpoSplit(loaded.plan).trainer.length
    : loaded.plan.hardware.gpus_per_node * loaded.plan.hardware.nodes;

function distributedSettings(
  loaded: LoadedPlan,
  runDir: string,
  gpus: number,
): Record<string, unknown> {
  const hw = loaded.plan.hardware;
  if (gpus === 1 || hw.distributed === "ddp") return {};
  if (hw.distributed === "deepspeed-zero3") return { deepspeed: zero3Path(runDir) };
  return {
    fsdp_version: 2,
    fsdp_config: {
      offload_params: false,
      cpu_ram_efficient_loading: true,
      auto_wrap_policy: "TRANSFORMER_BASED_WRAP",
      state_dict_type: "FULL_STATE_DICT",
      reshard_after_forward: true,
    },
  };
}

export const configText = (c: StageConfig) =>
  `# written by specsci for stage ${c.stage.name} (${c.stage.kind}); edit the plan, not this file\n${stringify(c.config)}`;

/**
 * The config as the installed axolotl wants it. From 0.17 axolotl names the attention backend
 * `attn_implementation` and warns that the boolean `flash_attention` is deprecated (and refuses
 * both at once); older versions know only the boolean. Plans, fingerprints and Slurm scripts keep
 * the boolean, which every version accepts, so a run's identity does not change with the engine.
 */
export function forInstalledAxolotl(
  config: Record<string, unknown>,
  axolotlVersion: string | null | undefined,
): Record<string, unknown> {
  if (!config.flash_attention || !atLeast(axolotlVersion, [0, 17])) return config;
  const { flash_attention: _, ...rest } = config;
  return { ...rest, attn_implementation: "flash_attention_2" };
}

/** Whether a version string (`0.17.0`, `0.18.1.dev3`) is at least `min`; unknown is not. */
function atLeast(version: string | null | undefined, min: number[]): boolean {
  const parts = /^(\d+)\.(\d+)/.exec(version ?? "");
  if (!parts) return false;
  const [major, minor] = [Number(parts[1]), Number(parts[2])];
  return major > (min[0] as number) || (major === min[0] && minor >= (min[1] as number));
}

/** How the training of one stage is launched on this hardware (run on every node for several). */
export function launchCommand(loaded: LoadedPlan, c: StageConfig, axolotl = "axolotl"): string[] {
  const hw = loaded.plan.hardware;
  const base = [axolotl, "train", c.path];
  // GRPO's trainer leaves the last GPU to its vLLM server (grpo.ts).
  const gpus = c.stage.rl === "grpo" ? grpoSplit(loaded.plan).trainer.length : hw.gpus_per_node;
  if (hw.nodes > 1)
    return [
      ...base,
      "--launcher",
      "torchrun",
      "--",
      "--nnodes",
      String(hw.nodes),
      "--nproc_per_node",
      String(hw.gpus_per_node),
      "--rdzv_id",
      `${loaded.plan.name}-${c.stage.name}`,
      "--rdzv_backend",
      "c10d",
      "--rdzv_endpoint",
      "$HEAD_NODE:29400",
    ];
  if (gpus > 1) return [...base, "--launcher", "torchrun", "--", "--nproc_per_node", String(gpus)];
  return base;
}

/** A Slurm batch script that runs the stages of one seed in order, one task per node. */
export function slurmScript(loaded: LoadedPlan, seed: number, configs: StageConfig[]): string {
  const hw = loaded.plan.hardware;
  const s = hw.slurm;
  const lines = [
    "#!/bin/bash",
    `#SBATCH --job-name=${loaded.plan.name}-seed${seed}`,
    `#SBATCH --nodes=${hw.nodes}`,
    "#SBATCH --ntasks-per-node=1",
    `#SBATCH --gres=${s?.gres ?? `gpu:${hw.gpus_per_node}`}`,
    `#SBATCH --time=${s?.time ?? "24:00:00"}`,
    ...(s?.partition ? [`#SBATCH --partition=${s.partition}`] : []),
    ...(s?.account ? [`#SBATCH --account=${s.account}`] : []),
    `#SBATCH --output=${join(runDirOf(loaded, seed), "slurm-%j.log")}`,
    "set -euo pipefail",
    'export HEAD_NODE=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)',
  ];
  for (const c of configs) {
    for (const cmd of c.before) lines.push(cmd.map(shellQuote).join(" "));
    const grpo = c.stage.rl === "grpo" ? grpoProcesses(loaded.plan, c.path, "axolotl") : null;
    if (grpo?.server)
      lines.push(
        `${envWords(grpo.server.env)} ${grpo.server.cmd.map(shellQuote).join(" ")} > ${shellQuote(c.path.replace(/\.yaml$/, "-vllm.log"))} 2>&1 &`,
        "VLLM_PID=$!",
      );
    lines.push(
      `${grpo ? `${envWords(grpo.env)} ` : ""}srun ${launchCommand(loaded, c)
        .map((a) => (a === "$HEAD_NODE:29400" ? '"$HEAD_NODE:29400"' : shellQuote(a)))
        .join(" ")}`,
    );
    if (grpo?.server) lines.push('kill "$VLLM_PID"; wait "$VLLM_PID" || true');
  }
  return `${lines.join("\n")}\n`;
}

const envWords = (env: Record<string, string>) =>
  Object.entries(env)
    .map(([k, v]) => `${k}=${shellQuote(v)}`)
    .join(" ");

const shellQuote = (a: string) =>
  /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`;
