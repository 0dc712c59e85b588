import { describe, expect, it, vi } from "vitest";
import { ThroughputLimiter } from "./limiter.js";
import { backoffDelay } from "./retry.js";

const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

describe("ThroughputLimiter", () => {
  it("never lets more than maxInFlight run at once", async () => {
    const limiter = new ThroughputLimiter({ maxInFlight: 3 });
    let running = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        const p = await limiter.acquire();
        running++;
        peak = Math.max(peak, running);
        await tick(2);
        running--;
        p.release(1);
      }),
    );
    expect(peak).toBe(3);
  });

  it("drops a waiter whose caller aborts, and grants the slot to the next one", async () => {
    const limiter = new ThroughputLimiter({ maxInFlight: 1 });
    const held = await limiter.acquire();
    const controller = new AbortController();
    const abandoned = limiter.acquire(0, controller.signal);
    const next = limiter.acquire();
    controller.abort(new Error("stop"));
    await expect(abandoned).rejects.toThrow("stop");
    held.release(0);
    const granted = await next;
    granted.release(0);
    await expect(limiter.acquire(0, controller.signal)).rejects.toThrow("stop");
  });

  it("spaces requests to a requests-per-minute budget", async () => {
    // The clock is faked, so the spacing tested is the limiter's own, not a loaded machine's.
    vi.useFakeTimers({ toFake: ["Date", "setTimeout", "clearTimeout"] });
    try {
      // 1200/min = one every 50 ms once the initial burst (the bucket, 1200) is spent.
      const limiter = new ThroughputLimiter({ maxInFlight: 100, requestsPerMinute: 1200 });
      for (let i = 0; i < 1200; i++) (await limiter.acquire()).release(0);
      for (let n = 0; n < 2; n++) {
        let granted = false;
        const next = limiter.acquire().then((p) => {
          granted = true;
          p.release(0);
        });
        await vi.advanceTimersByTimeAsync(49);
        expect(granted).toBe(false);
        await vi.advanceTimersByTimeAsync(1);
        await next;
        expect(granted).toBe(true);
      }
    } finally {
      vi.useRealTimers();
    }
  });

  it("holds a request until the token budget has room, and refunds unused reservations", async () => {
    const limiter = new ThroughputLimiter({ maxInFlight: 10, tokensPerMinute: 60_000 }); // 1 token/ms
    const p1 = await limiter.acquire(60_000); // takes the whole bucket
    p1.release(0); // used nothing: refunded in full
    const t0 = Date.now();
    (await limiter.acquire(60_000)).release(60_000);
    expect(Date.now() - t0).toBeLessThan(50);
    const t1 = Date.now();
    (await limiter.acquire(100)).release(100); // bucket now empty: waits ~100 ms
    expect(Date.now() - t1).toBeGreaterThanOrEqual(80);
  });

  it("halves concurrency and pauses everyone on push-back, then recovers", async () => {
    const limiter = new ThroughputLimiter({ maxInFlight: 8 });
    limiter.pushback(120);
    expect(limiter.currentLimit).toBe(4);
    const t0 = Date.now();
    const p = await limiter.acquire();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(100);
    p.release(1);
    for (let i = 0; i < 100; i++) (await limiter.acquire()).release(1);
    expect(limiter.currentLimit).toBe(8);
  });
});

describe("backoffDelay", () => {
  const policy = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 1000 };
  it("grows exponentially with jitter inside [exp/2, exp]", () => {
    expect(backoffDelay(policy, 1, undefined, () => 0)).toBe(50);
    expect(backoffDelay(policy, 1, undefined, () => 1)).toBe(100);
    expect(backoffDelay(policy, 3, undefined, () => 1)).toBe(400);
    expect(backoffDelay(policy, 10, undefined, () => 1)).toBe(1000);
  });
  it("never waits less than the server's retry-after", () => {
    expect(backoffDelay(policy, 1, 5000, () => 0)).toBe(5000);
  });
});
