/**
 * Many calls share one caller's AbortSignal (Ctrl-C, a budget). If each added its own "abort"
 * listener, a few hundred calls waiting or in flight would trip Node's MaxListenersExceededWarning
 * (10 per signal), garble the progress bar, and keep every settled call's closure alive until the
 * signal is gone. So each signal gets one listener here, shared by all who wait on it, and each
 * waiter unsubscribes when its call settles; the listener goes once the last one has.
 */
interface Subscribers {
  callbacks: Set<() => void>;
  dispatch: () => void;
}

const bySignal = new WeakMap<AbortSignal, Subscribers>();

/**
 * Calls `callback` when `signal` aborts, through the signal's one shared listener. Returns the
 * unsubscribe function, which every caller must call once it no longer cares (its call settled).
 * The caller checks `signal.aborted` first: an already aborted signal fires nothing.
 */
export function onAbort(signal: AbortSignal, callback: () => void): () => void {
  let subs = bySignal.get(signal);
  if (!subs) {
    const callbacks = new Set<() => void>();
    const dispatch = () => {
      bySignal.delete(signal);
      for (const c of callbacks) c();
    };
    subs = { callbacks, dispatch };
    bySignal.set(signal, subs);
    signal.addEventListener("abort", dispatch, { once: true });
  }
  const mine = subs;
  const entry = () => callback();
  mine.callbacks.add(entry);
  return () => {
    mine.callbacks.delete(entry);
    if (mine.callbacks.size === 0 && bySignal.get(signal) === mine) {
      signal.removeEventListener("abort", mine.dispatch);
      bySignal.delete(signal);
    }
  };
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
): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const timer =
    timeoutMs === undefined
      ? undefined
      : setTimeout(
          () => controller.abort(new DOMException("The operation timed out.", "TimeoutError")),
          timeoutMs,
        );
  timer?.unref();
  let unsubscribe = () => {};
  if (parent?.aborted) controller.abort(parent.reason);
  else if (parent) unsubscribe = onAbort(parent, () => controller.abort(parent.reason));
  return {
    signal: controller.signal,
    dispose: () => {
      clearTimeout(timer);
      unsubscribe();
    },
  };
}
