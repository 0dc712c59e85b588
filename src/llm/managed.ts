/**
 * The managed call path: one call through the response cache, the provider's throughput limiter,
 * retries with backoff and a per-attempt timeout, recorded (success or failure) in the run store.
 */
import { attemptSignal } from "../core/abort.js";
import { log } from "../core/log.js";
import { sleep } from "../core/time.js";
import { cacheKey } from "./cache.js";
import { checkResult, normalizeRequest } from "./call-checks.js";
import { type CallRecord, CallRecorder } from "./call-record.js";
import type { LlmClient } from "./client.js";
import { failureError, ModelCallError } from "./errors.js";
import type { Permit, ThroughputLimiter } from "./limiter.js";
import type { ResolvedModel } from "./registry.js";
import { backoffDelay } from "./retry.js";
import type {
  CallOptions,
  ChatModel,
  ChatOutcome,
  ChatRequest,
  Completion,
  ProviderResult,
} from "./types.js";

type Attempted =
  | {
      ok: true;
      result: ProviderResult;
      attempts: number;
      /** Still held: given back once the answer is stored (see callPrepared). */
      permit: Permit;
      /** Tokens the call used, for the limiter; undefined when the provider did not say. */
      used: number | undefined;
    }
  | { ok: false; error: ModelCallError; attempts: number };

/** A request made ready to send (defaults filled in, shape checked) with its cache key. */
export type Prepared = { req: ChatRequest; key: string } | { error: ModelCallError };

const NO_HITS: ReadonlyMap<string, ProviderResult> = new Map();

/**
 * A call that a chunk's cache look-up did not answer, prepared and looked up: `start` sends it
 * (at most once), `drop` gives it up unstarted (the caller stopped before reaching it).
 */
export class PendingCall {
  constructor(
    readonly start: () => Promise<ChatOutcome>,
    readonly drop: () => void,
  ) {}
}

/** A `ChatModel` with every layer of the access layer applied. */
export class ManagedModel implements ChatModel {
  readonly id: string;
  /** Records this model's outcomes; the batch runner records through it too. */
  readonly records: CallRecorder;
  private readonly inFlight = new Map<string, Promise<Attempted>>();
  /** Keys of `callCached`'s misses not yet started, and whether a call has answered one since. */
  private readonly waiting = new Map<string, { count: number; answered: boolean }>();

  constructor(
    private readonly client: LlmClient,
    readonly resolved: ResolvedModel,
    readonly limiter: ThroughputLimiter,
  ) {
    this.id = resolved.model.id;
    this.records = new CallRecorder(client, this.id, resolved.model);
  }

  keyOf(request: ChatRequest): string {
    return cacheKey(this.id, this.resolved.model.identity, request);
  }

  /** The first step of every call, online or batched. */
  prepare(request: ChatRequest): Prepared {
    let req: ChatRequest;
    try {
      req = normalizeRequest(request, this.id, this.client.config.defaults.max_tokens);
    } catch (e) {
      return { error: e as ModelCallError };
    }
    return { req, key: this.keyOf(req) };
  }

  /**
   * The calls among `requests` that the cache answers, answered and recorded at once: one
   * look-up statement for many keys and their call-log rows committed together, instead of a
   * look-up, a record and a promise each. Each other request gets a `PendingCall` to start when
   * the caller has room: prepared and looked up already, so neither is done again (an invalid
   * request is recorded as `call` records it; in replay mode, a miss is a failure `call` writes).
   * Latency of a hit is the look-up's time shared out evenly: the calls were answered together.
   */
  async callCached(
    requests: readonly ChatRequest[],
    options: CallOptions = {},
  ): Promise<(ChatOutcome | PendingCall)[]> {
    const out: (ChatOutcome | PendingCall)[] = new Array(requests.length);
    if (requests.length === 0) return out;
    const cache = this.client.cache;
    const started = performance.now();
    const prepared = requests.map((r) => this.prepare(r));
    let found: ReadonlyMap<string, ProviderResult> = NO_HITS;
    if (cache.reads) {
      const keys: string[] = [];
      for (const p of prepared) if ("key" in p) keys.push(p.key);
      found = cache.getMany(keys);
    }
    const latencyMs = (performance.now() - started) / requests.length;
    const ctx = options.context ?? {};
    const records: CallRecord[] = [];
    for (let i = 0; i < prepared.length; i++) {
      const p = prepared[i] as Prepared;
      const hit = "key" in p && found.get(p.key);
      if (hit && "key" in p) {
        const record = this.records.success(p.key, p.req, ctx, hit, "cache", 0, latencyMs);
        records.push(record);
        out[i] = record.outcome;
      } else {
        out[i] = this.pending(p, options);
      }
    }
    if (records.length === 0) return out;
    try {
      await this.client.records.commitMany(records);
    } catch (e) {
      for (const o of out) if (o instanceof PendingCall) o.drop();
      throw e;
    }
    return out;
  }

  /**
   * A miss of `callCached`, to start later. Until it starts, an answer to the same key written
   * by another call of this model (a duplicate earlier in the run) marks it, so it looks again
   * and is answered from the cache, as `call` would be, instead of being sent twice.
   */
  private pending(p: Prepared, options: CallOptions): PendingCall {
    const key = "key" in p && this.client.cache.writes ? p.key : undefined;
    if (key !== undefined) {
      const w = this.waiting.get(key);
      if (w) w.count++;
      else this.waiting.set(key, { count: 1, answered: false });
    }
    // Replay's miss is a failure; `fromCache` writes it as `call` does (rare: no need to batch).
    const replay = this.client.cache.mode === "replay";
    let settled = false;
    const release = (): boolean => {
      if (settled) throw new Error("a pending call starts or is dropped once");
      settled = true;
      if (key === undefined) return replay;
      const w = this.waiting.get(key) as { count: number; answered: boolean };
      if (--w.count === 0) this.waiting.delete(key);
      return w.answered;
    };
    return new PendingCall(
      () => this.callPrepared(p, options, performance.now(), release()),
      () => void release(),
    );
  }

  async generate(request: ChatRequest, options?: CallOptions): Promise<Completion> {
    const outcome = await this.call(request, options);
    if (outcome.ok) return outcome;
    throw failureError(outcome);
  }

  async call(request: ChatRequest, options: CallOptions = {}): Promise<ChatOutcome> {
    const started = performance.now();
    return await this.callPrepared(this.prepare(request), options, started, true);
  }

  /**
   * What `call` does once the request is prepared: the cache (unless `lookUp` is false: the
   * caller looked it up already and nothing has answered it since), the same request in flight,
   * or the provider; the outcome recorded.
   */
  private async callPrepared(
    prepared: Prepared,
    options: CallOptions,
    started: number,
    lookUp: boolean,
  ): Promise<ChatOutcome> {
    const ctx = options.context ?? {};
    const elapsed = () => performance.now() - started;
    if ("error" in prepared)
      return this.commit(this.records.failure("-", ctx, prepared.error, 0, elapsed()));
    const { req, key } = prepared;
    if (lookUp) {
      const cached = this.records.fromCache(key, req, ctx, elapsed(), "api");
      if (cached) return this.commit(cached);
    }

    // The same request already in flight (e.g. duplicates in one batch of work) is sent once.
    const shared = this.inFlight.get(key);
    if (shared) {
      const a = await shared;
      return this.commit(
        a.ok
          ? this.records.success(key, req, ctx, a.result, "cache", 0, elapsed())
          : this.records.failure(key, ctx, a.error, a.attempts, elapsed()),
      );
    }
    const attempt = this.attemptWithRetries(req, options.signal);
    this.inFlight.set(key, attempt);
    let a: Attempted | undefined;
    try {
      a = await attempt;
      const outcome = await this.commit(
        a.ok
          ? this.records.success(key, req, ctx, a.result, "api", a.attempts, elapsed())
          : this.records.failure(key, ctx, a.error, a.attempts, elapsed()),
      );
      // Its answer is in the cache now: a miss of the same key waiting to start must look again.
      if (a.ok) {
        const w = this.waiting.get(key);
        if (w) w.answered = true;
      }
      return outcome;
    } finally {
      this.inFlight.delete(key);
      // The slot comes back once the answer is stored, not when it arrives: a crash then loses
      // at most max_in_flight answered calls (answers received but not yet committed included).
      if (a?.ok) a.permit.release(a.used);
    }
  }

  /** Writes a record in the group commit of this event-loop turn; resolves once it is stored. */
  private async commit(record: CallRecord): Promise<ChatOutcome> {
    await this.client.records.commit(record);
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
      const deadline = attemptSignal(signal, this.resolved.model.timesOut ? undefined : timeoutMs);
      let error: ModelCallError;
      try {
        const result = await this.resolved.model.complete(req, deadline.signal, timeoutMs);
        checkResult(result, this.id);
        const { input_tokens: input, output_tokens: output } = result.usage;
        // Unreported tokens leave the limiter with its estimate.
        const used = input !== undefined && output !== undefined ? input + output : undefined;
        return { ok: true, result, attempts: attempt, permit, used };
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
