import { existsSync, mkdirSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { checkOutputPath, log, requireUserPath, SpecsciError } from "../../core/index.js";
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
} from "../../evals/index.js";
import {
  type InspectLogFormat,
  listEvalRuns,
  validatedLog,
  writeInspectLog,
} from "../../experiment/light.js";
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

/** One run's Inspect log, validated, in DIR (an export of a run overwrites its last one). */
async function writeExport(
  ctx: CliContext,
  runId: string,
  dir: string,
  format: InspectLogFormat = "json",
): Promise<string> {
  const { fileName, log: evalLog } = exportInspectLog(ctx.store, runId);
  mkdirSync(dir, { recursive: true });
  return writeInspectLog(
    validatedLog(evalLog, runId),
    dir,
    fileName.replace(/\.json$/, ""),
    format,
  );
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
    if (o.export) log.info(`wrote ${await writeExport(ctx, summary.runId, resolve(o.export))}`);
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

/** `specsci eval export`: an experiment file's runs, or one run. */
export async function evalExport(
  ctx: CliContext,
  target: string,
  o: { out: string; format: InspectLogFormat },
) {
  const dir = checkOutputPath(o.out, "dir", "-o/--out");
  if (existsSync(target) && statSync(target).isFile()) return exportExperiment(ctx, target, dir, o);
  if (!ctx.store.evals.run(target)) {
    if (/\.ya?ml$/i.test(target))
      throw new SpecsciError(`no experiment file ${target}`, {
        hint: "give the path of an experiment.yaml, or a run id from `specsci eval list`",
      });
    throw new SpecsciError(`"${target}" is neither an experiment file nor an eval run`, {
      hint: "give an experiment.yaml, or a run id from `specsci eval list`",
    });
  }
  const path = await writeExport(ctx, target, dir, o.format);
  if (ctx.json) printJson({ path });
  else process.stdout.write(`${path}\n`);
}

async function exportExperiment(
  ctx: CliContext,
  file: string,
  dir: string,
  o: { format: InspectLogFormat },
) {
  const { buildStages, exportExperimentLogs, loadExperiment } = await import(
    "../../experiment/index.js"
  );
  const loaded = loadExperiment(file);
  const graph = await buildStages(loaded, ctx.llm());
  const done = await exportExperimentLogs(loaded, graph, ctx.store, dir, o.format);
  if (ctx.json) return printJson(done);
  for (const l of done.logs) process.stdout.write(`${l.path}\n`);
  process.stdout.write(`${done.listing}\n${done.manifest}\n`);
  if (done.notRun.length)
    log.warn(`${done.notRun.length} stage(s) not run yet, not exported: ${done.notRun.join(", ")}`);
  log.info(`open with: inspect view --log-dir ${dir}`);
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
