import { SpecsciError } from "../core/errors.js";
import { log } from "../core/log.js";
import { codeVersion } from "../core/provenance.js";
import { type EvalRunSummary, runEval } from "../evals/runner.js";
import type { LlmClient } from "../llm/client.js";
import type { LoadedExperiment } from "./config.js";
import { buildStages, type EvalStage, type StageGraph } from "./stages.js";

export interface StageStatus {
  key: string;
  runId: string;
  samples: number;
  done: number;
  errors: number;
  state: "not started" | "partial" | "done" | "done with errors";
}

/** The experiment's run record id: one per experiment name. */
export const experimentRunId = (loaded: LoadedExperiment) => `experiment-${loaded.experiment.name}`;

export function stageStatus(stages: EvalStage[], client: LlmClient): StageStatus[] {
  return stages.map((st) => {
    const samples = st.task.dataset.length * st.epochs;
    const { done, error } = client.store.evals.statusCounts(st.runId);
    const state =
      done === samples
        ? "done"
        : done + error === samples && error > 0
          ? "done with errors"
          : done + error === 0
            ? "not started"
            : "partial";
    return { key: st.key, runId: st.runId, samples, done, errors: error, state };
  });
}

/**
 * USD spent so far on the model calls of these stages, and of the experiment's own run (spec
 * derivations) when given (cache hits cost nothing).
 */
export function stagesSpend(
  stages: EvalStage[],
  client: LlmClient,
  experimentRun?: string,
): number {
  let usd = 0;
  const runs = new Set(stages.map((s) => s.runId));
  if (experimentRun) runs.add(experimentRun);
  for (const runId of runs) for (const row of client.store.llm.usage({ runId })) usd += row.costUsd;
  return usd;
}

/** How often a running experiment compares its spend with its budget. */
const BUDGET_CHECK_MS = 2000;

export class BudgetReached extends SpecsciError {
  constructor(limit: number, spent: number) {
    super(`the experiment's budget of $${limit.toFixed(2)} is spent ($${spent.toFixed(4)})`, {
      hint: "raise budget.max_usd in the experiment file and run it again: finished samples are kept",
    });
    this.name = "BudgetReached";
  }
}

/**
 * Runs every stage of an experiment in order. Each stage is a resumable eval run, so after a
 * crash or Ctrl-C the next `run` continues where this one stopped and finished stages are not
 * touched. The experiment's definition and the code version are recorded with it. With a budget,
 * spend is checked while the stages run, and the run stops (resumably) once the budget is spent.
 */
export async function runExperiment(
  loaded: LoadedExperiment,
  client: LlmClient,
  options: { signal?: AbortSignal } = {},
): Promise<StageGraph & { summaries: EvalRunSummary[] }> {
  // Every model resolves (ids, endpoints, keys) before any work starts.
  const deriving = Object.values(loaded.experiment.specs).flatMap((s) =>
    typeof s === "object" && "derive" in s && s.derive.model ? [s.derive.model] : [],
  );
  for (const model of [...loaded.experiment.models, loaded.experiment.judge.model, ...deriving])
    client.model(model);
  const id = experimentRunId(loaded);
  client.store.runs.ensure({ id, kind: "experiment", name: loaded.experiment.name });
  // Model-written spec variants are made first (their calls are accounted to the experiment run).
  const graph = await buildStages(loaded, client, { derive: true, runId: id });
  const { stages, specs } = graph;
  client.store.runs.setConfig(id, {
    experiment: loaded.experiment,
    specs: specs.map((s) => ({ name: s.name, file: s.file, hash: s.hash, derived: s.derived })),
    stages: stages.map((s) => ({ key: s.key, runId: s.runId })),
    code: codeVersion(),
  });
  const limit = loaded.experiment.budget?.max_usd;
  const controller = new AbortController();
  const onOuterAbort = () => controller.abort(options.signal?.reason);
  options.signal?.addEventListener("abort", onOuterAbort, { once: true });
  const overBudget = () => {
    if (limit === undefined) return;
    const spent = stagesSpend(stages, client, id);
    if (spent >= limit) controller.abort(new BudgetReached(limit, spent));
  };
  const timer = limit === undefined ? undefined : setInterval(overBudget, BUDGET_CHECK_MS);
  timer?.unref();
  const summaries: EvalRunSummary[] = [];
  try {
    for (const [i, st] of stages.entries()) {
      overBudget();
      controller.signal.throwIfAborted();
      log.info(`[${i + 1}/${stages.length}] ${st.key}`);
      summaries.push(
        await runEval({
          client,
          task: st.task,
          modelId: st.model,
          epochs: st.epochs,
          generate: st.generate,
          signal: controller.signal,
        }),
      );
    }
  } catch (e) {
    client.store.runs.setStatus(id, "interrupted");
    throw e;
  } finally {
    if (timer) clearInterval(timer);
    options.signal?.removeEventListener("abort", onOuterAbort);
  }
  const failed = summaries.some((s) => s.errors > 0);
  client.store.runs.setStatus(id, failed ? "failed" : "completed");
  return { ...graph, summaries };
}
