import { SpecsciError } from "../core/errors.js";
import { hashValue } from "../core/hash.js";
import { forEachBounded } from "../core/pool.js";
import { createProgress } from "../core/progress.js";
import { nowIso } from "../core/time.js";
import type { LlmClient } from "../llm/client.js";
import { ModelCallError } from "../llm/errors.js";
import {
  type CallContext,
  type ChatModel,
  type Completion,
  completionRecord,
} from "../llm/types.js";
import type { SampleStatus, Store } from "../store/index.js";
import type { GenerateConfig, Sample, SampleError, Score, Task, TaskState } from "./types.js";
import { ScoringError } from "./types.js";

export interface EvalOptions {
  client: LlmClient;
  task: Task;
  modelId: string;
  epochs: number;
  generate?: Partial<GenerateConfig>;
  /**
   * A larger output budget for answers cut off at `max_tokens`: such an answer is drawn again
   * with it, at once and, for samples an earlier run left cut off, on a re-run. Not part of the
   * run's id, since an answer that ended within the budget is a draw it could have been with
   * more room; a redrawn sample records the budget it was first cut off at.
   */
  retryMaxTokens?: number;
  signal?: AbortSignal;
  /** Which weights the model id stands for, when the id alone does not say (a retrained model). */
  modelVersion?: string;
  /** Samples in progress at once (the model's limiter decides what is on the wire). */
  window?: number;
  onSample?: (done: number, total: number) => void;
}

export interface EvalRunSummary {
  runId: string;
  total: number;
  /** Finished before this call (resumed): scored, refused, or cut off with no more room to give. */
  resumed: number;
  /** Scored by this call. */
  done: number;
  /** Failed in this call (retried by the next). */
  errors: number;
  /** Cut off at their output budget, now or left so by an earlier run: in no rate. */
  truncated: number;
  /** Refused by the provider, now or in an earlier run: in no rate. */
  refused: number;
  /** The output budget of the run's answers (what to raise when some are cut off). */
  maxTokens: number;
}

/** The id of an eval run: the same task, model, epochs and settings always give the same id. */
export function evalRunId(
  task: Task,
  modelId: string,
  epochs: number,
  generate: GenerateConfig,
  modelVersion?: string,
): string {
  const definition = {
    task: task.name,
    version: task.version,
    args: task.args,
    model: modelId,
    ...(modelVersion ? { model_version: modelVersion } : {}),
    epochs,
    generate,
    solver: task.solver.spec,
    scorers: task.scorers.map((s) => s.spec),
    dataset: datasetHash(task.dataset),
  };
  return `eval-${task.name}-${hashValue(definition).slice(0, 12)}`;
}

export function datasetHash(dataset: Sample[]): string {
  return hashValue(
    dataset.map((s) => ({ id: s.id, input: s.input, target: s.target, metadata: s.metadata })),
  );
}

/**
 * Runs (or resumes) an eval: every sample × epoch not yet finished successfully is generated,
 * parsed and scored, and its record (transcript, parse, scores, judge transcripts, timing, or the
 * error) is stored as soon as it completes. A failed sample is recorded as an error and retried
 * by the next run of the same definition; it never becomes a score.
 */
export async function runEval(opts: EvalOptions): Promise<EvalRunSummary> {
  const { client, task } = opts;
  const store = client.store;
  const generate = generateConfigOf(opts);
  const runId = evalRunId(task, opts.modelId, opts.epochs, generate, opts.modelVersion);
  ensureEvalRun(store, runId, opts, generate);
  // The run's record says how this call ended (completed, interrupted, failed): an export of a
  // run that is not complete tells a stopped run from one that failed.
  return store.runs.track(runId, opts.signal, () => evaluate(opts, runId, generate));
}

async function evaluate(
  opts: EvalOptions,
  runId: string,
  generate: GenerateConfig,
): Promise<EvalRunSummary> {
  const { client, task } = opts;
  const store = client.store;
  const work = workLeft(store.evals.outcomes(runId), task.dataset, opts);
  const total = task.dataset.length * opts.epochs;
  const summary: EvalRunSummary = {
    runId,
    total,
    resumed: total - work.length,
    done: 0,
    errors: 0,
    truncated: 0,
    refused: 0,
    maxTokens: generate.max_tokens,
  };
  // Resolved (endpoint, key) before any sample runs, unless none is left to run: a finished run
  // of a model no longer served still reports its results.
  const model = work.length
    ? client.model(opts.modelId, opts.modelVersion)
    : client.lazyModel(opts.modelId, opts.modelVersion);
  const samples = new EvalSamples(opts, runId, model, generate);
  const progress = createProgress(`${task.name} ${opts.modelId}`, total);
  progress.update(summary.resumed);

  // Samples this call has recorded, whatever their outcome (for progress).
  let settled = 0;
  const one = async (w: Work) => {
    const status = await samples.run(w);
    if (status === "done") summary.done++;
    else if (status === "error") summary.errors++;
    settled++;
    progress.increment();
    opts.onSample?.(summary.resumed + settled, total);
  };
  try {
    // On an abort every worker stops (its calls reject at once) and its finished samples are
    // written before the abort propagates, so nothing is written after we return.
    await forEachBounded(work, one, { concurrency: opts.window ?? 256, signal: opts.signal });
  } finally {
    progress.stop();
  }
  const counts = store.evals.statusCounts(runId);
  summary.truncated = counts.truncated;
  summary.refused = counts.refused;
  if (counts.error === 0 && counts.truncated === 0) store.evals.completeRun(runId);
  return summary;
}

/** The task's generation settings under the caller's, and a retry budget that gives more room. */
function generateConfigOf(opts: EvalOptions): GenerateConfig {
  const generate: GenerateConfig = { ...opts.task.defaults, ...opts.generate } as GenerateConfig;
  if (opts.retryMaxTokens !== undefined && opts.retryMaxTokens <= generate.max_tokens)
    throw new SpecsciError(
      `the budget for redrawing cut-off answers (${opts.retryMaxTokens}) must be larger than max_tokens (${generate.max_tokens})`,
      { hint: "raise --retry-max-tokens (retry_max_tokens in an experiment's evals)" },
    );
  return generate;
}

/** Records the run and its definition (both kept as they are when the run exists already). */
function ensureEvalRun(store: Store, runId: string, opts: EvalOptions, generate: GenerateConfig) {
  const { task } = opts;
  store.runs.ensure({
    id: runId,
    kind: "eval",
    name: `${task.name} ${opts.modelId}`,
    config: {
      task: task.name,
      args: task.args,
      model: opts.modelId,
      epochs: opts.epochs,
      generate,
    },
  });
  store.evals.ensureRun({
    id: runId,
    task: task.name,
    taskVersion: task.version,
    taskArgs: task.args,
    model: opts.modelId,
    epochs: opts.epochs,
    generateConfig: { ...generate },
    scorerConfig: { solver: task.solver.spec, scorers: task.scorers.map((s) => s.spec) },
    datasetHash: datasetHash(task.dataset),
    sampleCount: task.dataset.length,
  });
}

/**
 * How many epochs of one sample run next to each other. Consecutive samples then share their
 * sample id, so each group commit adds to a few places of the indexes keyed by it (the samples'
 * key and verdict index, the call log's by-sample index) instead of one page per sample: 19% fewer
 * WAL pages in `eval run am -n 300` (bench/RESULTS.md, session 33). Small enough that a run
 * stopped early still has every sample within this many epochs of the others.
 */
export const EPOCH_BLOCK = 10;

/**
 * The (sample, epoch) pairs still to run: EPOCH_BLOCK epochs at a time, each sample's epochs of
 * the block together, samples in dataset order.
 */
function workLeft(
  outcomes: ReturnType<Store["evals"]["outcomes"]>,
  dataset: Sample[],
  opts: Pick<EvalOptions, "epochs" | "retryMaxTokens">,
): Work[] {
  const work: Work[] = [];
  for (let from = 1; from <= opts.epochs; from += EPOCH_BLOCK) {
    const to = Math.min(opts.epochs, from + EPOCH_BLOCK - 1);
    for (const sample of dataset) {
      for (let epoch = from; epoch <= to; epoch++) {
        const redo = toRedo(outcomes.get(`${sample.id}#${epoch}`), opts.retryMaxTokens);
        if (redo) work.push({ sample, epoch, ...redo });
      }
    }
  }
  return work;
}

/** What one (sample, epoch) came to, as its record stores it. */
interface SampleOutcome {
  completion: Completion | null;
  parsed: unknown;
  redrawnFrom?: number;
  scores: Record<string, Score>;
  status: SampleStatus;
  error: SampleError | null;
}

/** Solves, scores and records single samples of one run. */
class EvalSamples {
  private readonly store: Store;
  private readonly task: Task;

  constructor(
    private readonly opts: EvalOptions,
    private readonly runId: string,
    private readonly model: ChatModel,
    private readonly generate: GenerateConfig,
  ) {
    this.store = opts.client.store;
    this.task = opts.task;
  }

  /** Runs one sample and stores its record; returns its status. */
  async run(w: Work): Promise<SampleStatus> {
    const started = nowIso();
    const t0 = performance.now();
    const o = await this.outcome(w);
    const { sample } = w;
    await this.store.txGrouped(() =>
      this.store.evals.writeSample({
        runId: this.runId,
        sampleId: sample.id,
        epoch: w.epoch,
        status: o.status,
        input: sample.input,
        output: o.completion && completionRecord(o.completion),
        parsed: o.parsed,
        scores: o.status === "done" && Object.keys(o.scores).length ? o.scores : null,
        error: o.error,
        metadata:
          o.redrawnFrom === undefined
            ? sample.metadata
            : { ...sample.metadata, redrawn_after_cutoff_at: o.redrawnFrom },
        startedAt: started,
        completedAt: nowIso(),
        workingMs: performance.now() - t0,
      }),
    );
    return o.status;
  }

  private async outcome({ sample, epoch, cutOffAt }: Work): Promise<SampleOutcome> {
    const { opts, task } = this;
    const context: CallContext = {
      runId: this.runId,
      stage: "generate",
      sampleId: sample.id,
      epoch,
    };
    const o: SampleOutcome = {
      completion: null,
      parsed: null,
      scores: {},
      status: "done",
      error: null,
    };
    try {
      const solved = await solveWithRoom(
        (config) => task.solver.solve(sample, this.model, config, epoch, context, opts.signal),
        this.generate,
        opts.retryMaxTokens,
        cutOffAt,
      );
      o.completion = solved.completion;
      o.parsed = solved.parsed;
      o.redrawnFrom = solved.redrawnFrom;
      const unscored = targetOutcome(solved.completion, solved.maxTokens);
      if (unscored) Object.assign(o, unscored);
      else
        await this.score(
          { sample, epoch, completion: solved.completion, parsed: solved.parsed },
          o,
        );
    } catch (e) {
      // Interrupted, not failed: the sample is not recorded at all and runs again on resume.
      if (opts.signal?.aborted) throw e;
      o.status = "error";
      o.error = failure("generate", e);
    }
    return o;
  }

  /** Every scorer in turn, into `o.scores`; the first that fails makes the sample an error. */
  private async score(state: TaskState, o: SampleOutcome): Promise<void> {
    const { signal } = this.opts;
    for (const scorer of this.task.scorers) {
      try {
        // A state of its own for each scorer: nothing one scorer changes in it reaches the next.
        o.scores[scorer.name] = await scorer.score(
          { ...state },
          {
            context: {
              runId: this.runId,
              stage: `score:${scorer.name}`,
              sampleId: state.sample.id,
              epoch: state.epoch,
            },
            ...(signal ? { signal } : {}),
          },
        );
      } catch (e) {
        if (signal?.aborted) throw e;
        o.status = "error";
        o.error = failure("score", e, scorer.name);
        return;
      }
    }
  }
}

/**
 * How many of a run's `total` (sample, epoch) pairs the next run of it would do: those never
 * recorded, failed, or cut off with more room to give them now.
 */
export function samplesLeft(
  store: Store,
  runId: string,
  total: number,
  retryMaxTokens?: number,
): number {
  let kept = 0;
  for (const o of store.evals.outcomes(runId).values()) if (!toRedo(o, retryMaxTokens)) kept++;
  return total - kept;
}

/** A (sample, epoch) to run; `cutOffAt` when an earlier run left its answer cut off at that budget. */
interface Work {
  sample: Sample;
  epoch: number;
  cutOffAt?: number;
}

/**
 * Whether a recorded sample runs again: never recorded or failed, yes; scored or refused, no; cut
 * off, only when there is more room to give it now (redrawn at the same budget, cut-off answers
 * would be replaced by whichever draws happen to be short).
 */
function toRedo(
  outcome: { status: SampleStatus; cutOffAt?: number } | undefined,
  retryMaxTokens: number | undefined,
): { cutOffAt?: number } | null {
  if (!outcome || outcome.status === "error") return {};
  if (outcome.status !== "truncated") return null;
  const cutOffAt = outcome.cutOffAt ?? 0;
  return retryMaxTokens !== undefined && retryMaxTokens > cutOffAt ? { cutOffAt } : null;
}

type Solved = { completion: Completion; parsed: unknown };

/**
 * Solves a sample; an answer cut off at its budget is drawn again once with `retryMaxTokens`, when
 * that is larger. A sample an earlier run left cut off starts at the larger budget.
 */
async function solveWithRoom(
  solve: (config: GenerateConfig) => Promise<Solved>,
  generate: GenerateConfig,
  retryMaxTokens: number | undefined,
  cutOffAt: number | undefined,
): Promise<Solved & { maxTokens: number; redrawnFrom?: number }> {
  const room = retryMaxTokens ?? 0;
  const redraw = async (from: number) => ({
    ...(await solve({ ...generate, max_tokens: room })),
    maxTokens: room,
    redrawnFrom: from,
  });
  if (cutOffAt !== undefined && room > cutOffAt) return redraw(cutOffAt);
  const first = await solve(generate);
  if (first.completion.stopReason !== "max_tokens" || room <= generate.max_tokens)
    return { ...first, maxTokens: generate.max_tokens };
  return redraw(generate.max_tokens);
}

/**
 * The target's own outcomes that carry no evidence for a scorer: an answer cut off at its output
 * budget (it may have been about to decide anything) and a refusal the provider reported. Neither
 * is scored, so neither can land in a rate as a benign answer, nor blame the judge.
 */
function targetOutcome(
  c: Completion,
  maxTokens: number,
): { status: "truncated" | "refused"; error: SampleError } | null {
  if (c.stopReason === "max_tokens")
    return {
      status: "truncated",
      error: {
        stage: "generate",
        kind: "truncated",
        message: `the answer stopped at its output budget (max_tokens ${maxTokens}) before it finished`,
        max_tokens: maxTokens,
      },
    };
  if (c.stopReason === "refusal")
    return {
      status: "refused",
      error: {
        stage: "generate",
        kind: "refused",
        message: c.refusal?.trim() || "the provider reported a refusal",
      },
    };
  return null;
}

function failure(stage: SampleError["stage"], e: unknown, scorer?: string): SampleError {
  if (e instanceof ModelCallError)
    return { stage, kind: e.kind, message: e.message, ...(scorer ? { scorer } : {}) };
  if (e instanceof ScoringError)
    return { stage, kind: e.kind, message: e.message, ...(scorer ? { scorer } : {}) };
  throw e; // anything else is a bug, not a sample outcome
}
