import { describe, expect, it } from "vitest";
import { forEachBounded, forEachInOrder, mapBounded } from "./pool.js";

const tick = (ms = 1) => new Promise((r) => setTimeout(r, ms));

describe("the bounded worker pool", () => {
  it("keeps at most `concurrency` items running and returns results in input order", async () => {
    let running = 0;
    let most = 0;
    const out = await mapBounded(
      [5, 1, 4, 2, 3],
      async (n) => {
        running++;
        most = Math.max(most, running);
        await tick(n);
        running--;
        return n * 10;
      },
      { concurrency: 2 },
    );
    expect(out).toEqual([50, 10, 40, 20, 30]);
    expect(most).toBe(2);
  });

  it("stops taking items at the first error, lets running ones finish, then throws it", async () => {
    const finished: number[] = [];
    const run = forEachBounded(
      [0, 1, 2, 3, 4, 5, 6, 7],
      async (n) => {
        if (n === 1) throw new Error("item 1 broke");
        await tick(5);
        finished.push(n);
      },
      { concurrency: 2 },
    );
    await expect(run).rejects.toThrow("item 1 broke");
    // Item 0 was running when item 1 failed: it still finished before the pool rejected.
    expect(finished).toEqual([0]);
  });

  it("starts nothing after an abort and rejects with the abort's reason", async () => {
    const controller = new AbortController();
    const started: number[] = [];
    const run = forEachBounded(
      Array.from({ length: 50 }, (_, i) => i),
      async (n) => {
        started.push(n);
        if (n === 3) controller.abort(new Error("stop"));
        await tick();
      },
      { concurrency: 2, signal: controller.signal },
    );
    await expect(run).rejects.toThrow("stop");
    expect(started.length).toBeLessThanOrEqual(5);
  });

  it("does nothing for no items", async () => {
    await expect(mapBounded([], async () => 1, { concurrency: 4 })).resolves.toEqual([]);
  });
});

describe("the ordered pool", () => {
  it("emits every result in input order while items finish out of order", async () => {
    const emitted: number[] = [];
    const delays = [7, 1, 5, 2, 9, 1, 3, 1, 4, 2];
    await forEachInOrder(
      delays.values(),
      async (ms, i) => {
        await tick(ms);
        return i;
      },
      (r) => void emitted.push(r),
      { concurrency: 3, window: 4 },
    );
    expect(emitted).toEqual(delays.map((_, i) => i));
  });

  it("holds at most `window` results behind a slow early item, and reads its source lazily", async () => {
    let release!: () => void;
    const slow = new Promise<void>((r) => {
      release = r;
    });
    let read = 0;
    async function* items() {
      for (let i = 0; i < 1000; i++) {
        read++;
        yield i;
      }
    }
    let mostWaiting = 0;
    let finished = 0;
    let emitted = 0;
    const run = forEachInOrder(
      items(),
      async (i) => {
        if (i === 0) await slow;
        else await tick(0);
        finished++;
        mostWaiting = Math.max(mostWaiting, finished - emitted);
        return i;
      },
      () => void emitted++,
      { concurrency: 4, window: 16 },
    );
    await tick(30);
    // Item 0 is stuck: the others ran up to the window's edge, and no further was read.
    expect(emitted).toBe(0);
    expect(finished).toBe(15);
    expect(read).toBeLessThanOrEqual(16);
    release();
    await run;
    expect(emitted).toBe(1000);
    expect(mostWaiting).toBeLessThanOrEqual(16);
  });

  it("waits for an emit that waits (backpressure), one at a time", async () => {
    let emitting = 0;
    let most = 0;
    const out: number[] = [];
    await forEachInOrder(
      Array.from({ length: 20 }, (_, i) => i),
      async (i) => i,
      async (r) => {
        emitting++;
        most = Math.max(most, emitting);
        await tick(1);
        out.push(r);
        emitting--;
      },
      { concurrency: 4, window: 8 },
    );
    expect(most).toBe(1);
    expect(out).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it("stops at the first error of the work or of the source, after the running items end", async () => {
    const emitted: number[] = [];
    const broken = forEachInOrder(
      Array.from({ length: 50 }, (_, i) => i),
      async (i) => {
        if (i === 5) throw new Error("item 5 broke");
        await tick(1);
        return i;
      },
      (r) => void emitted.push(r),
      { concurrency: 2, window: 4 },
    );
    await expect(broken).rejects.toThrow("item 5 broke");
    expect(emitted.length).toBeLessThan(8);
    async function* badSource() {
      yield 1;
      throw new Error("line 2: not valid JSON");
    }
    const fromSource = forEachInOrder(
      badSource(),
      async (i) => i,
      () => {},
      {
        concurrency: 2,
        window: 2,
      },
    );
    await expect(fromSource).rejects.toThrow("line 2");
  });

  it("starts nothing after an abort and rejects with its reason", async () => {
    const controller = new AbortController();
    let started = 0;
    const run = forEachInOrder(
      Array.from({ length: 100 }, (_, i) => i),
      async (i) => {
        started++;
        if (i === 3) controller.abort(new Error("stop"));
        await tick();
        return i;
      },
      () => {},
      { concurrency: 2, window: 8, signal: controller.signal },
    );
    await expect(run).rejects.toThrow("stop");
    expect(started).toBeLessThanOrEqual(5);
  });
});
