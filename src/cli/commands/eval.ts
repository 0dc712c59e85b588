import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import {
  checkOutputPath,
  log,
  requireUserPath,
  SpecsciError,
  writeFileAtomic,
} from "../../core/index.js";
import {
  allConditions,
  conditionId,
  DEFAULT_TOGGLES,
  exportInspectLog,
  loadPack,
  parseConditionId,
  renderCondition,
  runEval,
  type Task,
  taskDefinitions,
  validateEvalLog,
} from "../../evals/index.js";
import { listEvalRuns } from "../../experiment/light.js";
import type { CliContext } from "../context.js";
import { EXIT_SOME_CALLS_FAILED } from "../exit-codes.js";
import { printJson, printTable, unscoredColumns } from "../output.js";
import { showRun } from "./eval-show.js";
import { buildCliTask, type TaskOpts } from "./eval-task.js";

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

/** `specsci eval run` */
export async function evalRun(ctx: CliContext, taskName: string, o: RunOpts) {
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
}

/** `specsci eval tasks` */
export function evalTasks(ctx: CliContext) {
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
}

/** `specsci eval show` */
export function evalShow(ctx: CliContext, runId: string) {
  showRun(ctx, runId);
}

/** `specsci eval list` */
export function evalList(ctx: CliContext) {
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
}

/** `specsci eval export` */
export function evalExport(ctx: CliContext, runId: string, o: { out: string }) {
  checkOutputPath(o.out, "dir", "-o/--out");
  if (!ctx.store.evals.run(runId)) throw new SpecsciError(`no eval run ${runId}`);
  const path = writeExport(ctx, runId, resolve(o.out));
  if (ctx.json) printJson({ path });
  else process.stdout.write(`${path}\n`);
}

/** `specsci eval scenarios` */
export function evalScenarios(
  ctx: CliContext,
  id: string | undefined,
  o: { modelName: string; deterrents?: boolean },
) {
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
}
