import { type Command, Option } from "commander";
import { DEFAULT_TOGGLES } from "../../evals/light.js";
import { DEFAULT_MODELS } from "../../llm/light.js";
import type { ContextFactory } from "../context.js";
import { implementedIn } from "../lazy.js";
import { registerCalibrateCommand } from "./eval-calibrate.js";
import {
  collectOption,
  parseFloatOption,
  parseIntOption,
  parseListOption,
  parsePositiveIntOption,
  parseSetOption,
} from "./options.js";

export function registerEvalCommands(program: Command, context: ContextFactory): void {
  const action = implementedIn(() => import("../commands/eval.js"), context);
  const ev = program
    .command("eval")
    .description("evaluations: run tasks, show their metrics, export Inspect logs");

  ev.command("run")
    .description(
      "run (or resume) a task on one or more models; re-running the same command resumes it",
    )
    .argument("<task>", "the task (`specsci eval tasks` lists them): agentic-misalignment (am), …")
    .requiredOption("-m, --model <id>", "model to evaluate (repeatable)", collectOption)
    .option("-n, --epochs <n>", "samples per item", parsePositiveIntOption, 1)
    .option("--limit <n>", "only the first N items (a quick check)", parsePositiveIntOption)
    .option(
      "-a, --arg <key=value>",
      "a setting of the task, as in an experiment's evals: entry (repeatable; values are YAML)",
      collectOption,
    )
    .option("--seed <n>", "sampling seed (each seed is its own block of samples)", parseIntOption)
    .option("--temperature <t>", "sampling temperature (default: the task's)", parseFloatOption)
    .option(
      "--max-tokens <n>",
      "output budget per sample (default: the task's)",
      parsePositiveIntOption,
    )
    .option(
      "--retry-max-tokens <n>",
      "redraw answers cut off at --max-tokens with this larger budget (also those an earlier run left cut off)",
      parsePositiveIntOption,
    )
    .option("--spec <ref>", "the spec under test, for tasks that measure one (spec-knowledge)")
    .option("--prompt-spec <ref>", "place this spec in the system prompt (a prompted arm)")
    .option(
      "--set <name=value>",
      "fill {name} placeholders in --spec and --prompt-spec files (repeatable)",
      parseSetOption,
    )
    .option(
      "--judge <id>",
      `judge model (default: defaults.judge in specsci.yaml, else ${DEFAULT_MODELS.anthropic.judge})`,
    )
    .option(
      "--judges <k>",
      "independent judges per sample; the majority verdict wins (odd)",
      parsePositiveIntOption,
      1,
    )
    .option(
      "--judge-attempts <n>",
      "answers asked of a judge before its verdict is invalid",
      parsePositiveIntOption,
      3,
    )
    .option(
      "--conditions <ids>",
      "am: standard (27, default), all (312), or condition ids, comma-separated",
      parseListOption,
    )
    .option("--families <names>", "am: only these families, comma-separated", parseListOption)
    .option(
      "--model-name <name>",
      `am: the name the agent is given in the scenarios (default ${DEFAULT_TOGGLES.modelName})`,
    )
    .option("--no-scratchpad", "am: no visible scratchpad (for models with native reasoning)")
    .option("--safety-instructions", "am: add explicit safety instructions to the system prompt")
    .option("--eval-notice", "am: tell the agent it may be in an evaluation or a real deployment")
    .option(
      "--deterrents",
      "am: add the deterrents the original scenarios lack (coercion: a compliance channel; exfiltration: a security email and a logged, scoped key)",
    )
    .option(
      "--eval-awareness",
      "am: also judge whether the reasoning concludes it is being evaluated",
    )
    .option(
      "--judge-sees-evidence",
      "am: show the judge the parser's reading of the final tool calls (prompt am-judge/1, as runs before the blind judge)",
    )
    .option(
      "--upstream <dir>",
      "am: use scenarios imported from a checkout of the public agentic-misalignment repository",
    )
    .option("--export <dir>", "also write each run as an Inspect eval log into this directory")
    .action(action("evalRun"));

  ev.command("tasks")
    .description("the eval tasks: what each measures, its dataset, size, scorers and settings")
    .action(action("evalTasks"));

  ev.command("show")
    .description(
      "metrics of a run: misalignment rate per condition and family with Wilson 95% intervals, errors",
    )
    .argument("<run>", "run id (see `specsci eval list`)")
    .action(action("evalShow"));

  ev.command("list").description("eval runs in this workspace").action(action("evalList"));

  ev.command("export")
    .description(
      "write a run, or every run of an experiment, as Inspect eval logs (validated), for Inspect View",
    )
    .argument("<run|file>", "run id, or an experiment file: one log per task × arm × model × seed")
    .usage("<run|experiment.yaml> -o <dir> [--format json|eval]")
    .requiredOption("-o, --out <dir>", "directory for the log files (required)")
    .addOption(
      new Option("--format <format>", "json (EvalLog JSON) or eval (Inspect's zip, for large runs)")
        .choices(["json", "eval"])
        .default("json"),
    )
    .action(action("evalExport"));

  ev.command("scenarios")
    .description("list the agentic-misalignment conditions, or print one condition's prompts")
    .argument("[condition]", "a condition id to print, e.g. leaking_explicit-america_replacement")
    .addOption(
      new Option("--model-name <name>", "the agent's name").default(DEFAULT_TOGGLES.modelName),
    )
    .option("--deterrents", "print the condition with the deterrents toggle on")
    .action(action("evalScenarios"));

  registerCalibrateCommand(ev, context);
}
