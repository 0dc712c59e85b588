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
