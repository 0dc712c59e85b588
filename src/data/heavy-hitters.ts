/**
 * Misra–Gries heavy hitters: finds the frequent keys of a stream while holding at most
 * `capacity` counters. Every reported count is a lower bound on the true count and falls short
 * of it by at most `errorBound` (≤ total / (capacity + 1)); any key whose true count exceeds
 * `errorBound` is guaranteed to be held.
 */
export class MisraGries<K> {
  readonly capacity: number;
  readonly #counts = new Map<K, number>();
  #total = 0;
  #error = 0;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`MisraGries capacity must be a positive integer, got ${capacity}`);
    this.capacity = capacity;
  }

  /** Counts `key` `weight` more times (a positive integer). */
  add(key: K, weight = 1): void {
    this.#total += weight;
    const counts = this.#counts;
    const held = counts.get(key);
    if (held !== undefined) {
      counts.set(key, held + weight);
      return;
    }
    let w = weight;
    while (w > 0 && counts.size >= this.capacity) {
      // Full and `key` is new: take the same amount from every counter (and from `key`).
      let least = w;
      for (const c of counts.values()) if (c < least) least = c;
      for (const [k, c] of counts) {
        if (c === least) counts.delete(k);
        else counts.set(k, c - least);
      }
      w -= least;
      this.#error += least;
    }
    if (w > 0) counts.set(key, w);
  }

  /** The lower-bound count of `key` (0 when it is not held). */
  count(key: K): number {
    return this.#counts.get(key) ?? 0;
  }

  /** Total weight added. */
  get total(): number {
    return this.#total;
  }

  /** How far any count may fall short of the true count. */
  get errorBound(): number {
    return this.#error;
  }

  get size(): number {
    return this.#counts.size;
  }

  /** The `n` largest held counts, largest first (ties in insertion order). */
  top(n = this.capacity): { key: K; count: number }[] {
    return [...this.#counts]
      .map(([key, count]) => ({ key, count }))
      .sort((a, b) => b.count - a.count)
      .slice(0, n);
  }

  entries(): IterableIterator<[K, number]> {
    return this.#counts.entries();
  }
}
