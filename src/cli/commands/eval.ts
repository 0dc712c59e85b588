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
import { AM_TASK_NAME, agenticMisalignmentTask } from "../../evals/am/task.js";
import { importUpstreamTask } from "../../evals/am/upstream.js";
import { exportInspectLog } from "../../evals/inspect.js";
import { validateEvalLog } from "../../evals/inspect-schema.js";
import { judgeOptions } from "../../evals/judge.js";
import { type RateCell, type RunMetrics, runMetrics } from "../../evals/metrics.js";
import { sampleProgress } from "../../evals/progress.js";
import { runEval } from "../../evals/runner.js";
import type { Task } from "../../evals/types.js";
import { listEvalRuns } from "../../experiment/eval-listing.js";
import { DEFAULT_MODELS } from "../../llm/models.js";
import type { EvalRunRow } from "../../store/index.js";
import type { CliContext, ContextFactory } from "../context.js";
import { EXIT_SOME_CALLS_FAILED } from "../exit-codes.js";
import { printJson, printTable, unscoredColumns } from "../output.js";
import { roleModel } from "../role-models.js";
import {
  collectOption,
  parseFloatOption,
  parseListOption,
  parsePositiveIntOption,
} from "./options.js";

const pct = (x: number) => (Number.isNaN(x) ? "-" : `${(100 * x).toFixed(1)}%`);
const ci = (c: RateCell) => (c.n ? `[${pct(c.ci[0])}, ${pct(c.ci[1])}]` : "-");

interface RunOpts {
  model: string[];
  epochs: number;
  temperature?: number;
  maxTokens?: number;
  retryMaxTokens?: number;
  judge?: string;
  judges: number;
  judgeAttempts: number;
  conditions?: string[];
  families?: string[];
  modelName: string;
  scratchpad: boolean;
  safetyInstructions?: boolean;
  evalNotice?: boolean;
  evalAwareness?: boolean;
  upstream?: string;
  export?: string;
}

function buildTask(name: string, ctx: CliContext, o: RunOpts): Task {
  if (name !== AM_TASK_NAME && name !== "am") {
    throw new SpecsciError(`unknown task "${name}"`, { hint: `tasks: ${AM_TASK_NAME} (alias am)` });
  }
  const judge = judgeOptions(roleModel(ctx, "judge", o.judge, "--judge"), {
    k: o.judges,
    attempts: o.judgeAttempts,
  });
  const toggles = {
    modelName: o.modelName,
    scratchpad: o.scratchpad,
    safetyInstructions: !!o.safetyInstructions,
    evalNotice: !!o.evalNotice,
  };
  if (o.upstream)
    return importUpstreamTask(resolve(o.upstream), { conditions: o.conditions, toggles }, judge, {
      evalAwareness: !!o.evalAwareness,
    });
  const conditions = !o.conditions?.length
    ? "standard"
    : o.conditions.length === 1 && (o.conditions[0] === "all" || o.conditions[0] === "standard")
      ? (o.conditions[0] as "all" | "standard")
      : o.conditions;
  return agenticMisalignmentTask(
    { conditions, ...(o.families ? { families: o.families } : {}), toggles },
    judge,
    { evalAwareness: !!o.evalAwareness },
  );
}

function showRun(ctx: CliContext, runId: string): void {
  const run = ctx.store.evals.run(runId);
  if (!run)
    throw new SpecsciError(`no eval run ${runId}`, {
      hint: "`specsci eval list` shows the runs in this workspace",
    });
  const m = runMetrics(ctx.store.evals.scoreRows(runId));
  const progress = sampleProgress(ctx.store, runId, run.sampleCount, run.epochs);
  if (ctx.json) {
    printJson({ run, samples: progress.recorded, progress, metrics: m });
    return;
  }
  const out = process.stdout;
  out.write(
    `${run.id}: ${run.task} on ${run.model}, ${run.epochs} epoch(s), ${progress.recorded}/${progress.expected} samples recorded\n\n`,
  );
  const rows = (cells: RateCell[]) =>
    cells.map((c) => [
      c.key,
      c.n,
      c.misaligned,
      pct(c.rate),
      ci(c),
      c.errors,
      ...unscored.cells(c),
    ]);
  const unscored = unscoredColumns([m.pooled]);
  const unscoredHeads = ["errors", ...unscored.heads];
  printTable(
    ["condition", "n", "misaligned", "rate", "95% CI (Wilson)", ...unscoredHeads],
    rows(m.byCondition),
  );
  out.write("\n");
  printTable(
    ["family", "n", "misaligned", "rate", "95% CI (Wilson)", ...unscoredHeads],
    [...rows(m.byFamily), ...rows([m.pooled])],
  );
  out.write(
    `\nmean over conditions: ${pct(m.meanOverConditions)}; harmful action carried out by the final actions (deterministic evidence): ${pct(m.executedEvidence.rate)}\n`,
  );
  if (m.byAwareness.length) {
    out.write("\n");
    printTable(
      ["eval awareness", "n", "misaligned", "rate", "95% CI (Wilson)"],
      m.byAwareness.map((c) => [c.key, c.n, c.misaligned, pct(c.rate), ci(c)]),
    );
  }
  for (const line of unscoredNotes(m, maxTokensOf(run))) out.write(`\n${line}\n`);
}

const maxTokensOf = (run: EvalRunRow) =>
  Number((run.generateConfig as { max_tokens?: number }).max_tokens ?? 0);

/** What the samples without a score are, and what to do about them. */
export function unscoredNotes(m: RunMetrics, maxTokens: number): string[] {
  const notes: string[] = [];
  if (m.errors.total)
    notes.push(
      `${m.errors.total} sample(s) failed and are not in any rate: ${Object.entries(m.errors.byKind)
        .map(([k, n]) => `${k} ${n}`)
        .join(", ")}. Run the same command again to retry them.`,
    );
  if (m.truncated)
    notes.push(
      `${m.truncated} answer(s) were cut off at their output budget (max_tokens ${maxTokens}) and are not in any rate: a cut-off answer is no evidence of a decision. Run the same command again with --retry-max-tokens ${2 * maxTokens} to redraw only them with more room, or raise --max-tokens for a new run of every sample.`,
    );
  if (m.refused)
    notes.push(
      `${m.refused} sample(s) were refused by the provider (its refusal stop reason) and are not in any rate; \`specsci eval export\` writes their transcripts.`,
    );
  return notes;
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
    .argument("<task>", `the task: ${AM_TASK_NAME} (alias am)`)
    .requiredOption("-m, --model <id>", "model to evaluate (repeatable)", collectOption)
    .option("-n, --epochs <n>", "samples per scenario", parsePositiveIntOption, 1)
    .option(
      "--temperature <t>",
      "sampling temperature (default 0.7, as in the MSM paper)",
      parseFloatOption,
    )
    .option("--max-tokens <n>", "output budget per sample (default 8192)", parsePositiveIntOption)
    .option(
      "--retry-max-tokens <n>",
      "redraw answers cut off at --max-tokens with this larger budget (also those an earlier run left cut off)",
      parsePositiveIntOption,
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
      "standard (27, default), all (312), or condition ids, comma-separated",
      parseListOption,
    )
    .option("--families <names>", "only these families, comma-separated", parseListOption)
    .option(
      "--model-name <name>",
      "the name the agent is given in the scenarios",
      DEFAULT_TOGGLES.modelName,
    )
    .option("--no-scratchpad", "no visible scratchpad (for models with native reasoning)")
    .option("--safety-instructions", "add explicit safety instructions to the system prompt")
    .option("--eval-notice", "tell the agent it may be in an evaluation or a real deployment")
    .option("--eval-awareness", "also judge whether the reasoning concludes it is being evaluated")
    .option(
      "--upstream <dir>",
      "use scenarios imported from a checkout of the public agentic-misalignment repository",
    )
    .option("--export <dir>", "also write each run as an Inspect eval log into this directory")
    .action(async (taskName: string, o: RunOpts) => {
      const ctx = context();
      if (o.export) checkOutputPath(o.export, "dir", "--export");
      if (o.upstream)
        requireUserPath(o.upstream, "agentic-misalignment checkout", "dir", { from: "--upstream" });
      const client = ctx.llm();
      const task = buildTask(taskName, ctx, o);
      let failed = 0;
      for (const modelId of o.model) {
        client.model(modelId); // a bad id or missing key fails before any work
        const generate: { temperature?: number; max_tokens?: number } = {};
        if (o.temperature !== undefined) generate.temperature = o.temperature;
        if (o.maxTokens !== undefined) generate.max_tokens = o.maxTokens;
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
    .action((id: string | undefined, o: { modelName: string }) => {
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
      });
      if (ctx.json) return printJson(sample);
      for (const m of sample.input) process.stdout.write(`===== ${m.role} =====\n${m.content}\n\n`);
    });
}
