/**
 * Many calls share one caller's AbortSignal (Ctrl-C, a budget). If each added its own "abort"
 * listener, a few hundred calls waiting or in flight would trip Node's MaxListenersExceededWarning
 * (10 per signal), garble the progress bar, and keep every settled call's closure alive until the
 * signal is gone. So each signal gets one listener here, shared by all who wait on it, and each
 * waiter unsubscribes when its call settles; the listener goes once the last one has.
 */

/** One who waits on a signal: told once, when it aborts. */
export interface AbortWaiter {
  parentAborted(): void;
}
type Waiter = AbortWaiter;

/** A signal's one listener and who waits on it; `remove` a waiter once its call settles. */
export class Subscribers {
  readonly waiters = new Set<Waiter>();
  constructor(private readonly signal: AbortSignal) {
    signal.addEventListener("abort", this.dispatch, { once: true });
  }

  readonly dispatch = (): void => {
    bySignal.delete(this.signal);
    for (const w of this.waiters) w.parentAborted();
  };

  remove(waiter: Waiter): void {
    this.waiters.delete(waiter);
    if (this.waiters.size === 0 && bySignal.get(this.signal) === this) {
      this.signal.removeEventListener("abort", this.dispatch);
      bySignal.delete(this.signal);
    }
  }
}

const bySignal = new WeakMap<AbortSignal, Subscribers>();

/**
 * `waiter.parentAborted()` when `signal` aborts, through its one shared listener: `onAbort`
 * for those that are objects already (no closure per subscription). The caller checks
 * `signal.aborted` first, and calls `remove(waiter)` on what this returns when it settles.
 */
export function subscribe(signal: AbortSignal, waiter: Waiter): Subscribers {
  let subs = bySignal.get(signal);
  if (!subs) {
    subs = new Subscribers(signal);
    bySignal.set(signal, subs);
  }
  subs.waiters.add(waiter);
  return subs;
}

/**
 * Calls `callback` when `signal` aborts, through the signal's one shared listener. Returns the
 * unsubscribe function, which every caller must call once it no longer cares (its call settled).
 * The caller checks `signal.aborted` first: an already aborted signal fires nothing.
 */
export function onAbort(signal: AbortSignal, callback: () => void): () => void {
  // A waiter of its own, so one callback subscribed twice is two subscriptions.
  const waiter: Waiter = { parentAborted: callback };
  const subs = subscribe(signal, waiter);
  return () => subs.remove(waiter);
}

/** What `attemptSignal` gives: the attempt's signal, and `dispose` for when it settles. */
export interface AttemptSignal {
  readonly signal: AbortSignal;
  dispose(): void;
}

/**
 * One object per attempt (the signal's controller, its timer, its subscription) rather than a
 * closure for each: every model call makes one, so what it allocates is paid per call.
 */
class Attempt implements AttemptSignal, Waiter {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly subs: Subscribers | undefined;

  constructor(
    private readonly parent: AbortSignal | undefined,
    timeoutMs: number | undefined,
  ) {
    if (timeoutMs !== undefined) {
      this.timer = setTimeout(abortOnTimeout, timeoutMs, this.controller);
      this.timer.unref();
    }
    if (parent?.aborted) this.controller.abort(parent.reason);
    else if (parent) this.subs = subscribe(parent, this);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  parentAborted(): void {
    this.controller.abort(this.parent?.reason);
  }

  dispose(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.subs?.remove(this);
  }
}

function abortOnTimeout(controller: AbortController): void {
  controller.abort(new DOMException("The operation timed out.", "TimeoutError"));
}

/**
 * A signal for one attempt: aborted when `parent` aborts (with its reason) or after `timeoutMs`
 * (with a TimeoutError, as `AbortSignal.timeout` gives); no timer when `timeoutMs` is undefined
 * (the attempt times out by other means: an SDK's own timer). `dispose` must be called when the
 * attempt settles; it clears the timer and the subscription, where `AbortSignal.any` would leave
 * its link to the parent until garbage collection.
 */
export function attemptSignal(
  parent: AbortSignal | undefined,
  timeoutMs: number | undefined,
): AttemptSignal {
  return new Attempt(parent, timeoutMs);
}
