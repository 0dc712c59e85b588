import { describe, expect, it } from "vitest";
import { forEachBounded, mapBounded } from "./pool.js";

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
