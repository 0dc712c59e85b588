import { nowIso } from "../core/time.js";
import type { SqlDatabase, SqlStatement } from "./database.js";
import type { Texts } from "./texts.js";

/** One logical model call as recorded in `llm_calls`. */
export interface CallRecord {
  runId: string | null;
  stage: string | null;
  /** The eval sample and epoch the call was made for (null outside a sample). */
  sampleId?: string | null;
  epoch?: number | null;
  model: string;
  cacheKey: string;
  source: "api" | "cache" | "batch";
  status: "ok" | "failed";
  stopReason: "end" | "max_tokens" | "refusal" | "error";
  errorKind?: string | null;
  errorMessage?: string | null;
  httpStatus?: number | null;
  attempts: number;
  inputTokens: number;
  outputTokens: number;
  reasoningTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  costUsd: number | null;
  latencyMs: number;
  /** The replica of a many-replica endpoint the call went to (null otherwise). */
  replica?: string | null;
}

/** A call made for an eval sample, with what the cache holds under its key. */
export type SampleCallRow = CallRecord & {
  id: number;
  createdAt: string;
  request: string | null;
  response: string | null;
};

export interface CacheRow {
  key: string;
  model: string;
  request: string;
  response: string;
}

export interface ReplicaUsageRow {
  model: string;
  replica: string;
  calls: number;
  ok: number;
  failed: number;
  inputTokens: number;
  outputTokens: number;
  meanLatencyMs: number;
}

export interface SampleJudgeCost {
  sampleId: string;
  epoch: number;
  calls: number;
  costUsd: number;
  unpriced: number;
}

export interface UsageRow {
  runId: string | null;
  stage: string | null;
  model: string;
  calls: number;
  ok: number;
  failed: number;
  cached: number;
  batch: number;
  maxTokensStops: number;
  refusals: number;
  inputTokens: number;
  outputTokens: number;
  reasoningTokens: number;
  costUsd: number;
  /** Calls whose price is unknown (no entry in the price table): their cost is not in costUsd. */
  unpricedCalls: number;
}

export type BatchJobStatus = "preparing" | "submitted" | "collected" | "failed";
export type BatchItemStatus =
  | "pending"
  | "succeeded"
  | "errored"
  | "expired"
  | "canceled"
  | "missing";

export interface BatchItemRow {
  custom_id: string;
  request: string;
  status: BatchItemStatus;
  error: string | null;
}

export interface BatchJobRow {
  id: string;
  provider: string;
  model: string;
  remote_id: string | null;
  status: BatchJobStatus;
  round: number;
  request_count: number;
  input_file_id: string | null;
  run_id: string | null;
  stage: string | null;
  error: string | null;
  created_at: string;
  updated_at: string;
}

/** Rows in one multi-row INSERT: 32 × 22 parameters stays far below either backend's limit. */
const MAX_ROWS = 32;

/** Keys in one look-up statement (`key IN (?, …)`). */
const LOOKUP_KEYS = 256;

/** `?, ?, …`: `n` placeholders. */
function placeholders(n: number): string {
  return Array(n).fill("?").join(", ");
}

/** `(?, …), (?, …)`: `rows` tuples of `columns` placeholders. */
function valuesList(rows: number, columns: number): string {
  const tuple = `(${placeholders(columns)})`;
  return Array(rows).fill(tuple).join(", ");
}

/** Inserts `items` MAX_ROWS at a time with the statement for each chunk's size. */
function insertInChunks<T>(
  items: readonly T[],
  statement: (rows: number) => SqlStatement,
  bind: (item: T, params: unknown[]) => void,
): void {
  for (let start = 0; start < items.length; start += MAX_ROWS) {
    const end = Math.min(items.length, start + MAX_ROWS);
    const params: unknown[] = [];
    for (let i = start; i < end; i++) bind(items[i] as T, params);
    statement(end - start).run(...params);
  }
}

/** Queries behind the model access layer: response cache, call log, batch bookkeeping. */
export class LlmTables {
  private readonly stmts: {
    cacheGet: SqlStatement;
    cacheResponse: SqlStatement;
  };
  /** Multi-row INSERTs by row count, prepared when first needed (at most MAX_ROWS of each). */
  private readonly cacheInserts = new Map<number, SqlStatement>();
  private readonly callInserts = new Map<number, SqlStatement>();
  /** Multi-key look-ups by key count (at most LOOKUP_KEYS of each), prepared when first needed. */
  private readonly cacheLookups = new Map<number, SqlStatement>();
  /** Spend sums by run count (at most LOOKUP_KEYS of each). */
  private readonly spendSums = new Map<number, SqlStatement>();
  /** usage's two statements: 1 of one run, 0 of all. */
  private readonly usages = new Map<number, SqlStatement>();

  constructor(
    private readonly db: SqlDatabase,
    readonly texts: Texts,
  ) {
    this.stmts = {
      cacheGet: db.prepare("SELECT key, model, request, response FROM llm_cache WHERE key = ?"),
      cacheResponse: db.prepare("SELECT response FROM llm_cache WHERE key = ?").pluck(),
    };
  }

  cacheGet(key: string): CacheRow | undefined {
    return this.stmts.cacheGet.get(key) as CacheRow | undefined;
  }

  /** Just the stored response (the hot path of a cache hit: the request is not read). */
  cacheResponse(key: string): string | undefined {
    return this.stmts.cacheResponse.get(key) as string | undefined;
  }

  /**
   * The stored responses of many keys, by key (a key not held is absent): one statement per
   * LOOKUP_KEYS keys, not one each. On PostgreSQL each statement is a round trip to the server,
   * which was most of a cached call's time there.
   */
  cacheResponses(keys: readonly string[]): Map<string, string> {
    const found = new Map<string, string>();
    for (let start = 0; start < keys.length; start += LOOKUP_KEYS) {
      const end = Math.min(keys.length, start + LOOKUP_KEYS);
      const n = end - start;
      const rows = this.prepared(
        this.cacheLookups,
        n,
        () => `SELECT key, response FROM llm_cache WHERE key IN (${placeholders(n)})`,
      )
        .raw()
        .all(...keys.slice(start, end)) as [string, string][];
      for (const [key, response] of rows) found.set(key, response);
    }
    return found;
  }

  cachePut(row: CacheRow): void {
    this.cachePutMany([row]);
  }

  /**
   * Cache entries in multi-row INSERTs: a group commit's entries cost one statement per
   * MAX_ROWS instead of one each (the per-statement work was most of an insert's cost).
   */
  cachePutMany(rows: readonly CacheRow[]): void {
    const now = nowIso();
    insertInChunks(
      rows,
      (n) => this.cacheInsert(n),
      (row, params) => {
        params.push(row.key, row.model, row.request, row.response, now);
      },
    );
  }

  recordCall(rec: CallRecord): void {
    this.recordCalls([rec]);
  }

  /** Call log rows in multi-row INSERTs, in the order given (their ids follow it). */
  recordCalls(recs: readonly CallRecord[]): void {
    const now = nowIso();
    // Positional binding: this runs once per model call and is measurably cheaper than named.
    insertInChunks(
      recs,
      (n) => this.callInsert(n),
      (rec, params) => {
        params.push(
          rec.runId,
          rec.stage,
          rec.model,
          rec.cacheKey,
          rec.source,
          rec.status,
          rec.stopReason,
          rec.errorKind ?? null,
          rec.errorMessage ?? null,
          rec.httpStatus ?? null,
          rec.attempts,
          rec.inputTokens,
          rec.outputTokens,
          rec.reasoningTokens,
          rec.cacheReadTokens,
          rec.cacheWriteTokens,
          rec.costUsd,
          rec.latencyMs,
          now,
          rec.sampleId ?? null,
          rec.epoch ?? null,
          rec.replica ?? null,
        );
      },
    );
  }

  private cacheInsert(rows: number): SqlStatement {
    return this.prepared(
      this.cacheInserts,
      rows,
      () => `INSERT INTO llm_cache (key, model, request, response, created_at)
         VALUES ${valuesList(rows, 5)} ON CONFLICT(key) DO NOTHING`,
    );
  }

  private callInsert(rows: number): SqlStatement {
    return this.prepared(
      this.callInserts,
      rows,
      () => `INSERT INTO llm_calls (run_id, stage, model, cache_key, source, status, stop_reason,
           error_kind, error_message, http_status, attempts, input_tokens, output_tokens,
           reasoning_tokens, cache_read_tokens, cache_write_tokens, cost_usd, latency_ms, created_at,
           sample_id, epoch, replica)
         VALUES ${valuesList(rows, 22)}`,
    );
  }

  private prepared(
    cache: Map<number, SqlStatement>,
    rows: number,
    sql: () => string,
  ): SqlStatement {
    let stmt = cache.get(rows);
    if (!stmt) {
      stmt = this.db.prepare(sql());
      cache.set(rows, stmt);
    }
    return stmt;
  }

  cacheStats(): { entries: number; models: { model: string; entries: number }[] } {
    const models = this.db
      .prepare("SELECT model, count(*) AS entries FROM llm_cache GROUP BY model ORDER BY model")
      .all() as { model: string; entries: number }[];
    return { entries: models.reduce((a, m) => a + m.entries, 0), models };
  }

  /** Usage and cost grouped by run, stage and model. */
  usage(filter: { runId?: string } = {}): UsageRow[] {
    const byRun = filter.runId !== undefined;
    // Prepared once: a running experiment asks for its runs' usage every few seconds.
    const stmt = this.prepared(
      this.usages,
      byRun ? 1 : 0,
      () => `SELECT run_id AS "runId", stage, model,
           count(*) AS calls,
           count(*) FILTER (WHERE status = 'ok') AS ok,
           count(*) FILTER (WHERE status = 'failed') AS failed,
           count(*) FILTER (WHERE source = 'cache') AS cached,
           count(*) FILTER (WHERE source = 'batch') AS batch,
           count(*) FILTER (WHERE stop_reason = 'max_tokens') AS "maxTokensStops",
           count(*) FILTER (WHERE stop_reason = 'refusal') AS refusals,
           sum(CASE WHEN source = 'cache' THEN 0 ELSE input_tokens END) AS "inputTokens",
           sum(CASE WHEN source = 'cache' THEN 0 ELSE output_tokens END) AS "outputTokens",
           sum(CASE WHEN source = 'cache' THEN 0 ELSE reasoning_tokens END) AS "reasoningTokens",
           coalesce(sum(cost_usd), 0) AS "costUsd",
           count(*) FILTER (WHERE cost_usd IS NULL AND source <> 'cache' AND status = 'ok') AS "unpricedCalls"
         FROM llm_calls ${byRun ? "WHERE run_id = @runId" : ""}
         GROUP BY run_id, stage, model
         ORDER BY min(id)`,
    );
    return stmt.all(filter) as UsageRow[];
  }

  /**
   * USD spent on the calls of these runs (cache hits cost nothing): one sum per LOOKUP_KEYS
   * runs. What a budget check needs, without usage's counts per stage and model: an experiment
   * of the paper's size checks some sixty runs every few seconds and between its stages.
   */
  spentUsd(runIds: readonly string[]): number {
    let usd = 0;
    for (let start = 0; start < runIds.length; start += LOOKUP_KEYS) {
      const end = Math.min(runIds.length, start + LOOKUP_KEYS);
      const n = end - start;
      const sum = this.prepared(
        this.spendSums,
        n,
        () =>
          `SELECT coalesce(sum(cost_usd), 0) FROM llm_calls WHERE run_id IN (${placeholders(n)})`,
      )
        .pluck()
        .get(...runIds.slice(start, end)) as number;
      usd += Number(sum);
    }
    return usd;
  }

  /**
   * Calls sent to endpoints with several replicas, per model and replica: how the load went and
   * where the errors were. Empty when no endpoint has replicas.
   */
  replicaUsage(filter: { runId?: string } = {}): ReplicaUsageRow[] {
    const where = filter.runId === undefined ? "" : "AND run_id = @runId";
    return this.db
      .prepare(
        `SELECT model, replica, count(*) AS calls, count(*) FILTER (WHERE status = 'ok') AS ok,
           count(*) FILTER (WHERE status = 'failed') AS failed,
           sum(input_tokens) AS "inputTokens", sum(output_tokens) AS "outputTokens",
           avg(latency_ms) AS "meanLatencyMs"
         FROM llm_calls WHERE replica IS NOT NULL ${where}
         GROUP BY model, replica ORDER BY model, replica`,
      )
      .all(filter) as ReplicaUsageRow[];
  }

  /**
   * What each eval sample's judge calls (stage `score:<scorer>`) cost, by sample and epoch: the
   * priced sum (cache hits and failures cost 0) and how many answered calls have no price.
   */
  sampleJudgeCosts(runId: string): SampleJudgeCost[] {
    return this.db
      .prepare(
        `SELECT sample_id AS "sampleId", epoch, count(*) AS calls,
           coalesce(sum(cost_usd), 0) AS "costUsd",
           count(*) FILTER (WHERE cost_usd IS NULL AND source <> 'cache' AND status = 'ok') AS unpriced
         FROM llm_calls
         WHERE run_id = ? AND sample_id IS NOT NULL AND stage LIKE 'score:%'
         GROUP BY sample_id, epoch`,
      )
      .all(runId) as SampleJudgeCost[];
  }

  /**
   * A run's calls made for eval samples, in the order they were made, with when they ended and
   * the request and response cached under their key (null when none was cached), in one query.
   */
  sampleCalls(runId: string): SampleCallRow[] {
    return this.db
      .prepare(
        `SELECT c.id, run_id AS "runId", stage, sample_id AS "sampleId", epoch, c.model,
           cache_key AS "cacheKey", source, status, stop_reason AS "stopReason",
           error_kind AS "errorKind", error_message AS "errorMessage", http_status AS "httpStatus",
           attempts, input_tokens AS "inputTokens", output_tokens AS "outputTokens",
           reasoning_tokens AS "reasoningTokens", cache_read_tokens AS "cacheReadTokens",
           cache_write_tokens AS "cacheWriteTokens", cost_usd AS "costUsd", latency_ms AS "latencyMs",
           c.created_at AS "createdAt", k.request, k.response
         FROM llm_calls c LEFT JOIN llm_cache k ON k.key = c.cache_key
         WHERE c.run_id = ? AND c.sample_id IS NOT NULL ORDER BY c.id`,
      )
      .all(runId) as SampleCallRow[];
  }

  calls(filter: { runId?: string; cacheKey?: string } = {}): (CallRecord & { id: number })[] {
    const clauses: string[] = [];
    if (filter.runId !== undefined) clauses.push("run_id = @runId");
    if (filter.cacheKey !== undefined) clauses.push("cache_key = @cacheKey");
    const where = clauses.length ? `WHERE ${clauses.join(" AND ")}` : "";
    return this.db
      .prepare(
        `SELECT id, run_id AS "runId", stage, model, cache_key AS "cacheKey", source, status,
           stop_reason AS "stopReason", error_kind AS "errorKind", error_message AS "errorMessage",
           http_status AS "httpStatus", attempts, input_tokens AS "inputTokens",
           output_tokens AS "outputTokens", reasoning_tokens AS "reasoningTokens",
           cache_read_tokens AS "cacheReadTokens", cache_write_tokens AS "cacheWriteTokens",
           cost_usd AS "costUsd", latency_ms AS "latencyMs", replica
         FROM llm_calls ${where} ORDER BY id`,
      )
      .all(filter) as (CallRecord & { id: number })[];
  }

  // --- batch bookkeeping -------------------------------------------------------------------

  createBatchJob(job: {
    id: string;
    provider: string;
    model: string;
    round: number;
    items: { customId: string; request: string }[];
    runId: string | null;
    stage: string | null;
  }): void {
    const now = nowIso();
    this.db
      .prepare(
        `INSERT INTO batch_jobs (id, provider, model, status, round, request_count, run_id, stage,
           created_at, updated_at)
         VALUES (?, ?, ?, 'preparing', ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        job.id,
        job.provider,
        job.model,
        job.round,
        job.items.length,
        job.runId,
        job.stage,
        now,
        now,
      );
    const item = this.db.prepare(
      "INSERT INTO batch_items (job_id, custom_id, request, status) VALUES (?, ?, ?, 'pending')",
    );
    for (const i of job.items) item.run(job.id, i.customId, i.request);
  }

  markBatchSubmitted(id: string, remoteId: string, inputFileId: string | null): void {
    this.db
      .prepare(
        `UPDATE batch_jobs SET status = 'submitted', remote_id = ?, input_file_id = ?, updated_at = ?
         WHERE id = ?`,
      )
      .run(remoteId, inputFileId, nowIso(), id);
  }

  setBatchJobStatus(id: string, status: BatchJobStatus, error: string | null = null): void {
    this.db
      .prepare("UPDATE batch_jobs SET status = ?, error = ?, updated_at = ? WHERE id = ?")
      .run(status, error, nowIso(), id);
  }

  setBatchItemStatus(
    jobId: string,
    customId: string,
    status: BatchItemStatus,
    error: string | null = null,
  ): void {
    this.db
      .prepare("UPDATE batch_items SET status = ?, error = ? WHERE job_id = ? AND custom_id = ?")
      .run(status, error, jobId, customId);
  }

  batchJob(id: string): BatchJobRow | undefined {
    return this.db.prepare("SELECT * FROM batch_jobs WHERE id = ?").get(id) as
      | BatchJobRow
      | undefined;
  }

  batchJobs(filter: { status?: BatchJobStatus[] } = {}): BatchJobRow[] {
    const statuses = filter.status ?? [];
    const where = statuses.length ? `WHERE status IN (${statuses.map(() => "?").join(", ")})` : "";
    return this.db
      .prepare(`SELECT * FROM batch_jobs ${where} ORDER BY created_at, id`)
      .all(...statuses) as BatchJobRow[];
  }

  batchItems(jobId: string): BatchItemRow[] {
    return this.db
      .prepare(
        "SELECT custom_id, request, status, error FROM batch_items WHERE job_id = ? ORDER BY rowid",
      )
      .all(jobId) as BatchItemRow[];
  }
}
