import { type AbortWaiter, type Subscribers, subscribe } from "../core/abort.js";

/**
 * Throughput control for one provider: a cap on requests in flight, requests-per-minute and
 * tokens-per-minute budgets (token buckets), and adaptive slow-down when the provider pushes back.
 *
 * Written by hand because no maintained package combines these: p-limit/p-queue cap concurrency
 * (p-queue also requests per interval) but neither budgets tokens, reconciles a reservation with
 * the tokens actually used, or pauses every caller until a server-given retry-after has passed.
 *
 * Adaptive slow-down (AIMD): a 429/529 halves the effective concurrency and pauses all new
 * requests until the retry-after time; each run of successes as long as the current limit raises
 * it by one again, up to `maxInFlight`.
 */
export interface LimiterOptions {
  maxInFlight: number;
  requestsPerMinute?: number | undefined;
  tokensPerMinute?: number | undefined;
  /** Pause after a push-back that gave no retry-after. */
  defaultPauseMs?: number;
}

export interface Permit {
  /** Returns the slot; `actualTokens` reconciles the token reservation with what was used. */
  release(actualTokens?: number): void;
}

class TokenBucket {
  private level: number;
  private last = Date.now();
  constructor(
    readonly capacity: number,
    private readonly perMs: number,
  ) {
    this.level = capacity;
  }
  private refill(now: number): void {
    this.level = Math.min(this.capacity, this.level + (now - this.last) * this.perMs);
    this.last = now;
  }
  /** Milliseconds until `amount` is available (0 = now). A request larger than the bucket waits for a full one. */
  waitFor(amount: number, now: number): number {
    this.refill(now);
    const need = Math.min(amount, this.capacity);
    return this.level >= need ? 0 : Math.ceil((need - this.level) / this.perMs);
  }
  take(amount: number): void {
    this.level -= amount;
  }
  give(amount: number): void {
    this.level = Math.min(this.capacity, this.level + amount);
  }
}

/** A caller waiting for a permit; one object (no closures), as every model call makes one. */
class Waiter implements AbortWaiter {
  /** Its caller gave up (aborted) while it waited: skipped, never granted. */
  cancelled = false;
  subs: Subscribers | undefined;
  constructor(
    readonly tokens: number,
    private readonly signal: AbortSignal | undefined,
    private readonly resolve: (p: Permit) => void,
    private readonly reject: (reason: unknown) => void,
  ) {}

  parentAborted(): void {
    this.cancelled = true;
    this.reject((this.signal as AbortSignal).reason);
  }

  grant(permit: Permit): void {
    this.subs?.remove(this);
    this.resolve(permit);
  }
}

/** A granted slot; `release` gives it back once (later calls do nothing). */
class Grant implements Permit {
  private released = false;
  constructor(
    private readonly limiter: ThroughputLimiter,
    private readonly reserved: number,
  ) {}

  release(actualTokens?: number): void {
    if (this.released) return;
    this.released = true;
    this.limiter.returned(this.reserved, actualTokens);
  }
}

export class ThroughputLimiter {
  private inFlight = 0;
  private limit: number;
  private successesAtLimit = 0;
  private pausedUntil = 0;
  private readonly queue: Waiter[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly rpm: TokenBucket | undefined;
  private readonly tpm: TokenBucket | undefined;
  /** Times the provider pushed back (for reports and tests). */
  pushbacks = 0;

  constructor(private readonly options: LimiterOptions) {
    if (!(options.maxInFlight >= 1)) throw new Error("limiter: maxInFlight must be >= 1");
    this.limit = options.maxInFlight;
    if (options.requestsPerMinute) {
      this.rpm = new TokenBucket(options.requestsPerMinute, options.requestsPerMinute / 60_000);
    }
    if (options.tokensPerMinute) {
      this.tpm = new TokenBucket(options.tokensPerMinute, options.tokensPerMinute / 60_000);
    }
  }

  get currentLimit(): number {
    return this.limit;
  }

  get active(): number {
    return this.inFlight;
  }

  get waiting(): number {
    return this.queue.length - this.head;
  }

  acquire(estimatedTokens = 0, signal?: AbortSignal): Promise<Permit> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const waiter = new Waiter(estimatedTokens, signal, resolve, reject);
      // One shared listener for all waiters on this signal (see core/abort.ts).
      if (signal) waiter.subs = subscribe(signal, waiter);
      this.queue.push(waiter);
      this.pump();
    });
  }

  /** The provider said slow down (429/529): back off multiplicatively and pause everyone. */
  pushback(retryAfterMs?: number): void {
    this.pushbacks++;
    this.limit = Math.max(1, Math.floor(this.limit / 2));
    this.successesAtLimit = 0;
    const pause = retryAfterMs ?? this.options.defaultPauseMs ?? 1000;
    this.pausedUntil = Math.max(this.pausedUntil, Date.now() + pause);
    this.schedule(pause);
  }

  private onSuccess(): void {
    if (this.limit >= this.options.maxInFlight) return;
    if (++this.successesAtLimit >= this.limit) {
      this.limit++;
      this.successesAtLimit = 0;
    }
  }

  private pump(): void {
    while (this.head < this.queue.length) {
      if (this.inFlight >= this.limit) return;
      const now = Date.now();
      if (now < this.pausedUntil) {
        this.schedule(this.pausedUntil - now);
        return;
      }
      const waiter = this.queue[this.head] as Waiter;
      if (waiter.cancelled) {
        this.queue[this.head] = undefined as unknown as Waiter;
        this.head++;
        continue;
      }
      const wait = Math.max(
        this.rpm?.waitFor(1, now) ?? 0,
        this.tpm?.waitFor(waiter.tokens, now) ?? 0,
      );
      if (wait > 0) {
        this.schedule(wait);
        return;
      }
      this.queue[this.head] = undefined as unknown as Waiter;
      this.head++;
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue.splice(0, this.head);
        this.head = 0;
      }
      this.rpm?.take(1);
      this.tpm?.take(waiter.tokens);
      this.inFlight++;
      waiter.grant(new Grant(this, waiter.tokens));
    }
  }

  /** A permit came back (see Grant): its slot, and its reservation reconciled with what was used. */
  returned(reserved: number, actualTokens: number | undefined): void {
    this.inFlight--;
    if (this.tpm && actualTokens !== undefined) {
      const diff = reserved - actualTokens;
      if (diff > 0) this.tpm.give(diff);
      else this.tpm.take(-diff);
    }
    if (actualTokens !== undefined) this.onSuccess();
    this.pump();
  }

  private schedule(ms: number): void {
    if (this.timer) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.pump();
      },
      Math.max(1, ms),
    );
  }
}
