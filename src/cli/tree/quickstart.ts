import type { Command } from "commander";
import type { ContextFactory } from "../context.js";
import { implementedIn } from "../lazy.js";

export function registerQuickstart(program: Command, context: ContextFactory): void {
  const action = implementedIn(() => import("../commands/quickstart.js"), context);
  program
    .command("quickstart")
    .description(
      "a small, real experiment end to end: no spec vs the rules spec vs the value-augmented spec in the system prompt, on a quick agentic-misalignment subset, ending in a report",
    )
    .option(
      "-m, --model <id>",
      "model to evaluate (default: defaults.target in specsci.yaml, else the first of ANTHROPIC_API_KEY, OPENAI_API_KEY, a cached .gguf, the default Qwen GGUF downloaded)",
    )
    .option(
      "--judge <id>",
      "judge model (default: defaults.judge in specsci.yaml, else chosen with the model; with --model, that model itself)",
    )
    .option(
      "--demo",
      "run on the built-in tiny offline model: the whole pipeline, synthetic outputs",
    )
    .option(
      "-o, --out <dir>",
      "directory for the experiment file and the report",
      "specsci-quickstart",
    )
    .action(action("quickstart"));
}
