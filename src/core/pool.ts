/**
 * One bounded worker pool for every fan-out of model work (calls, stage items, eval samples,
 * reasoning labels). Written here rather than taken from p-limit / p-map because their error
 * modes do not fit: p-map's `stopOnError` rejects while other items are still running (so work
 * would be written after the caller returned) and without it every item runs before an
 * AggregateError. Ours stops taking items at the first error or abort, waits for the items
 * already running (each records its own outcome), and then throws that first error.
 */

export interface PoolOptions {
  /** Items running at once, at least 1. */
  concurrency: number;
  /** When it aborts no further item starts, and the pool rejects with its reason. */
  signal?: AbortSignal | undefined;
}

/**
 * Runs `work` over `items`, at most `concurrency` at a time, in input order of starting. Errors
 * are not per-item outcomes here: a caller that records failures returns them from `work`.
 */
export async function forEachBounded<T>(
  items: readonly T[],
  work: (item: T, index: number) => Promise<void>,
  options: PoolOptions,
): Promise<void> {
  let next = 0;
  let stopped: { error: unknown } | undefined;
  const worker = async () => {
    while (next < items.length && stopped === undefined) {
      if (options.signal?.aborted) {
        stopped = { error: options.signal.reason };
        return;
      }
      const i = next++;
      try {
        await work(items[i] as T, i);
      } catch (e) {
        stopped ??= { error: e };
      }
    }
  };
  const size = Math.max(1, Math.min(options.concurrency, items.length));
  await Promise.all(Array.from({ length: items.length ? size : 0 }, worker));
  // An abort wins over what it caused (calls rejecting with its reason, or anything else).
  options.signal?.throwIfAborted();
  if (stopped) throw stopped.error;
}

/** Like `forEachBounded`, and resolves with each item's result in input order. */
export async function mapBounded<T, R>(
  items: readonly T[],
  work: (item: T, index: number) => Promise<R>,
  options: PoolOptions,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  await forEachBounded(
    items,
    async (item, i) => {
      out[i] = await work(item, i);
    },
    options,
  );
  return out;
}

export interface OrderedPoolOptions extends PoolOptions {
  /**
   * Items between the oldest not yet emitted and the newest started, at least `concurrency`.
   * It bounds what waits in memory for an earlier item: when one early item is slow, the others
   * finish up to this far past it and then no new item starts until it is done.
   */
  window: number;
}

/**
 * Runs `work` over `items` (read lazily: an iterator of a million items is never held whole), at
 * most `concurrency` at a time, and hands each result to `emit` in input order as soon as every
 * earlier one has been emitted; `emit` may wait (a stream's backpressure). Errors and aborts
 * behave as in `forEachBounded`; results not yet emitted then are dropped.
 */
export async function forEachInOrder<T, R>(
  items: Iterable<T> | AsyncIterable<T>,
  work: (item: T, index: number) => Promise<R>,
  emit: (result: R, item: T, index: number) => void | Promise<void>,
  options: OrderedPoolOptions,
): Promise<void> {
  const source = iteratorOf(items);
  const window = Math.max(1, options.concurrency, options.window);
  const done = new Map<number, { result: R; item: T }>();
  let started = 0;
  let emitted = 0;
  let exhausted = false;
  let stopped: { error: unknown } | undefined;
  // Workers waiting for the window to move (the oldest item to be emitted). Each emit frees one
  // place, so it wakes one waiter: waking them all cost O(concurrency) per item (512 workers
  // re-checking and sleeping again, a third of a cached replay's CPU). A stop wakes them all.
  let moved: (() => void)[] = [];
  const wakeOne = () => moved.shift()?.();
  const wakeAll = () => {
    const waiting = moved;
    moved = [];
    for (const w of waiting) w();
  };
  // One emitter at a time keeps the order even when `emit` waits.
  let emitting = false;
  const drain = async () => {
    if (emitting) return;
    emitting = true;
    try {
      for (let d = done.get(emitted); d && !stopped; d = done.get(emitted)) {
        done.delete(emitted);
        await emit(d.result, d.item, emitted);
        emitted++;
        wakeOne();
      }
    } finally {
      emitting = false;
    }
  };
  const take = async (): Promise<{ item: T; index: number } | undefined> => {
    while (started - emitted >= window && !stopped) await new Promise<void>((r) => moved.push(r));
    // A worker that leaves passes the news on: the waiters leave too.
    if (stopped || exhausted) return void wakeAll();
    if (options.signal?.aborted) {
      stopped = { error: options.signal.reason };
      return void wakeAll();
    }
    // Taken before awaiting the source, so two workers never get the same index.
    const index = started++;
    const next = await source.next();
    if (next.done) {
      exhausted = true;
      started--;
      return void wakeAll();
    }
    return { item: next.value, index };
  };
  const worker = async () => {
    try {
      for (let t = await take(); t; t = await take()) {
        done.set(t.index, { result: await work(t.item, t.index), item: t.item });
        await drain();
      }
    } catch (e) {
      // From the source, the work or the emit: stop taking items, let the others finish theirs.
      stopped ??= { error: e };
      wakeAll();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, worker));
  options.signal?.throwIfAborted();
  if (stopped) throw stopped.error;
}

function iteratorOf<T>(items: Iterable<T> | AsyncIterable<T>): AsyncIterator<T> | Iterator<T> {
  return Symbol.asyncIterator in items
    ? (items as AsyncIterable<T>)[Symbol.asyncIterator]()
    : (items as Iterable<T>)[Symbol.iterator]();
}
