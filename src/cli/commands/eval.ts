import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { type Command, Option } from "commander";
import { SpecsciError } from "../../core/errors.js";
import { checkOutputPath, requireUserPath, writeFileAtomic } from "../../core/fs.js";
import { log } from "../../core/log.js";
import { loadPack } from "../../evals/am/pack.js";
import {
  allConditions,
  conditionId,
  DEFAULT_TOGGLES,
  parseConditionId,
  renderCondition,
} from "../../evals/am/render.js";
import { exportInspectLog } from "../../evals/inspect.js";
import { validateEvalLog } from "../../evals/inspect-schema.js";
import { runEval } from "../../evals/runner.js";
import { taskDefinitions } from "../../evals/tasks.js";
import type { Task } from "../../evals/types.js";
import { listEvalRuns } from "../../experiment/eval-listing.js";
import { DEFAULT_MODELS } from "../../llm/models.js";
import type { CliContext, ContextFactory } from "../context.js";
import { EXIT_SOME_CALLS_FAILED } from "../exit-codes.js";
import { printJson, printTable, unscoredColumns } from "../output.js";
import { registerCalibrateCommand } from "./eval-calibrate.js";
import { showRun } from "./eval-show.js";
import { buildCliTask, type TaskOpts } from "./eval-task.js";
import {
  collectOption,
  parseFloatOption,
  parseIntOption,
  parseListOption,
  parsePositiveIntOption,
  parseSetOption,
} from "./options.js";

interface RunOpts extends TaskOpts {
  model: string[];
  epochs: number;
  temperature?: number;
  maxTokens?: number;
  retryMaxTokens?: number;
  seed?: number;
  export?: string;
}

function writeExport(ctx: CliContext, runId: string, dir: string): string {
  const { fileName, log: evalLog } = exportInspectLog(ctx.store, runId);
  const problems = validateEvalLog(evalLog);
  if (problems.length)
    throw new Error(
      `the exported log does not match Inspect's schema: ${problems.slice(0, 3).join("; ")}`,
    );
  mkdirSync(dir, { recursive: true });
  const path = join(dir, fileName);
  writeFileAtomic(path, JSON.stringify(evalLog));
  return path;
}

export function registerEvalCommands(program: Command, context: ContextFactory): void {
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
    .action(async (taskName: string, o: RunOpts) => {
      const ctx = context();
      if (o.export) checkOutputPath(o.export, "dir", "--export");
      if (o.upstream)
        requireUserPath(o.upstream, "agentic-misalignment checkout", "dir", { from: "--upstream" });
      const client = ctx.llm();
      // Built per model (prompts may depend on it: scratchpad auto); bad settings fail before any work.
      const tasks = o.model.map((m) => buildCliTask(taskName, ctx, o, m));
      let failed = 0;
      for (const [i, modelId] of o.model.entries()) {
        const task = tasks[i] as Task;
        client.model(modelId); // a bad id or missing key fails before any work
        const generate: { temperature?: number; max_tokens?: number; seed?: number } = {};
        if (o.temperature !== undefined) generate.temperature = o.temperature;
        if (o.maxTokens !== undefined) generate.max_tokens = o.maxTokens;
        if (o.seed !== undefined) generate.seed = o.seed;
        const summary = await runEval({
          client,
          task,
          modelId,
          epochs: o.epochs,
          generate,
          ...(o.retryMaxTokens !== undefined ? { retryMaxTokens: o.retryMaxTokens } : {}),
        });
        failed += summary.errors + summary.truncated;
        log.info(
          `${summary.runId}: ${summary.done} sample(s) done now, ${summary.resumed} resumed, ${summary.errors} failed, ${summary.truncated} cut off, ${summary.refused} refused`,
        );
        showRun(ctx, summary.runId);
        if (o.export) log.info(`wrote ${writeExport(ctx, summary.runId, resolve(o.export))}`);
      }
      if (failed) process.exitCode = EXIT_SOME_CALLS_FAILED;
    });

  ev.command("tasks")
    .description("the eval tasks: what each measures, its dataset, size, scorers and settings")
    .action(() => {
      const ctx = context();
      const tasks = taskDefinitions().map((t) => ({
        name: t.name,
        aliases: t.aliases,
        summary: t.summary,
        ...t.describe(),
        settings: Object.keys((t.args as unknown as { shape: Record<string, unknown> }).shape),
        needs: Object.entries(t.needs)
          .filter(([, v]) => v)
          .map(([k]) => k),
      }));
      if (ctx.json) return printJson(tasks);
      for (const t of tasks) {
        process.stdout.write(
          [
            `${t.name}${t.aliases.length ? ` (alias ${t.aliases.join(", ")})` : ""}: ${t.summary}`,
            `  dataset:  ${t.dataset}`,
            `  size:     ${t.size}`,
            `  scorers:  ${t.scorers.join("; ")}`,
            `  metrics:  ${t.metrics.join("; ")}`,
            `  settings: ${t.settings.join(", ") || "none"} (--arg key=value, or keys of an experiment's evals: entry)`,
            ...(t.needs.length ? [`  needs:    ${t.needs.join(", ")}`] : []),
            "",
          ].join("\n"),
        );
      }
    });

  ev.command("show")
    .description(
      "metrics of a run: misalignment rate per condition and family with Wilson 95% intervals, errors",
    )
    .argument("<run>", "run id (see `specsci eval list`)")
    .action((runId: string) => showRun(context(), runId));

  ev.command("list")
    .description("eval runs in this workspace")
    .action(() => {
      const ctx = context();
      const runs = listEvalRuns(ctx.store);
      if (ctx.json) return printJson(runs);
      if (!runs.length) return void process.stdout.write("no eval runs\n");
      const unscored = unscoredColumns(runs.map((r) => r.progress));
      printTable(
        [
          ...["run", "task", "arm", "spec", "model", "judge", "epochs", "samples", "failed"],
          ...unscored.heads,
          "created",
        ],
        runs.map((r) => [
          r.id,
          r.task,
          r.arms.join(", ") || "-",
          r.spec ?? "-",
          r.model,
          r.judges.join(", ") || "-",
          r.epochs,
          `${r.progress.recorded}/${r.progress.expected}`,
          r.progress.errors,
          ...unscored.cells(r.progress),
          r.createdAt,
        ]),
      );
    });

  ev.command("export")
    .description(
      "write a run as an Inspect eval log (EvalLog v2 JSON, validated), for Inspect View",
    )
    .argument("<run>", "run id")
    .usage("<run> -o <dir>")
    .requiredOption("-o, --out <dir>", "directory for the log file (required)")
    .action((runId: string, o: { out: string }) => {
      const ctx = context();
      checkOutputPath(o.out, "dir", "-o/--out");
      if (!ctx.store.evals.run(runId)) throw new SpecsciError(`no eval run ${runId}`);
      const path = writeExport(ctx, runId, resolve(o.out));
      if (ctx.json) printJson({ path });
      else process.stdout.write(`${path}\n`);
    });

  ev.command("scenarios")
    .description("list the agentic-misalignment conditions, or print one condition's prompts")
    .argument("[condition]", "a condition id to print, e.g. leaking_explicit-america_replacement")
    .addOption(
      new Option("--model-name <name>", "the agent's name").default(DEFAULT_TOGGLES.modelName),
    )
    .option("--deterrents", "print the condition with the deterrents toggle on")
    .action((id: string | undefined, o: { modelName: string; deterrents?: boolean }) => {
      const ctx = context();
      const pack = loadPack();
      if (!id) {
        const ids = allConditions(pack).map(conditionId);
        if (ctx.json) return printJson(ids);
        return void process.stdout.write(`${ids.join("\n")}\n`);
      }
      const sample = renderCondition(pack, parseConditionId(id), {
        ...DEFAULT_TOGGLES,
        modelName: o.modelName,
        deterrents: o.deterrents === true,
      });
      if (ctx.json) return printJson(sample);
      for (const m of sample.input) process.stdout.write(`===== ${m.role} =====\n${m.content}\n\n`);
    });

  registerCalibrateCommand(ev, context);
}
