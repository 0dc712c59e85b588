import { randomUUID } from "node:crypto";
import { SpecsciError } from "../../core/errors.js";
import { log } from "../../core/log.js";
import { sleep } from "../../core/time.js";
import type { BatchJobRow } from "../../store/index.js";
import { deserializeRequest, serializeRequest } from "../cache.js";
import type { LlmClient } from "../client.js";
import { classifySdkError, ModelCallError } from "../errors.js";
import type { ManagedModel } from "../managed.js";
import { backoffDelay } from "../retry.js";
import type { CallContext, ChatOutcome, ChatRequest, FailureInfo } from "../types.js";
import type { BatchBackend, BatchItem, BatchState } from "./types.js";

export interface BatchRunOptions {
  context?: CallContext;
  pollIntervalMs?: number;
  /** How long one provider batch may run before it is cancelled and its items resubmitted. */
  jobTimeoutMs?: number;
  /** Submissions per item, counting the first: expired or errored items are resubmitted until this. */
  maxRounds?: number;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

interface ActiveJob {
  row: BatchJobRow;
  cancelRequested: boolean;
}

/**
 * Runs requests through a provider's batch API with the guarantees the online path has:
 * cached items are not resent; every job and its items are persisted before submission, so a
 * restarted process resumes polling the same remote batch instead of paying for it twice; each
 * result is matched to its request by custom_id (the request's cache key), never by position,
 * and cached under that key; expired or errored items are resubmitted in later rounds; items that
 * finally fail are recorded as failures.
 */
export class BatchRunner {
  private readonly done = new Map<string, ChatOutcome>();
  private readonly rounds = new Map<string, number>();
  private readonly started = performance.now();

  constructor(
    private readonly client: LlmClient,
    private readonly model: ManagedModel,
    private readonly backend: BatchBackend,
  ) {}

  async run(requests: ChatRequest[], options: BatchRunOptions = {}): Promise<ChatOutcome[]> {
    this.requireCache();
    const cfg = this.client.config.batch;
    const pollMs = options.pollIntervalMs ?? cfg.poll_interval_s * 1000;
    const jobTimeoutMs = options.jobTimeoutMs ?? cfg.timeout_h * 3_600_000;
    const maxRounds = options.maxRounds ?? cfg.max_rounds;
    const ctx = options.context ?? {};

    const { keys, unique } = this.prepareRequests(requests, ctx);
    const progress = this.progressOf(new Set(keys), options.onProgress);
    progress();
    const pending = new Set([...unique.keys()].filter((k) => !this.done.has(k)));
    const active = this.resumeJobs(pending);
    active.push(...(await this.submit([...pending], unique, ctx)));
    progress();

    while (active.length > 0) {
      await sleep(pollMs, options.signal);
      const retry = await this.pollOnce(active, jobTimeoutMs, progress);
      const again = this.resubmittable(retry, maxRounds, ctx);
      if (again.length) active.push(...(await this.submit(again, unique, ctx)));
      progress();
    }

    return keys.map((k) => {
      const outcome = this.done.get(k);
      if (!outcome) throw new Error(`batch runner: no outcome for ${k}`);
      return outcome;
    });
  }

  private requireCache(): void {
    const { mode } = this.client.cache;
    if (mode === "off" || mode === "read-only") {
      throw new SpecsciError(
        `batch jobs keep their results in the response cache, so cache mode "${mode}" cannot be used with them`,
        {
          hint: "drop --no-cache / --cache-mode for batch runs",
        },
      );
    }
  }

  /**
   * Normalizes, keys and deduplicates the requests, and answers what the cache already holds
   * (recorded in one transaction: a re-run of a large finished batch is all hits). Returns each
   * request's key, in order, and the requests left to send.
   */
  private prepareRequests(
    requests: ChatRequest[],
    ctx: CallContext,
  ): { keys: string[]; unique: Map<string, ChatRequest> } {
    const keys: string[] = [];
    const unique = new Map<string, ChatRequest>();
    const writes: (() => void)[] = [];
    const settle = (key: string, record: { outcome: ChatOutcome; write: () => void }) => {
      this.done.set(key, record.outcome);
      writes.push(record.write);
    };
    const records = this.model.records;
    for (const raw of requests) {
      const prepared = this.model.prepare(raw);
      if ("error" in prepared) {
        const key = `invalid-${keys.length}`;
        keys.push(key);
        settle(key, records.failure("-", ctx, prepared.error, 0, 0, "batch"));
        continue;
      }
      const { req, key } = prepared;
      keys.push(key);
      if (unique.has(key) || this.done.has(key)) continue;
      const cached = records.fromCache(key, req, ctx, 0, "batch");
      if (cached) settle(key, cached);
      else unique.set(key, req);
    }
    this.client.store.tx(() => {
      for (const w of writes) w();
    });
    return { keys, unique };
  }

  /** Reports how many of the wanted keys have an outcome. */
  private progressOf(wanted: Set<string>, onProgress: BatchRunOptions["onProgress"]): () => void {
    return () => {
      if (!onProgress) return;
      let n = 0;
      for (const k of wanted) if (this.done.has(k)) n++;
      onProgress(n, wanted.size);
    };
  }

  /** Jobs a previous process submitted for any `pending` key; their keys leave `pending`. */
  private resumeJobs(pending: Set<string>): ActiveJob[] {
    const { llm } = this.client.store;
    const active: ActiveJob[] = [];
    for (const job of llm.batchJobs({ status: ["preparing", "submitted"] })) {
      if (job.model !== this.model.id) continue;
      const items = llm.batchItems(job.id).filter((i) => i.status === "pending");
      if (!items.some((i) => pending.has(i.custom_id))) continue;
      if (job.status === "preparing" || !job.remote_id) {
        // The process stopped before the provider acknowledged the job: its items go out again.
        llm.setBatchJobStatus(job.id, "failed", "interrupted before submission");
        continue;
      }
      log.info(`resuming batch ${job.remote_id} (${items.length} requests)`);
      for (const i of items) {
        pending.delete(i.custom_id);
        this.rounds.set(i.custom_id, job.round);
      }
      active.push({ row: job, cancelRequested: false });
    }
    return active;
  }

  /** Polls every active job once; finished ones leave `active`. Returns the keys to resubmit. */
  private async pollOnce(
    active: ActiveJob[],
    jobTimeoutMs: number,
    progress: () => void,
  ): Promise<string[]> {
    const retry: string[] = [];
    for (const job of [...active]) {
      const state = await this.stateOf(job);
      if (!state) continue;
      if (state.state === "in_progress") {
        await this.cancelIfLate(job, jobTimeoutMs);
        continue;
      }
      active.splice(active.indexOf(job), 1);
      if (state.state === "failed") {
        retry.push(...this.failedJob(job, state.error));
        continue;
      }
      retry.push(...(await this.collect(job.row)));
      progress();
    }
    return retry;
  }

  /** The job's state, or undefined when polling failed in a way worth trying again. */
  private async stateOf(job: ActiveJob): Promise<BatchState | undefined> {
    const remoteId = job.row.remote_id as string;
    try {
      return await this.backend.state(remoteId);
    } catch (e) {
      const err = classifySdkError(e, { model: this.model.id, timedOut: false });
      if (!err.retryable) throw err;
      log.warn(`polling batch ${remoteId} failed (${err.message}); will try again`);
      return undefined;
    }
  }

  private async cancelIfLate(job: ActiveJob, jobTimeoutMs: number): Promise<void> {
    const remoteId = job.row.remote_id as string;
    const age = Date.now() - Date.parse(job.row.created_at);
    if (age > jobTimeoutMs && !job.cancelRequested) {
      log.warn(
        `batch ${remoteId} ran past its timeout; cancelling it and resubmitting what did not finish`,
      );
      job.cancelRequested = true;
      await this.backend
        .cancel(remoteId)
        .catch((e) => log.warn(`cancelling ${remoteId} failed: ${(e as Error).message}`));
    }
  }

  /** A job the provider failed as a whole: its pending items are to be resubmitted. */
  private failedJob(job: ActiveJob, error: string): string[] {
    const { llm } = this.client.store;
    llm.setBatchJobStatus(job.row.id, "failed", error);
    const retry: string[] = [];
    for (const item of llm.batchItems(job.row.id)) {
      if (item.status !== "pending") continue;
      this.rememberRequest(item.custom_id, item.request);
      retry.push(item.custom_id);
    }
    log.warn(`batch ${job.row.remote_id as string} failed: ${error}`);
    return retry;
  }

  /**
   * Expired, cancelled, errored (retryably) or missing items go out again while rounds remain;
   * the others fail with their last error.
   */
  private resubmittable(retry: string[], maxRounds: number, ctx: CallContext): string[] {
    const again: string[] = [];
    for (const key of retry) {
      if (this.done.has(key)) continue;
      if ((this.rounds.get(key) ?? 1) < maxRounds) again.push(key);
      else
        this.fail(
          key,
          ctx,
          this.lastError.get(key) ?? {
            kind: "batch_expired",
            message: `${this.model.id}: batch item did not complete in ${maxRounds} rounds`,
            retryable: true,
          },
        );
    }
    return again;
  }

  private readonly lastError = new Map<string, FailureInfo>();
  private readonly requestOf = new Map<string, ChatRequest>();

  private fail(key: string, ctx: CallContext, error: FailureInfo): void {
    const err = new ModelCallError(error.kind, error.message, {
      retryable: error.retryable,
      ...(error.httpStatus !== undefined ? { httpStatus: error.httpStatus } : {}),
    });
    const record = this.model.records.failure(
      key,
      ctx,
      err,
      this.rounds.get(key) ?? 1,
      this.elapsed(),
      "batch",
    );
    this.client.store.tx(record.write);
    this.done.set(key, record.outcome);
  }

  /** Keeps a stored request at hand for resubmission (items of resumed jobs arrive only as rows). */
  private rememberRequest(key: string, stored: string): void {
    if (!this.requestOf.has(key))
      this.requestOf.set(key, deserializeRequest(this.client.store, stored));
  }

  private elapsed(): number {
    return performance.now() - this.started;
  }

  /** Chunks keys to the provider's limits, persists each job with its items, then submits it. */
  private async submit(
    keys: string[],
    unique: Map<string, ChatRequest>,
    ctx: CallContext,
  ): Promise<ActiveJob[]> {
    const store = this.client.store;
    const jobs: ActiveJob[] = [];
    let chunk: BatchItem[] = [];
    let bytes = 0;
    const chunks: BatchItem[][] = [];
    for (const key of keys) {
      const request = unique.get(key) ?? this.requestOf.get(key);
      if (!request) throw new Error(`batch runner: no request for ${key}`);
      const item = { customId: key, request };
      const size = this.backend.sizeOf(item);
      if (size > this.backend.maxBytes) {
        this.fail(key, ctx, {
          kind: "bad_request",
          message: `${this.model.id}: request of ${size} bytes exceeds the batch size limit`,
          retryable: false,
        });
        continue;
      }
      if (chunk.length >= this.backend.maxRequests || bytes + size > this.backend.maxBytes) {
        chunks.push(chunk);
        chunk = [];
        bytes = 0;
      }
      chunk.push(item);
      bytes += size;
    }
    if (chunk.length) chunks.push(chunk);

    for (const items of chunks) {
      const round = Math.max(
        ...items.map((i) =>
          this.rounds.has(i.customId) ? (this.rounds.get(i.customId) as number) + 1 : 1,
        ),
      );
      const jobId = randomUUID();
      store.tx(() =>
        store.llm.createBatchJob({
          id: jobId,
          provider: this.model.resolved.provider,
          model: this.model.id,
          round,
          items: items.map((i) => ({
            customId: i.customId,
            request: serializeRequest(store, i.request, this.model.resolved.model.identity),
          })),
          runId: ctx.runId ?? null,
          stage: ctx.stage ?? null,
        }),
      );
      for (const i of items) {
        this.rounds.set(i.customId, round);
        this.requestOf.set(i.customId, i.request);
      }
      const submitted = await this.submitWithRetries(items, jobId);
      if ("error" in submitted) {
        // Submission was already retried with backoff; its items fail now (a re-run retries them).
        store.llm.setBatchJobStatus(jobId, "failed", submitted.error.message);
        for (const i of items) this.fail(i.customId, ctx, submitted.error);
        continue;
      }
      store.llm.markBatchSubmitted(jobId, submitted.remoteId, submitted.inputFileId ?? null);
      log.info(`submitted batch ${submitted.remoteId} (${items.length} requests, round ${round})`);
      jobs.push({ row: store.llm.batchJob(jobId) as BatchJobRow, cancelRequested: false });
    }
    return jobs;
  }

  private async submitWithRetries(
    items: BatchItem[],
    jobId: string,
  ): Promise<{ remoteId: string; inputFileId?: string } | { error: FailureInfo }> {
    const policy = this.client.retryPolicy;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.backend.submit(items, jobId);
      } catch (e) {
        const err = classifySdkError(e, { model: this.model.id, timedOut: false });
        if (!err.retryable || attempt >= policy.maxAttempts) return { error: err.toFailure() };
        await sleep(backoffDelay(policy, attempt, err.retryAfterMs));
      }
    }
  }

  /** Reads a finished job's results into the cache and call log. Returns keys to resubmit. */
  private async collect(job: BatchJobRow): Promise<string[]> {
    const store = this.client.store;
    const items = new Map(store.llm.batchItems(job.id).map((i) => [i.custom_id, i]));
    const ctx: CallContext = {};
    if (job.run_id) ctx.runId = job.run_id;
    if (job.stage) ctx.stage = job.stage;
    const seen = new Set<string>();
    const retry: string[] = [];
    let buffer: (() => void)[] = [];
    const flush = () => {
      const writes = buffer;
      buffer = [];
      store.tx(() => {
        for (const w of writes) w();
      });
    };

    for await (const r of this.backend.results(job.remote_id as string)) {
      const item = items.get(r.customId);
      if (!item) {
        log.warn(
          `batch ${job.remote_id}: ignoring a result for an unknown custom_id ${r.customId}`,
        );
        continue;
      }
      if (seen.has(r.customId) || item.status !== "pending") continue;
      seen.add(r.customId);
      if (r.status === "succeeded") {
        const request = deserializeRequest(store, item.request);
        buffer.push(() => {
          const record = this.model.records.success(
            r.customId,
            request,
            ctx,
            r.result,
            "batch",
            this.rounds.get(r.customId) ?? job.round,
            this.elapsed(),
          );
          record.write();
          this.done.set(r.customId, record.outcome);
          store.llm.setBatchItemStatus(job.id, r.customId, "succeeded");
        });
      } else {
        const error = r.error;
        buffer.push(() =>
          store.llm.setBatchItemStatus(job.id, r.customId, r.status, JSON.stringify(error)),
        );
        this.lastError.set(r.customId, error);
        this.rememberRequest(r.customId, item.request);
        if (error.retryable) retry.push(r.customId);
        else buffer.push(() => this.fail(r.customId, ctx, error));
      }
      if (buffer.length >= 500) flush();
    }
    for (const [key, item] of items) {
      if (seen.has(key) || item.status !== "pending") continue;
      buffer.push(() => store.llm.setBatchItemStatus(job.id, key, "missing"));
      this.lastError.set(key, {
        kind: "batch_expired",
        message: `${this.model.id}: the batch returned no result for this request`,
        retryable: true,
      });
      this.rememberRequest(key, item.request);
      retry.push(key);
    }
    buffer.push(() => store.llm.setBatchJobStatus(job.id, "collected"));
    flush();
    return retry;
  }
}
