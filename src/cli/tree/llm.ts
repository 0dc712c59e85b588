import type { Command } from "commander";
import type { ContextFactory } from "../context.js";
import { implementedIn } from "../lazy.js";
import { parseFloatOption, parseIntOption, parsePositiveIntOption } from "./options.js";

export function registerLlmCommands(program: Command, context: ContextFactory): void {
  const action = implementedIn(() => import("../commands/llm.js"), context);
  const llm = program.command("llm").description("run prompt sets through the model access layer");

  llm
    .command("run")
    .description(
      "run every request in a JSONL file (cached, rate-limited, retried, recorded); re-running the same command resumes it",
    )
    .argument(
      "<requests.jsonl>",
      'one request per line: {"id", "messages" | "prompt", "params"?, "samples"?}',
    )
    .requiredOption("-m, --model <id>", "provider/model to run the requests on")
    .option("-o, --out <file>", "write results as JSONL here (default: stdout)")
    .option(
      "--run <id>",
      "run id for usage accounting (default: derived from the file, model and settings)",
    )
    .option("--stage <name>", "stage name for usage accounting", "llm-run")
    .option(
      "-n, --samples <n>",
      "samples per request, unless a line says otherwise",
      parsePositiveIntOption,
      1,
    )
    .option(
      "--max-tokens <n>",
      "output budget (default: defaults.max_tokens, 4096)",
      parsePositiveIntOption,
    )
    .option("--temperature <t>", "sampling temperature", parseFloatOption)
    .option("--top-p <p>", "nucleus sampling", parseFloatOption)
    .option("--seed <n>", "sampling seed, for providers that take one", parseIntOption)
    .option("--batch", "use the provider's batch API (cheaper, slower; resumes after a restart)")
    .option(
      "--poll-interval <seconds>",
      "batch polling interval (default: batch.poll_interval_s)",
      parseFloatOption,
    )
    .action(action("llmRun"));
}
