import { hashValue } from "../core/hash.js";
import { createProgress } from "../core/progress.js";
import { nowIso } from "../core/time.js";
import type { LlmClient } from "../llm/client.js";
import { ModelCallError } from "../llm/errors.js";
import { type CallContext, type Completion, completionRecord } from "../llm/types.js";
import type { GenerateConfig, Sample, SampleError, Score, Task } from "./types.js";
import { ScoringError } from "./types.js";

export interface EvalOptions {
  client: LlmClient;
  task: Task;
  modelId: string;
  epochs: number;
  generate?: Partial<GenerateConfig>;
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
  /** Finished before this call (resumed). */
  resumed: number;
  done: number;
  errors: number;
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
  const generate: GenerateConfig = { ...task.defaults, ...opts.generate } as GenerateConfig;
  const runId = evalRunId(task, opts.modelId, opts.epochs, generate, opts.modelVersion);
  // Resolved (endpoint, key) before any sample runs, unless none is left to run: a finished run
  // of a model no longer served still reports its results.
  const model =
    store.evals.statusCounts(runId).done < task.dataset.length * opts.epochs
      ? client.model(opts.modelId, opts.modelVersion)
      : client.lazyModel(opts.modelId, opts.modelVersion);
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

  const finished = store.evals.doneKeys(runId);
  const work: { sample: Sample; epoch: number }[] = [];
  for (let epoch = 1; epoch <= opts.epochs; epoch++) {
    for (const sample of task.dataset)
      if (!finished.has(`${sample.id}#${epoch}`)) work.push({ sample, epoch });
  }
  const total = task.dataset.length * opts.epochs;
  const summary: EvalRunSummary = {
    runId,
    total,
    resumed: total - work.length,
    done: 0,
    errors: 0,
  };
  const progress = createProgress(`${task.name} ${opts.modelId}`, total);
  progress.update(summary.resumed);

  const one = async ({ sample, epoch }: { sample: Sample; epoch: number }) => {
    const started = nowIso();
    const t0 = performance.now();
    const context: CallContext = { runId, stage: "generate" };
    let completion: Completion | null = null;
    let parsed: unknown = null;
    const scores: Record<string, Score> = {};
    let error: SampleError | null = null;
    try {
      ({ completion, parsed } = await task.solver.solve(
        sample,
        model,
        generate,
        epoch,
        context,
        opts.signal,
      ));
      for (const scorer of task.scorers) {
        try {
          scores[scorer.name] = await scorer.score(
            { sample, epoch, completion, parsed },
            {
              context: { runId, stage: `score:${scorer.name}` },
              ...(opts.signal ? { signal: opts.signal } : {}),
            },
          );
        } catch (e) {
          if (opts.signal?.aborted) throw e;
          error = failure("score", e, scorer.name);
          break;
        }
      }
    } catch (e) {
      // Interrupted, not failed: the sample is not recorded at all and runs again on resume.
      if (opts.signal?.aborted) throw e;
      error = failure("generate", e);
    }
    await store.txGrouped(() =>
      store.evals.writeSample({
        runId,
        sampleId: sample.id,
        epoch,
        status: error ? "error" : "done",
        input: sample.input,
        output: completion && completionRecord(completion),
        parsed,
        scores: Object.keys(scores).length ? scores : null,
        error,
        metadata: sample.metadata,
        startedAt: started,
        completedAt: nowIso(),
        workingMs: performance.now() - t0,
      }),
    );
    if (error) summary.errors++;
    else summary.done++;
    progress.increment();
    opts.onSample?.(summary.resumed + summary.done + summary.errors, total);
  };

  const window = opts.window ?? 256;
  let next = 0;
  try {
    // allSettled: on an abort every worker stops (its calls reject at once) and its finished
    // samples are written before the abort propagates, so nothing is written after we return.
    const settled = await Promise.allSettled(
      Array.from({ length: Math.min(window, work.length) }, async () => {
        while (next < work.length) {
          opts.signal?.throwIfAborted();
          await one(work[next++] as { sample: Sample; epoch: number });
        }
      }),
    );
    opts.signal?.throwIfAborted();
    const failed = settled.find((r) => r.status === "rejected");
    if (failed) throw failed.reason;
  } finally {
    progress.stop();
  }
  if (summary.errors === 0) store.evals.completeRun(runId);
  return summary;
}

function failure(stage: SampleError["stage"], e: unknown, scorer?: string): SampleError {
  if (e instanceof ModelCallError)
    return { stage, kind: e.kind, message: e.message, ...(scorer ? { scorer } : {}) };
  if (e instanceof ScoringError)
    return { stage, kind: e.kind, message: e.message, ...(scorer ? { scorer } : {}) };
  throw e; // anything else is a bug, not a sample outcome
}
