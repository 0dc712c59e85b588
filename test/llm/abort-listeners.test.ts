import { getEventListeners } from "node:events";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { callMany } from "../../src/llm/client.js";
import type { ChatRequest } from "../../src/llm/types.js";
import { FakeLlmServer } from "../fakes/llm-server.js";
import { cleanupTempDirs, makeClient } from "../helpers.js";

const KEY = "sk-listeners-test-0123456789";
let server: FakeLlmServer;

beforeAll(async () => {
  server = await new FakeLlmServer({ openaiKey: KEY, latencyMs: 5 }).start();
  process.env.LISTENERS_KEY = KEY;
});
afterAll(async () => {
  await server.stop();
  cleanupTempDirs();
});

describe("many calls sharing one AbortSignal", () => {
  it("add no listener per call: no MaxListenersExceededWarning, and none left when they settle", async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on("warning", onWarning);
    try {
      const { client } = makeClient({
        defaults: { max_attempts: 3, retry_base_ms: 5, retry_max_ms: 20, timeout_s: 5 },
        // Few on the wire: the rest wait in the limiter, each with the signal to give up on.
        endpoints: {
          loop: { base_url: `${server.url}/v1`, api_key_env: "LISTENERS_KEY", max_in_flight: 8 },
        },
      });
      const controller = new AbortController();
      const baseline = getEventListeners(controller.signal, "abort").length;
      // Every fifth request fails once, so retries back off (sleep) on the same signal too.
      const requests: ChatRequest[] = Array.from({ length: 120 }, (_, i) => ({
        messages: [
          { role: "user", content: `listener ${i} ${i % 5 === 0 ? "[[fault=500 times=1]]" : ""}` },
        ],
        params: { max_tokens: 50 },
      }));
      let most = 0;
      const outcomes = await callMany(client.model("loop/m"), requests, {
        signal: controller.signal,
        onResult: () => {
          most = Math.max(most, getEventListeners(controller.signal, "abort").length);
        },
      });
      expect(outcomes.every((o) => o.ok)).toBe(true);
      expect(outcomes.filter((o) => o.attempts === 2)).toHaveLength(24);
      // Let Node deliver any warning it queued.
      await new Promise((r) => setImmediate(r));
      expect(warnings.filter((w) => w.name === "MaxListenersExceededWarning")).toEqual([]);
      expect(most).toBeLessThanOrEqual(baseline + 1);
      expect(getEventListeners(controller.signal, "abort")).toHaveLength(baseline);
    } finally {
      process.off("warning", onWarning);
    }
  });

  it("still stops every waiting and sleeping call when it aborts", async () => {
    const { client } = makeClient({
      defaults: { max_attempts: 3, retry_base_ms: 5_000, retry_max_ms: 5_000, timeout_s: 5 },
      endpoints: {
        loop: { base_url: `${server.url}/v1`, api_key_env: "LISTENERS_KEY", max_in_flight: 2 },
      },
    });
    const controller = new AbortController();
    const requests: ChatRequest[] = Array.from({ length: 30 }, (_, i) => ({
      messages: [{ role: "user", content: `abort ${i} [[fault=500 times=1]]` }],
      params: { max_tokens: 50 },
    }));
    const run = callMany(client.model("loop/m"), requests, { signal: controller.signal });
    setTimeout(
      () => controller.abort(Object.assign(new Error("stop"), { name: "AbortError" })),
      200,
    );
    const started = Date.now();
    await expect(run).rejects.toThrow("stop");
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
  });
});

describe("an attempt's timeout", () => {
  it("runs one timer per attempt through an SDK (the SDK's own), not one more of the layer's", async () => {
    const { client } = makeClient({
      defaults: { max_attempts: 1, timeout_s: 7.5 },
      endpoints: { loop: { base_url: `${server.url}/v1`, api_key_env: "LISTENERS_KEY" } },
    });
    const model = client.model("loop/m");
    const controller = new AbortController();
    const timers = vi.spyOn(globalThis, "setTimeout");
    try {
      const outcome = await model.call(
        { messages: [{ role: "user", content: "one timer" }], params: { max_tokens: 5 } },
        { signal: controller.signal },
      );
      expect(outcome.ok).toBe(true);
      expect(timers.mock.calls.filter(([, ms]) => ms === 7_500)).toHaveLength(1);
    } finally {
      timers.mockRestore();
    }
  });
});
