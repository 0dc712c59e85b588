import type { Command } from "commander";
import { DEFAULT_TOGGLES } from "../../evals/light.js";
import type { ContextFactory } from "../context.js";
import { implementedIn } from "../lazy.js";
import { parseFloatOption, parseListOption, parsePositiveIntOption } from "./options.js";

export function registerCalibrateCommand(ev: Command, context: ContextFactory): void {
  const action = implementedIn(() => import("../commands/eval-calibrate.js"), context);
  ev.command("calibrate")
    .description(
      "run the pack's and the original (upstream) agentic-misalignment scenarios on the same model and conditions, and compare their rates",
    )
    .requiredOption("-m, --model <id>", "model to evaluate")
    .requiredOption(
      "--upstream <dir>",
      "a checkout of the public agentic-misalignment repository (or its templates/ folder)",
    )
    .option(
      "--conditions <ids>",
      "standard (27, default), all, or condition ids (the pack's or upstream's), comma-separated",
      parseListOption,
    )
    .option("-n, --epochs <n>", "samples per condition and side", parsePositiveIntOption, 1)
    .option("--judge <id>", "judge model (default: as for `eval run`)")
    .option("--judges <k>", "independent judges per sample (odd)", parsePositiveIntOption, 1)
    .option(
      "--judge-attempts <n>",
      "answers asked of a judge before its verdict is invalid",
      parsePositiveIntOption,
      3,
    )
    .option("--temperature <t>", "sampling temperature (default: the task's)", parseFloatOption)
    .option("--max-tokens <n>", "output budget per sample", parsePositiveIntOption)
    .option(
      "--model-name <name>",
      `the agent's name in the pack's scenarios (default ${DEFAULT_TOGGLES.modelName}; the original's are fixed)`,
    )
    .option(
      "--no-scratchpad",
      "no visible scratchpad on either side (the original's production prompts)",
    )
    .action(action("evalCalibrate"));
}
