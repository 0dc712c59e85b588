/**
 * `runRequestsInOrder` and `callMany` with the cache resolved a chunk at a time
 * (llm/ordered-calls.ts): hits and misses interleaved, failures among them, come out in input
 * order with one call-log row each, on both backends; the cache modes keep their meaning; a
 * duplicate is sent once; an abort mid-chunk leaves a state the next run resumes from without a
 * lost or repeated call.
 */
import { afterAll, describe, expect, it, vi } from "vitest";
import { callMany, LlmClient } from "../../src/llm/client.js";
import { ModelCallError } from "../../src/llm/errors.js";
import { registerFakeModel } from "../../src/llm/providers/fake.js";
import { type RequestItem, runRequestsInOrder } from "../../src/llm/request-file.js";
import type { ChatModel, ChatOutcome } from "../../src/llm/types.js";
import { cleanupTempDirs, makeClient } from "../helpers.js";
import { describePostgres, usePostgres } from "../postgres-server.js";

afterAll(cleanupTempDirs);

const asked: string[] = [];
// Fails the prompts that say so; a prompt with "slow" answers late (an early call finishing last).
registerFakeModel("ordered", async (req) => {
  const content = req.messages.at(-1)?.content ?? "";
  asked.push(content);
  if (content.includes("slow")) await new Promise((r) => setTimeout(r, 30));
  if (content.includes("fail"))
    throw new ModelCallError("auth", `refused ${content}`, { retryable: false });
  return `answer to ${content}`;
});
registerFakeModel("ordered-late", async (req) => {
  await new Promise((r) => setTimeout(r, 5));
  return `late answer to ${req.messages.at(-1)?.content}`;
});

const item = (content: string, id = content): RequestItem => ({
  id,
  sample: 0,
  request: { messages: [{ role: "user", content }], params: { max_tokens: 20 }, sampleIndex: 0 },
});

async function run(
  client: LlmClient,
  items: RequestItem[],
  modelId = "fake/ordered",
  signal?: AbortSignal,
): Promise<{ item: RequestItem; outcome: ChatOutcome }[]> {
  const out: { item: RequestItem; outcome: ChatOutcome }[] = [];
  await runRequestsInOrder(
    client,
    items,
    items.length,
    signal ? { modelId, context: { runId: "r", stage: "s" }, signal } : { modelId },
    (outcome, i) => void out.push({ item: i, outcome }),
  );
  return out;
}

function orderedTests(config: () => Record<string, unknown>) {
  it("a file of hits and misses interleaved, failures among them, comes out in order with one call-log row each", async () => {
    const { client, store } = makeClient(config());
    // Every third prompt is answered first (cached); among the rest, failures and a slow one.
    const contents = Array.from({ length: 1200 }, (_, i) =>
      i % 3 === 0 ? `cached ${i}` : i % 7 === 1 ? `fail ${i}` : i === 2 ? `slow ${i}` : `new ${i}`,
    );
    await run(
      client,
      contents.filter((c) => c.startsWith("cached")).map((c) => item(c)),
    );
    const before = store.llm.calls().length;
    asked.length = 0;
    const out = await run(
      client,
      contents.map((c) => item(c)),
    );
    expect(out.map((o) => o.item.id)).toEqual(contents);
    for (const { item: it, outcome } of out) {
      const content = it.id;
      if (content.startsWith("fail")) {
        expect(outcome.ok).toBe(false);
        continue;
      }
      expect(outcome).toMatchObject({
        ok: true,
        text: `answer to ${content}`,
        source: content.startsWith("cached") ? "cache" : "api",
      });
    }
    // Only the misses went to the provider.
    expect(asked.sort()).toEqual(contents.filter((c) => !c.startsWith("cached")).sort());
    const rows = store.llm.calls().slice(before);
    expect(rows).toHaveLength(contents.length);
    const byKey = new Map(rows.map((r) => [r.cacheKey, r]));
    for (const { outcome } of out) {
      const row = byKey.get(outcome.cacheKey);
      expect(row?.source).toBe(outcome.ok ? outcome.source : "api");
      expect(row?.status).toBe(outcome.ok ? "ok" : "failed");
      if (outcome.ok) expect(row?.inputTokens).toBe(outcome.usage.input_tokens);
      if (outcome.ok && outcome.source === "cache") expect(row?.costUsd).toBe(0);
    }
    store.close();
  });

  it("an abort mid-chunk leaves a state the next run resumes from: no call lost or made twice", async () => {
    const { client, store } = makeClient(config());
    store.runs.ensure({ id: "r", kind: "llm-run", name: "r" });
    const items = Array.from({ length: 300 }, (_, i) => item(`late ${i}`));
    // Half of them cached first, so the aborted chunk holds hits and misses.
    await run(
      client,
      items.filter((_, i) => i % 2 === 0),
      "fake/ordered-late",
    );
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error("interrupted")), 15);
    await expect(run(client, items, "fake/ordered-late", controller.signal)).rejects.toThrow(
      "interrupted",
    );
    const resumed = await run(client, items, "fake/ordered-late");
    expect(resumed.map((o) => o.item.id)).toEqual(items.map((i) => i.id));
    expect(resumed.every((o) => o.outcome.ok)).toBe(true);
    // Each request reached the provider once at most, over the three runs.
    const answered = store.llm.calls().filter((r) => r.source === "api" && r.status === "ok");
    expect(new Set(answered.map((r) => r.cacheKey)).size).toBe(answered.length);
    expect(answered).toHaveLength(items.length);
    store.close();
  });

  it("callMany: hits, misses and failures over several chunks, in input order, onResult too", async () => {
    const { client, store } = makeClient(config());
    const model = client.model("fake/ordered");
    const contents = Array.from({ length: 1100 }, (_, i) =>
      i % 2 === 0 ? `many cached ${i}` : i % 9 === 1 ? `many fail ${i}` : `many new ${i}`,
    );
    const req = (c: string) => item(c).request;
    await callMany(model, contents.filter((c) => c.includes("cached")).map(req));
    const before = store.llm.calls().length;
    asked.length = 0;
    const seen: [number, ChatOutcome][] = [];
    const out = await callMany(model, contents.map(req), {
      onResult: (o, i) => void seen.push([i, o]),
    });
    // onResult saw each outcome, in input order, the same object callMany returns.
    expect(seen.map(([i]) => i)).toEqual(contents.map((_, i) => i));
    for (const [i, o] of seen) expect(o).toBe(out[i]);
    for (const [i, c] of contents.entries()) {
      const o = out[i] as ChatOutcome;
      if (c.includes("fail")) expect(o.ok).toBe(false);
      else
        expect(o).toMatchObject({
          ok: true,
          text: `answer to ${c}`,
          source: c.includes("cached") ? "cache" : "api",
        });
    }
    expect(asked.sort()).toEqual(contents.filter((c) => !c.includes("cached")).sort());
    expect(store.llm.calls().slice(before)).toHaveLength(contents.length);
    store.close();
  });

  it("callMany: a duplicate answered while it waits to start is a cache hit, not a second call", async () => {
    const { client, store } = makeClient(config());
    asked.length = 0;
    // One call at a time: the second "dup" waits (looked up, a miss) until the first is answered.
    const out = await callMany(
      client.model("fake/ordered"),
      ["dup", "other", "dup"].map((c) => item(c).request),
      { window: 1 },
    );
    expect(asked).toEqual(["dup", "other"]);
    expect(out.map((o) => (o.ok ? o.source : "failed"))).toEqual(["api", "api", "cache"]);
    expect(store.llm.calls().map((r) => r.source)).toEqual(["api", "api", "cache"]);
    store.close();
  });

  it("callMany in replay mode: a miss is a cache_miss failure, never a call", async () => {
    const { store, config: parsed } = makeClient(config());
    const reqs = ["replay a", "replay b", "replay c"].map((c) => item(c).request);
    await callMany(
      new LlmClient({ store, config: parsed }).model("fake/ordered"),
      reqs.slice(1, 2),
    );
    asked.length = 0;
    const replay = new LlmClient({ store, config: parsed, cacheMode: "replay" });
    const out = await callMany(replay.model("fake/ordered"), reqs);
    expect(asked).toEqual([]);
    expect(out.map((o) => (o.ok ? o.source : o.error.kind))).toEqual([
      "cache_miss",
      "cache",
      "cache_miss",
    ]);
    store.close();
  });

  it("callMany on a model that is not managed still calls each request itself", async () => {
    const { client, store } = makeClient(config());
    const inner = client.model("fake/ordered");
    const model: ChatModel = {
      id: inner.id,
      generate: (r, o) => inner.generate(r, o),
      call: (r, o) => inner.call(r, o),
    };
    const reqs = Array.from({ length: 20 }, (_, i) => item(`plain ${i}`).request);
    const indices: number[] = [];
    const out = await callMany(model, reqs, { onResult: (_, i) => void indices.push(i) });
    expect(out.map((o) => o.ok && o.text)).toEqual(
      reqs.map((r) => `answer to ${r.messages[0]?.content}`),
    );
    expect(indices.sort((a, b) => a - b)).toEqual(reqs.map((_, i) => i));
    store.close();
  });
}

describe("llm run's cache resolved in chunks, SQLite", () => {
  orderedTests(() => ({}));

  it("cache off never reads the cache; read-only reads it and never writes", async () => {
    const { store, config } = makeClient();
    const items = Array.from({ length: 40 }, (_, i) => item(`mode ${i}`));
    await run(new LlmClient({ store, config }), items.slice(0, 20));

    const reads = [vi.spyOn(store.llm, "cacheResponses"), vi.spyOn(store.llm, "cacheResponse")];
    const writes = vi.spyOn(store.llm, "cachePutMany");
    const off = await run(new LlmClient({ store, config, cacheMode: "off" }), items);
    expect(off.every((o) => o.outcome.ok && o.outcome.source === "api")).toBe(true);
    for (const r of reads) expect(r).not.toHaveBeenCalled();

    writes.mockClear();
    const ro = await run(new LlmClient({ store, config, cacheMode: "read-only" }), items);
    expect(ro.map((o) => (o.outcome.ok ? o.outcome.source : "failed"))).toEqual([
      ...Array(20).fill("cache"),
      ...Array(20).fill("api"),
    ]);
    expect(reads[0]).toHaveBeenCalled();
    expect(writes).not.toHaveBeenCalled();
    expect(store.llm.cacheGet((ro[30] as { outcome: ChatOutcome }).outcome.cacheKey)).toBe(
      undefined,
    );
    store.close();
  });
});

describePostgres("llm run's cache resolved in chunks, PostgreSQL", () => {
  const server = usePostgres();
  orderedTests(() => ({ store: server().database() }));
});
