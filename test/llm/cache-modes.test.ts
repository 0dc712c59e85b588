import { afterAll, describe, expect, it } from "vitest";
import { callMany, LlmClient } from "../../src/llm/client.js";
import { registerFakeModel } from "../../src/llm/providers/fake.js";
import type { ChatRequest } from "../../src/llm/types.js";
import { cleanupTempDirs, makeClient } from "../helpers.js";

afterAll(cleanupTempDirs);

let calls = 0;
registerFakeModel("counter", (req) => {
  calls++;
  return `reply ${calls} to ${req.messages.at(-1)?.content}`;
});
registerFakeModel("slow", async () => {
  await new Promise((r) => setTimeout(r, 20));
  return "slow reply";
});

const req = (content: string, sampleIndex = 0): ChatRequest => ({
  messages: [{ role: "user", content }],
  params: { max_tokens: 50 },
  sampleIndex,
});

describe("response cache modes", () => {
  it("on: stores and replays; read-only: replays but stores nothing new; off: always asks", async () => {
    const { store, config } = makeClient();
    const on = new LlmClient({ store, config, cacheMode: "on" }).model("fake/counter");
    const first = await on.generate(req("a"));
    expect((await on.generate(req("a"))).text).toBe(first.text);

    const ro = new LlmClient({ store, config, cacheMode: "read-only" }).model("fake/counter");
    expect(await ro.generate(req("a"))).toMatchObject({ text: first.text, source: "cache" });
    const fresh = await ro.generate(req("b"));
    expect(fresh.source).toBe("api");
    expect(store.llm.cacheGet(fresh.cacheKey)).toBeUndefined();

    const off = new LlmClient({ store, config, cacheMode: "off" }).model("fake/counter");
    const before = calls;
    const again = await off.generate(req("a"));
    expect(again.source).toBe("api");
    expect(again.text).not.toBe(first.text);
    expect(calls).toBe(before + 1);
  });

  it("replay: a miss is a recorded failure and the provider is never asked", async () => {
    const { store, config } = makeClient();
    await new LlmClient({ store, config }).model("fake/counter").generate(req("x"));
    const replay = new LlmClient({ store, config, cacheMode: "replay" }).model("fake/counter");
    expect((await replay.generate(req("x"))).source).toBe("cache");
    const before = calls;
    const miss = await replay.call(req("x", 1));
    expect(miss.ok).toBe(false);
    if (!miss.ok) expect(miss.error.kind).toBe("cache_miss");
    expect(calls).toBe(before);
  });

  it("sends one request for identical requests in flight together", async () => {
    const { client } = makeClient();
    const before = calls;
    const outcomes = await Promise.all(
      [1, 2, 3].map(() => client.model("fake/counter").generate(req("same"))),
    );
    expect(calls).toBe(before + 1);
    expect(new Set(outcomes.map((o) => o.text)).size).toBe(1);
  });

  it("stops starting calls when aborted, and says so", async () => {
    const { client, store } = makeClient({ providers: { fake: { max_in_flight: 2 } } });
    const controller = new AbortController();
    const requests = Array.from({ length: 200 }, (_, i) => req(`slow ${i}`));
    setTimeout(() => controller.abort(new Error("stop")), 50);
    await expect(
      callMany(client.model("fake/slow"), requests, { signal: controller.signal, window: 2 }),
    ).rejects.toThrow("stop");
    const recorded = store.llm.calls().length;
    expect(recorded).toBeGreaterThan(0);
    expect(recorded).toBeLessThan(20);
  });
});
