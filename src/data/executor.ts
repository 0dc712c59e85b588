/**
 * Runs one stage's items through a model, online or through a batch API, with item-level
 * persistence: each finished item (accepted, or failed after its attempts) is written to the
 * store as soon as it is known, so a killed run resumes with the items that are not there yet.
 * A malformed answer is retried with the problem shown to the model; after the last attempt the
 * item is recorded as failed and the stage goes on. A failed call is recorded as a failure, and
 * is the one kind of failure a resumed run tries again (an invalid answer would replay from the
 * cache and fail the same way).
 */
import { forEachBounded } from "../core/pool.js";
import { createProgress } from "../core/progress.js";
import type { LlmClient } from "../llm/client.js";
import type { ChatOutcome, ChatRequest } from "../llm/types.js";
import {
  type Answer,
  type Asking,
  attemptRequest,
  firstAttempt,
  isAnswer,
  type Question,
  settleAttempt,
} from "../llm/validated.js";
import type { ItemRow } from "../store/index.js";

export type { Verdict } from "../llm/validated.js";

/** One stored item's question (see llm/validated.ts): asked until its answer passes `check`. */
export interface ItemJob<T> extends Question<T> {
  key: string;
  /** The request of attempt `attempt` (its sample index), with the last problem, if any. */
  request(attempt: number, feedback: string | undefined, maxTokens: number): ChatRequest;
}

export interface StageRun {
  client: LlmClient;
  /** What the items make (`msm`, `aft`): the progress line's first word. */
  job: string;
  /** The run the items belong to: an MSM corpus, an AFT chat set. */
  runId: string;
  stage: string;
  model: string;
  maxTokens: number;
  attempts: number;
  concurrency: number;
  batch: boolean;
  signal?: AbortSignal;
}

export interface StageOutcome {
  rows: Map<string, ItemRow>;
  /** Items finished by this call (the rest were already in the store). */
  ran: number;
}

/** Items already finished for good: accepted, or failed for a reason a retry would repeat. */
const settled = (r: ItemRow | undefined) =>
  r !== undefined && (r.status === "ok" || r.error?.kind !== "call");

/** An item's question between attempts; its job names the item. */
type Pending<T> = Asking<T> & { question: ItemJob<T> };

/** The row that records how an item's question ended. */
function rowOf<T>(key: string, stage: string, a: Answer<T>): ItemRow {
  const base = { key, stage, attempts: a.tries };
  if (a.status === "ok") return { ...base, status: "ok", value: a.value, error: null };
  if (a.status === "failed")
    return {
      ...base,
      status: "failed",
      value: null,
      error: { kind: "call", message: `${a.failure.error.kind}: ${a.failure.error.message}` },
    };
  return {
    ...base,
    status: "failed",
    value: null,
    // The rejected answer is kept so that the user can see what the model said.
    error: { kind: "invalid", message: a.problem, answer: a.last.text },
  };
}

export async function runStage<T>(run: StageRun, jobs: ItemJob<T>[]): Promise<StageOutcome> {
  const store = run.client.store;
  const rows = store.items.stage(run.runId, run.stage);
  const todo = jobs.filter((j) => !settled(rows.get(j.key)));
  if (todo.length === 0) return { rows, ran: 0 };
  const progress = createProgress(`${run.job} ${run.stage}`, todo.length);
  const record = async (row: ItemRow) => {
    rows.set(row.key, row);
    await store.txGrouped(() => store.items.put(run.runId, row));
    progress.increment();
  };
  /** Settles one answer: a row to record, or the item's next attempt. */
  const settle = (p: Pending<T>, outcome: ChatOutcome): ItemRow | Pending<T> => {
    const next = settleAttempt(p, outcome, run.attempts);
    return isAnswer(next)
      ? rowOf(p.question.key, run.stage, next)
      : { ...next, question: p.question };
  };
  const first = todo.map(
    (job): Pending<T> => ({ ...firstAttempt(job, run.maxTokens), question: job }),
  );
  try {
    if (run.batch) await runBatched(run, first, settle, record);
    else await runOnline(run, first, settle, record);
  } finally {
    progress.stop();
  }
  return { rows, ran: todo.length };
}

type Settle<T> = (p: Pending<T>, o: ChatOutcome) => ItemRow | Pending<T>;
const isRow = <T>(x: ItemRow | Pending<T>): x is ItemRow => "status" in x;

async function runOnline<T>(
  run: StageRun,
  items: Pending<T>[],
  settle: Settle<T>,
  record: (r: ItemRow) => Promise<void>,
): Promise<void> {
  const model = run.client.lazyModel(run.model);
  const options = {
    context: { runId: run.runId, stage: run.stage },
    ...(run.signal ? { signal: run.signal } : {}),
  };
  // An abort (or an internal error) stops the pool taking items; finished ones are already stored.
  await forEachBounded(
    items,
    async (first) => {
      let p: Pending<T> | ItemRow = first;
      while (!isRow(p)) p = settle(p, await model.call(attemptRequest(p), options));
      await record(p);
    },
    { concurrency: run.concurrency },
  );
}

/** Rounds of provider batches: round k holds every item's attempt k. */
async function runBatched<T>(
  run: StageRun,
  items: Pending<T>[],
  settle: Settle<T>,
  record: (r: ItemRow) => Promise<void>,
): Promise<void> {
  const runner = run.client.batchRunner(run.model);
  let round = items;
  while (round.length) {
    const outcomes = await runner.run(round.map(attemptRequest), {
      context: { runId: run.runId, stage: run.stage },
      ...(run.signal ? { signal: run.signal } : {}),
    });
    const again: Pending<T>[] = [];
    const done: Promise<void>[] = [];
    round.forEach((p, i) => {
      const r = settle(p, outcomes[i] as ChatOutcome);
      if (isRow(r)) done.push(record(r));
      else again.push(r);
    });
    await Promise.all(done);
    round = again;
  }
}

/** Asks one stage's items of a run (see `stageRunner`): every row of the stage, by key. */
export type StageAsk = <T>(stage: string, jobs: ItemJob<T>[]) => Promise<Map<string, ItemRow>>;

/**
 * Runs stages of one run with its recipe's shared settings: each call names the stage, its model
 * and budget come from `settings`. With `batch`, every stage's model must have a batch API: that
 * is found out here, not after hours of answers.
 */
export function stageRunner(o: {
  client: LlmClient;
  job: string;
  runId: string;
  recipe: { attempts: number; concurrency: number; batch: boolean };
  /** Every stage the build will run. */
  stages: readonly string[];
  signal?: AbortSignal | undefined;
  log?: ((message: string) => void) | undefined;
  settings: (stage: string) => { model: string; max_tokens: number };
}): StageAsk {
  const { attempts, concurrency, batch } = o.recipe;
  if (batch)
    for (const model of new Set(o.stages.map((s) => o.settings(s).model)))
      o.client.batchRunner(model);
  return async <T>(stage: string, jobs: ItemJob<T>[]): Promise<Map<string, ItemRow>> => {
    const s = o.settings(stage);
    const out = await runStage(
      {
        client: o.client,
        job: o.job,
        runId: o.runId,
        stage,
        model: s.model,
        maxTokens: s.max_tokens,
        attempts,
        concurrency,
        batch,
        ...(o.signal ? { signal: o.signal } : {}),
      },
      jobs,
    );
    if (out.ran) o.log?.(`${stage}: ${out.ran} item(s) answered`);
    return out.rows;
  };
}
