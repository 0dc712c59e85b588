import type { Command } from "commander";
import type { ContextFactory } from "../context.js";
import { implementedIn } from "../lazy.js";
import { parseFloatOption, parsePositiveIntOption } from "./options.js";

const DEFAULT_TEST_PROMPT = "In one short sentence: who are you, and what can you help with?";

export function registerModelsCommands(program: Command, context: ContextFactory): void {
  const action = implementedIn(() => import("../commands/models.js"), context);
  const models = program
    .command("models")
    .description("check and list the models specsci can reach");

  models
    .command("test")
    .description("send one prompt to a model and print the answer, stop reason, usage and latency")
    .argument(
      "<model-id>",
      "provider/model, e.g. anthropic/claude-haiku-4-5, vllm/Qwen/Qwen3-8B, local/builtin:tiny",
    )
    .option("-p, --prompt <text>", "the user message", DEFAULT_TEST_PROMPT)
    .option("-s, --system <text>", "a system message")
    .option("--max-tokens <n>", "output budget", parsePositiveIntOption, 256)
    .option("--temperature <t>", "sampling temperature", parseFloatOption)
    .option(
      "--use-cache",
      "answer from the response cache when possible (default: always ask the model)",
    )
    .action(action("modelsTest"));

  models
    .command("list")
    .description("list providers and endpoints, the env var each needs, and whether it is set")
    .action(action("modelsList"));

  models
    .command("show")
    .description(
      "one model's record: a trained model's recipe (base, stages, data hashes, hyperparameters, configs), or where an id is served",
    )
    .argument(
      "<id>",
      "a trained model (train-…/aft, external/…), a served id (trained/…) or any model id",
    )
    .action(action("modelsShow"));
}
