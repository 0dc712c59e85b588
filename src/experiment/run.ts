import { SpecsciError } from "../core/errors.js";
import { log } from "../core/log.js";
import { codeVersion } from "../core/provenance.js";
import { sampleProgress } from "../evals/progress.js";
import { type EvalRunSummary, runEval } from "../evals/runner.js";
import type { LlmClient } from "../llm/client.js";
import type { RunningServers } from "../train/servers.js";
import type { LoadedExperiment } from "./config.js";
import { type ArmAnalysis, analyzeExperiment, checkReasoningInputs } from "./reasoning.js";
import { buildStages, type EvalStage, type StageGraph } from "./stages.js";
import {
  type Blocked,
  makeTrainedModels,
  serveTrainedStages,
  type TrainedArmsResult,
} from "./trained.js";

export interface StageStatus {
  key: string;
  runId: string;
  samples: number;
  /** Scored samples. */
  done: number;
  errors: number;
  /** Answers cut off at their output budget (in no rate; redrawn with `retry_max_tokens`). */
  truncated: number;
  /** Samples the provider refused (in no rate; final). */
  refused: number;
  /** Model calls recorded for the stage, finished samples or not, and what they cost. */
  calls: number;
  spentUsd: number;
  state: "not started" | "partial" | "done" | "done with errors";
}

/** The experiment's run record id: one per experiment name. */
export const experimentRunId = (loaded: LoadedExperiment) => `experiment-${loaded.experiment.name}`;

/**
 * Where each stage stands. A stage whose calls were made (and paid for) but whose samples did not
 * finish, as after a Ctrl-C during its first samples, is partial, not "not started".
 */
export function stageStatus(stages: EvalStage[], client: LlmClient): StageStatus[] {
  return stages.map((st) => {
    const progress = sampleProgress(client.store, st.runId, st.task.dataset.length, st.epochs);
    const { expected: samples, recorded, done, errors: error, truncated, refused } = progress;
    const usage = client.store.llm.usage({ runId: st.runId });
    const calls = usage.reduce((n, u) => n + u.calls, 0);
    const spentUsd = usage.reduce((usd, u) => usd + u.costUsd, 0);
    // Refusals are final outcomes; failures and cut-off answers leave the stage to be finished.
    const state =
      done + refused === samples
        ? "done"
        : recorded === samples
          ? "done with errors"
          : recorded === 0 && calls === 0
            ? "not started"
            : "partial";
    return {
      key: st.key,
      runId: st.runId,
      samples,
      done,
      errors: error,
      truncated,
      refused,
      calls,
      spentUsd,
      state,
    };
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
  otherRuns: string[] = [],
): number {
  const runs = new Set([...stages.map((s) => s.runId), ...otherRuns]);
  if (experimentRun) runs.add(experimentRun);
  return client.store.llm.spentUsd([...runs]);
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

export interface ExperimentRunResult extends StageGraph {
  summaries: EvalRunSummary[];
  /** The trained arms' chain: data made, models trained, and what could not go on here. */
  trainedArms: TrainedArmsResult | null;
  /** Eval stages left out because their model could not be trained or served here. */
  blocked: (Blocked & { key?: string })[];
  /** The reasoning analyses run (one per arm and model), when the experiment asks for them. */
  analyses: ArmAnalysis[];
}

/** What an experiment's run records of it (`specsci status` and the dashboard read it back). */
export function experimentRecord(
  loaded: LoadedExperiment,
  graph: StageGraph,
  stages: EvalStage[],
  data?: { dir: string; kind: string; run: string }[],
) {
  return {
    experiment: loaded.experiment,
    // The file and its text, so the dashboard rebuilds the stage graph without the file.
    file: loaded.file,
    source: loaded.source,
    specs: graph.specs.map((s) => ({
      name: s.name,
      file: s.file,
      hash: s.hash,
      derived: s.derived,
    })),
    stages: stages.map((s) => ({ key: s.key, runId: s.runId })),
    data,
    code: codeVersion(),
  };
}

export interface ExperimentRunOptions {
  signal?: AbortSignal;
  log?: (line: string) => void;
}

/**
 * Runs an experiment: derives its spec variants, makes the trained arms' data, trains and serves
 * their models where this machine (or Together) can, then runs every eval stage in order. Each
 * step is resumable, so after a crash or Ctrl-C the next `run` continues where this one stopped
 * and finished work is not redone. The experiment's definition and the code version are recorded
 * with it. With a budget, spend (data generation included) is checked while it runs, and the run
 * stops (resumably) once the budget is spent.
 */
export async function runExperiment(
  loaded: LoadedExperiment,
  client: LlmClient,
  options: ExperimentRunOptions = {},
): Promise<ExperimentRunResult> {
  resolveModels(loaded, client);
  // So is what the reasoning analysis reads (taxonomy, human labels): a typo fails now, not after the evals.
  checkReasoningInputs(loaded, client.store);
  return new ExperimentRun(loaded, client, options).run();
}

/** Every model resolves (ids, endpoints, keys) before any work starts. */
function resolveModels(loaded: LoadedExperiment, client: LlmClient): void {
  const e = loaded.experiment;
  const deriving = Object.values(e.specs).flatMap((s) =>
    typeof s === "object" && "derive" in s && s.derive.model ? [s.derive.model] : [],
  );
  const labellers = e.analysis?.reasoning?.labellers ?? [];
  for (const model of [...e.models, e.judge.model, ...deriving, ...labellers]) client.model(model);
}

/** The graph of the run, and what the trained arms' chain made of it. */
interface TrainedGraph {
  graph: StageGraph;
  trainedArms: TrainedArmsResult | null;
}

/** One run of an experiment: its steps share the run record, the abort signal and the budget. */
class ExperimentRun {
  private readonly id: string;
  private readonly limit: number | undefined;
  private readonly controller = new AbortController();
  private readonly say: (line: string) => void;
  /** Runs whose calls count towards the budget: spec derivations, data generation, eval stages. */
  private readonly spendRuns = new Set<string>();
  private stages: EvalStage[] = [];
  private readonly blocked: ExperimentRunResult["blocked"] = [];
  private servers: RunningServers | null = null;

  constructor(
    private readonly loaded: LoadedExperiment,
    private readonly client: LlmClient,
    private readonly options: ExperimentRunOptions,
  ) {
    this.id = experimentRunId(loaded);
    this.limit = loaded.experiment.budget?.max_usd;
    this.say = options.log ?? ((m: string) => log.info(m));
  }

  async run(): Promise<ExperimentRunResult> {
    const { client, id, controller, options } = this;
    // Two drivers of one experiment would run its stages twice: the second is refused (before
    // it touches the run's record). Nothing between here and the try throws: finally releases it.
    const lock = client.store.locks.acquire(id, `experiment "${this.loaded.experiment.name}"`);
    const onOuterAbort = () => controller.abort(options.signal?.reason);
    options.signal?.addEventListener("abort", onOuterAbort, { once: true });
    const timer =
      this.limit === undefined ? undefined : setInterval(this.overBudget, BUDGET_CHECK_MS);
    timer?.unref();
    try {
      client.store.runs.ensure({ id, kind: "experiment", name: this.loaded.experiment.name });
      return await this.steps();
    } catch (e) {
      client.store.runs.setStatus(id, "interrupted");
      // A budget stop or a dead server aborts the work: report why, not "aborted".
      if (controller.signal.aborted && controller.signal.reason instanceof SpecsciError)
        throw controller.signal.reason;
      throw e;
    } finally {
      if (timer) clearInterval(timer);
      options.signal?.removeEventListener("abort", onOuterAbort);
      try {
        await this.servers?.stop();
      } finally {
        lock.release();
      }
    }
  }

  /** Aborts the run once the budget is spent (spend is checked on a timer and between stages). */
  private readonly overBudget = () => {
    const { limit } = this;
    if (limit === undefined) return;
    const spent = stagesSpend(this.stages, this.client, this.id, [...this.spendRuns]);
    if (spent >= limit) this.controller.abort(new BudgetReached(limit, spent));
  };

  private async steps(): Promise<ExperimentRunResult> {
    const { client, id, controller, blocked } = this;
    const { graph, trainedArms } = await this.trainedGraph();
    this.stages = graph.stages;
    const runnable = await this.serve();
    client.store.runs.setConfig(
      id,
      experimentRecord(
        this.loaded,
        graph,
        this.stages,
        trainedArms?.data.map((d) => ({ dir: d.step.dir, kind: d.step.kind, run: d.runId })),
      ),
    );
    // A server that dies mid-run fails every call after it; stop at once instead.
    void this.servers?.exited.then((why) =>
      controller.abort(
        new SpecsciError(why, { hint: "look at its log under the experiment's -training/serve/" }),
      ),
    );
    const summaries = await this.evaluate(runnable);
    // The reasoning in the transcripts, once they exist (its calls count towards the budget).
    this.overBudget();
    const analyses = await analyzeExperiment(this.loaded, client, graph, {
      signal: controller.signal,
      log: this.say,
      onRun: (r) => this.spendRuns.add(r),
    });
    const failed =
      summaries.some((s) => s.errors > 0 || s.truncated > 0) ||
      blocked.length > 0 ||
      analyses.some((a) => (a.failures ?? 0) > 0);
    client.store.runs.setStatus(id, failed ? "failed" : "completed");
    return { ...graph, stages: this.stages, summaries, trainedArms, blocked, analyses };
  }

  /**
   * The stage graph, after the trained arms' chain made what it could. Model-written spec
   * variants are made first (their calls are accounted to the experiment run).
   */
  private async trainedGraph(): Promise<TrainedGraph> {
    const { loaded, client, id } = this;
    const graph = await buildStages(loaded, client, { derive: true, runId: id });
    if (!graph.training.length) return { graph, trainedArms: null };
    const trainedArms = await makeTrainedModels(loaded, client, graph, {
      signal: this.controller.signal,
      log: this.say,
      onRun: (r) => this.spendRuns.add(r),
    });
    this.blocked.push(...trainedArms.blocked);
    // Models trained just now are registered: their stages are in the graph from here on.
    if (!trainedArms.trained.length) return { graph, trainedArms };
    return { graph: await buildStages(loaded, client, { runId: id }), trainedArms };
  }

  /** Serves the trained stages' models; returns the stages that can run. */
  private async serve(): Promise<EvalStage[]> {
    const serving = await serveTrainedStages(this.loaded, this.client, this.stages, {
      signal: this.controller.signal,
      log: this.say,
    });
    this.servers = serving.servers;
    this.blocked.push(...serving.blocked);
    const unserved = new Set(serving.blocked.map((b) => b.key));
    return this.stages.filter((s) => !unserved.has(s.key));
  }

  /** Runs the eval stages in order, checking the budget before each. */
  private async evaluate(runnable: EvalStage[]): Promise<EvalRunSummary[]> {
    const { signal } = this.controller;
    const summaries: EvalRunSummary[] = [];
    for (const [i, st] of runnable.entries()) {
      this.overBudget();
      signal.throwIfAborted();
      this.say(`[${i + 1}/${runnable.length}] ${st.key}`);
      summaries.push(
        await runEval({
          client: this.client,
          task: st.task,
          modelId: st.model,
          epochs: st.epochs,
          generate: st.generate,
          ...(st.eval.retry_max_tokens !== undefined
            ? { retryMaxTokens: st.eval.retry_max_tokens }
            : {}),
          signal,
          ...(st.modelVersion ? { modelVersion: st.modelVersion } : {}),
        }),
      );
    }
    return summaries;
  }
}
