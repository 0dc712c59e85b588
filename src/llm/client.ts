import { attemptSignal } from "../core/abort.js";
import { SpecsciError } from "../core/errors.js";
import { log } from "../core/log.js";
import { mapBounded } from "../core/pool.js";
import { sleep } from "../core/time.js";
import type { Store } from "../store/index.js";
import { AnthropicBatchBackend } from "./batch/anthropic.js";
import { OpenAIBatchBackend } from "./batch/openai.js";
import { BatchRunner } from "./batch/runner.js";
import { cacheKey, ResponseCache } from "./cache.js";
import type { CacheMode, Config } from "./config.js";
import { ModelCallError } from "./errors.js";
import { ThroughputLimiter } from "./limiter.js";
import type { DownloadProgress } from "./local/hf-download.js";
import { ModelNotices } from "./models.js";
import { PriceBook } from "./prices.js";
import { ProviderRegistry, type ResolvedModel } from "./registry.js";
import { backoffDelay, type RetryPolicy } from "./retry.js";
import { servedModel } from "./served.js";
import type {
  CallContext,
  CallFailure,
  CallOptions,
  ChatModel,
  ChatOutcome,
  ChatRequest,
  Completion,
  ProviderResult,
} from "./types.js";

export interface LlmClientOptions {
  store: Store;
  config: Config;
  /** Overrides `cache:` from the config (e.g. from --no-cache). */
  cacheMode?: CacheMode;
  onDownloadProgress?: DownloadProgress;
}

type Attempted =
  | { ok: true; result: ProviderResult; attempts: number }
  | { ok: false; error: ModelCallError; attempts: number };

/**
 * The model access layer: hands out `ChatModel`s whose calls go through the response cache,
 * the provider's throughput limiter, retries with backoff and a per-attempt timeout, and are
 * recorded (success or failure, with usage and cost) in the run store.
 */
export class LlmClient {
  readonly store: Store;
  readonly config: Config;
  readonly cache: ResponseCache;
  readonly prices: PriceBook;
  readonly registry: ProviderRegistry;
  /** Deprecated or unknown model names, warned about once per run. */
  readonly notices: ModelNotices;
  private readonly limiters = new Map<string, ThroughputLimiter>();
  private readonly models = new Map<string, ManagedModel>();

  constructor(options: LlmClientOptions) {
    this.store = options.store;
    this.config = options.config;
    this.cache = new ResponseCache(options.store, options.cacheMode ?? options.config.cache);
    this.prices = new PriceBook(options.config.prices);
    const regOpts: ConstructorParameters<typeof ProviderRegistry>[1] = {
      served: (id) => servedModel(options.store, id),
    };
    if (options.onDownloadProgress) regOpts.onDownloadProgress = options.onDownloadProgress;
    this.registry = new ProviderRegistry(options.config, regOpts);
    this.notices = new ModelNotices(options.config);
  }

  /**
   * The managed model for an id such as `anthropic/claude-sonnet-4-5`. `weights` names which
   * weights answer under an id that does not say (a trained model retrained under the same name):
   * it joins the cache key, so one model's cached answers are never taken for another's.
   */
  model(id: string, weights?: string): ManagedModel {
    const key = weights ? `${id}@${weights}` : id;
    let m = this.models.get(key);
    if (!m) {
      let resolved = this.registry.resolve(id);
      this.notices.check(id);
      if (weights) {
        const inner = resolved.model;
        resolved = {
          ...resolved,
          model: {
            id: inner.id,
            identity: { ...inner.identity, weights },
            complete: (...args) => inner.complete(...args),
          },
        };
      }
      m = new ManagedModel(this, resolved, this.limiterFor(resolved));
      this.models.set(key, m);
    }
    return m;
  }

  /**
   * A model named by id and resolved (endpoint, credentials) only when first called: planning and
   * reporting name models in run ids without calling them, so they need no API key.
   */
  lazyModel(id: string, weights?: string): ChatModel {
    return {
      id,
      generate: (request, options) => this.model(id, weights).generate(request, options),
      call: (request, options) => this.model(id, weights).call(request, options),
    };
  }

  private limiterFor(resolved: ResolvedModel): ThroughputLimiter {
    let l = this.limiters.get(resolved.provider);
    if (!l) {
      l = new ThroughputLimiter(resolved.limits);
      this.limiters.set(resolved.provider, l);
    }
    return l;
  }

  /** A batch runner for a model whose provider offers a batch API. */
  batchRunner(id: string): BatchRunner {
    const model = this.model(id);
    const access = model.resolved.batch;
    if (!access) {
      throw new SpecsciError(`${id}: provider "${model.resolved.provider}" has no batch API`, {
        hint: "run without --batch, or set batch: true on an endpoint whose server offers the OpenAI Batch API",
      });
    }
    const limits = {
      maxRequests: this.config.batch.max_requests_per_batch,
      maxBytes: this.config.batch.max_bytes_per_batch,
    };
    const backend =
      access.kind === "anthropic"
        ? new AnthropicBatchBackend(access.client, id, model.resolved.name, limits)
        : new OpenAIBatchBackend(
            access.client,
            id,
            model.resolved.name,
            access.maxTokensField,
            limits,
          );
    return new BatchRunner(this, model, backend);
  }

  get retryPolicy(): RetryPolicy {
    const d = this.config.defaults;
    return {
      maxAttempts: d.max_attempts,
      baseDelayMs: d.retry_base_ms,
      maxDelayMs: d.retry_max_ms,
    };
  }

  /** Fills in the documented default output budget and checks the request's shape. */
  normalize(request: ChatRequest, modelId: string): ChatRequest {
    const params = { ...request.params };
    if (params.max_tokens === undefined) params.max_tokens = this.config.defaults.max_tokens;
    if (!Number.isInteger(params.max_tokens) || params.max_tokens < 1) {
      throw new ModelCallError("bad_request", `${modelId}: max_tokens must be a positive integer`, {
        retryable: false,
      });
    }
    if (!Array.isArray(request.messages) || request.messages.length === 0) {
      throw new ModelCallError("bad_request", `${modelId}: a request needs at least one message`, {
        retryable: false,
      });
    }
    for (const m of request.messages) {
      if (!["system", "user", "assistant"].includes(m.role) || typeof m.content !== "string") {
        throw new ModelCallError(
          "bad_request",
          `${modelId}: messages need a role (system, user, assistant) and string content`,
          {
            retryable: false,
          },
        );
      }
    }
    const sampleIndex = request.sampleIndex ?? 0;
    if (!Number.isInteger(sampleIndex) || sampleIndex < 0) {
      throw new ModelCallError(
        "bad_request",
        `${modelId}: sampleIndex must be a non-negative integer`,
        { retryable: false },
      );
    }
    return { messages: request.messages, params, sampleIndex };
  }
}

/** A `ChatModel` with every layer of the access layer applied. */
export class ManagedModel implements ChatModel {
  readonly id: string;
  private readonly inFlight = new Map<string, Promise<Attempted>>();

  constructor(
    private readonly client: LlmClient,
    readonly resolved: ResolvedModel,
    readonly limiter: ThroughputLimiter,
  ) {
    this.id = resolved.model.id;
  }

  keyOf(request: ChatRequest): string {
    return cacheKey(this.id, this.resolved.model.identity, request);
  }

  async generate(request: ChatRequest, options?: CallOptions): Promise<Completion> {
    const outcome = await this.call(request, options);
    if (outcome.ok) return outcome;
    const e = outcome.error;
    const opts: { httpStatus?: number; retryable: boolean } = { retryable: e.retryable };
    if (e.httpStatus !== undefined) opts.httpStatus = e.httpStatus;
    throw new ModelCallError(e.kind, e.message, opts);
  }

  async call(request: ChatRequest, options: CallOptions = {}): Promise<ChatOutcome> {
    const started = performance.now();
    const ctx = options.context ?? {};
    const elapsed = () => performance.now() - started;
    let req: ChatRequest;
    try {
      req = this.client.normalize(request, this.id);
    } catch (e) {
      return this.commit(this.failureRecord("-", ctx, e as ModelCallError, 0, elapsed()));
    }
    const key = this.keyOf(req);
    const cache = this.client.cache;

    const hit = cache.get(key);
    if (hit) return this.commit(this.successRecord(key, req, ctx, hit, "cache", 0, elapsed()));
    if (cache.mode === "replay") {
      const miss = new ModelCallError("cache_miss", `${this.id}: not in the cache (replay mode)`, {
        retryable: false,
      });
      return this.commit(this.failureRecord(key, ctx, miss, 0, elapsed()));
    }

    // The same request already in flight (e.g. duplicates in one batch of work) is sent once.
    const shared = this.inFlight.get(key);
    if (shared) {
      const a = await shared;
      return this.commit(
        a.ok
          ? this.successRecord(key, req, ctx, a.result, "cache", 0, elapsed())
          : this.failureRecord(key, ctx, a.error, a.attempts, elapsed()),
      );
    }
    const attempt = this.attemptWithRetries(req, options.signal);
    this.inFlight.set(key, attempt);
    try {
      const a = await attempt;
      return await this.commit(
        a.ok
          ? this.successRecord(key, req, ctx, a.result, "api", a.attempts, elapsed())
          : this.failureRecord(key, ctx, a.error, a.attempts, elapsed()),
      );
    } finally {
      this.inFlight.delete(key);
    }
  }

  /** Writes a record in the group commit of this event-loop turn; resolves once it is stored. */
  private async commit(record: { outcome: ChatOutcome; write: () => void }): Promise<ChatOutcome> {
    await this.client.store.txGrouped(record.write);
    return record.outcome;
  }

  private async attemptWithRetries(
    req: ChatRequest,
    signal: AbortSignal | undefined,
  ): Promise<Attempted> {
    const policy = this.client.retryPolicy;
    const timeoutMs = this.client.config.defaults.timeout_s * 1000;
    const estimate = estimateTokens(req);
    for (let attempt = 1; ; attempt++) {
      // The caller gave up (Ctrl-C, a budget): not a model failure, so nothing is recorded; the
      // abort reason propagates and the work is redone by the next run.
      const permit = await this.limiter.acquire(estimate, signal);
      const deadline = attemptSignal(signal, timeoutMs);
      let error: ModelCallError;
      try {
        const result = await this.resolved.model.complete(req, deadline.signal, timeoutMs);
        checkResult(result, this.id);
        const { input_tokens: input, output_tokens: output } = result.usage;
        // Unreported tokens leave the limiter with its estimate.
        permit.release(input !== undefined && output !== undefined ? input + output : undefined);
        return { ok: true, result, attempts: attempt };
      } catch (e) {
        permit.release();
        if (signal?.aborted) throw signal.reason;
        error =
          e instanceof ModelCallError
            ? e
            : new ModelCallError("unknown", `${this.id}: ${(e as Error).message}`, {
                retryable: false,
                cause: e,
              });
      } finally {
        deadline.dispose();
      }
      const delay = backoffDelay(policy, attempt, error.retryAfterMs);
      // A push-back slows every caller of this provider, not just this one.
      if (error.kind === "rate_limit" || error.kind === "overloaded") this.limiter.pushback(delay);
      if (!error.retryable || attempt >= policy.maxAttempts) {
        return { ok: false, error, attempts: attempt };
      }
      if (signal?.aborted) throw signal.reason;
      logRetry(this.id, error, attempt, policy.maxAttempts, delay);
      await sleep(delay, signal);
    }
  }

  /**
   * A success and the writes that record it (the cache entry unless it was replayed, and the call).
   * The caller runs `write` in a transaction. Internal to `llm` (the batch runner uses it too).
   */
  successRecord(
    key: string,
    req: ChatRequest,
    ctx: CallContext,
    result: ProviderResult,
    source: "api" | "cache" | "batch",
    attempts: number,
    latencyMs: number,
  ): { outcome: Completion; write: () => void } {
    const costUsd =
      source === "cache"
        ? 0
        : this.client.prices.cost(this.id, result.usage, { batch: source === "batch" });
    const store = this.client.store;
    const warnings = this.resolved.model.droppedSettings?.(req.params) ?? [];
    const write = () => {
      if (source !== "cache") {
        this.client.cache.put(key, this.id, this.resolved.model.identity, req, result);
      }
      store.llm.recordCall({
        runId: ctx.runId ?? null,
        stage: ctx.stage ?? null,
        model: this.id,
        cacheKey: key,
        source,
        status: "ok",
        stopReason: result.stopReason,
        attempts,
        // The log's token columns cannot hold "unknown"; its NULL cost keeps such a call out of
        // every sum as an unpriced one, never as a free one.
        inputTokens: result.usage.input_tokens ?? 0,
        outputTokens: result.usage.output_tokens ?? 0,
        reasoningTokens: result.usage.reasoning_tokens ?? 0,
        cacheReadTokens: result.usage.cache_read_tokens ?? 0,
        cacheWriteTokens: result.usage.cache_write_tokens ?? 0,
        costUsd,
        latencyMs,
      });
    };
    const outcome: Completion = {
      ...result,
      ok: true,
      model: this.id,
      costUsd,
      latencyMs,
      source,
      attempts,
      cacheKey: key,
      ...(warnings.length ? { warnings } : {}),
    };
    return { outcome, write };
  }

  /** A failure and the write that records it; failures are never cached. Internal to `llm`. */
  failureRecord(
    key: string,
    ctx: CallContext,
    error: ModelCallError,
    attempts: number,
    latencyMs: number,
    source: "api" | "batch" = "api",
  ): { outcome: CallFailure; write: () => void } {
    const write = () =>
      this.client.store.llm.recordCall({
        runId: ctx.runId ?? null,
        stage: ctx.stage ?? null,
        model: this.id,
        cacheKey: key,
        source,
        status: "failed",
        stopReason: "error",
        errorKind: error.kind,
        errorMessage: error.message,
        httpStatus: error.httpStatus ?? null,
        attempts,
        inputTokens: 0,
        outputTokens: 0,
        reasoningTokens: 0,
        cacheReadTokens: 0,
        cacheWriteTokens: 0,
        costUsd: 0,
        latencyMs,
      });
    const outcome: CallFailure = {
      ok: false,
      model: this.id,
      stopReason: "error",
      error: error.toFailure(),
      latencyMs,
      attempts,
      cacheKey: key,
    };
    return { outcome, write };
  }
}

/**
 * An answer with no text, no reasoning and no refusal signal is not an answer: it is retried and,
 * if it persists, recorded as a failure, never passed on as an empty (benign-looking) reply.
 */
function checkResult(result: ProviderResult, modelId: string): void {
  if (result.text === "" && !result.reasoning && result.stopReason === "end") {
    throw new ModelCallError("empty_response", `${modelId}: the model returned an empty answer`);
  }
}

/** At -v, one line per retry: which model, what failed, which attempt, how long until the next. */
function logRetry(
  modelId: string,
  error: ModelCallError,
  attempt: number,
  maxAttempts: number,
  delayMs: number,
): void {
  const status = error.httpStatus === undefined ? "" : ` (HTTP ${error.httpStatus})`;
  log.debug(
    `retry ${modelId}: ${error.kind}${status} on attempt ${attempt} of ${maxAttempts}; waiting ${(delayMs / 1000).toFixed(2)}s`,
  );
}

function estimateTokens(req: ChatRequest): number {
  let chars = 0;
  for (const m of req.messages) chars += m.content.length;
  return Math.ceil(chars / 4) + req.params.max_tokens;
}

/**
 * Runs many calls through one model, keeping input order; failures are returned, not thrown.
 * When `signal` aborts, no new call starts and the returned promise rejects with its reason
 * (calls already in flight end as recorded `aborted` failures); a re-run resumes from the cache.
 */
export async function callMany(
  model: ChatModel,
  requests: ChatRequest[],
  options: CallOptions & {
    onResult?: (outcome: ChatOutcome, index: number) => void;
    window?: number;
  } = {},
): Promise<ChatOutcome[]> {
  // A bounded window of outstanding calls keeps memory flat for very large inputs; the limiter
  // decides how many of them are actually on the wire.
  return mapBounded(
    requests,
    async (request, i) => {
      const outcome = await model.call(request, options);
      options.onResult?.(outcome, i);
      return outcome;
    },
    { concurrency: options.window ?? 512, signal: options.signal },
  );
}
