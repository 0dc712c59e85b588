import type { Command } from "commander";
import type { ContextFactory } from "../context.js";
import { implementedIn } from "../lazy.js";
import { collectOption, parseIntOption } from "./options.js";

export function registerTrainCommands(program: Command, context: ContextFactory): void {
  const action = implementedIn(() => import("../commands/train.js"), context);
  const train = program
    .command("train")
    .description("training plans run on existing engines (axolotl), and the models they make");

  train
    .command("plan")
    .description(
      "the runs and stages of a plan: data, tokens, the configs it writes, GPU-hours; nothing runs",
    )
    .argument("<plan>", "training plan (train.yaml)")
    .option("--show-config", "print the axolotl config of every stage of the first seed")
    .action(action("trainPlan"));

  train
    .command("run")
    .description(
      "run (or resume) the plan's stages with axolotl; Ctrl-C stops it, a rerun resumes from the last checkpoint",
    )
    .argument("<plan>", "training plan (train.yaml)")
    .option("--seed <n>", "only this seed (repeatable)", collectOption, [])
    .option("--slurm", "submit each seed's Slurm batch script with sbatch instead of running here")
    .action(action("trainRun"));

  train
    .command("bases")
    .description(
      "the base-model families plans can train: chat template, tokenizer, LoRA targets, defaults, licence, GPU memory",
    )
    .action(action("trainBases"));

  train
    .command("list")
    .description("trained models registered in the store, with their recipe")
    .action(action("trainList"));

  train
    .command("serve")
    .description(
      "serve trained models with vLLM or SGLang (adapters on one server per base model) so evals can call them",
    )
    .option("--engine <engine>", "vllm or sglang", "vllm")
    .option("--model <id>", "only this trained model (repeatable; default: all)", collectOption, [])
    .option("--host <host>", "address the servers bind to", "127.0.0.1")
    .option("--port <n>", "first port", parseIntOption)
    .option("--endpoint <name>", "the specsci endpoint name the served models go under", "trained")
    .option(
      "--start",
      "start the servers here and wait until they list every model (Ctrl-C stops them)",
    )
    .option(
      "--slurm",
      "start each server as a Slurm job (serving.slurm in specsci.yaml), wait for it, and cancel the jobs on Ctrl-C",
    )
    .option("--timeout <s>", "seconds to wait for a server to be ready", parseIntOption, 900)
    .action(action("trainServe"));

  train
    .command("cancel")
    .description("cancel a plan's hosted (Together) training jobs that are still running")
    .argument("<plan>", "training plan (train.yaml)")
    .option("--seed <n>", "only this seed (repeatable)", collectOption, [])
    .action(action("trainCancel"));

  train
    .command("register")
    .description(
      "register a model trained elsewhere (a path or a Hugging Face repo) with its declared provenance",
    )
    .requiredOption("--name <name>", "a name for it (listed as external/<name>)")
    .requiredOption(
      "--base <model>",
      "the base model it was trained from (Hugging Face id or path)",
    )
    .requiredOption("--path <path>", "the adapter or model: a directory or hf:owner/repo")
    .option("--full", "full model weights rather than a LoRA adapter")
    .option("--seed <n>", "its training seed, if known", parseIntOption)
    .option(
      "--provenance <file>",
      "YAML or JSON declaring how it was made (data, hyperparameters, engine)",
    )
    .action(action("trainRegister"));
}
