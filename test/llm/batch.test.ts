import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LlmClient } from "../../src/llm/client.js";
import type { ChatRequest } from "../../src/llm/types.js";
import { answerFor, FakeLlmServer } from "../fakes/llm-server.js";
import { cleanupTempDirs, FAST_RETRIES, makeClient } from "../helpers.js";

const KEY = "sk-test-batch-PLANTED-0123456789";
let server: FakeLlmServer;

beforeAll(async () => {
  server = await new FakeLlmServer({ anthropicKey: KEY, openaiKey: KEY, batchPolls: 2 }).start();
  process.env.ANTHROPIC_API_KEY = KEY;
  process.env.OPENAI_API_KEY = KEY;
});
afterAll(async () => {
  await server.stop();
  cleanupTempDirs();
});

function setup(batch: Record<string, unknown> = {}) {
  return makeClient({
    defaults: FAST_RETRIES,
    providers: { anthropic: { base_url: server.url }, openai: { base_url: `${server.url}/v1` } },
    batch: { poll_interval_s: 0.01, ...batch },
  });
}

let unique = 0;
function requests(n: number, directive: (i: number) => string = () => ""): ChatRequest[] {
  const tag = `${++unique}-${Date.now()}`;
  return Array.from({ length: n }, (_, i) => ({
    messages: [{ role: "user" as const, content: `batch ${tag} item ${i} ${directive(i)}` }],
    params: { max_tokens: 100 },
  }));
}

const batchCreates = () =>
  server.requests.filter(
    (r) => r.method === "POST" && (r.path === "/v1/messages/batches" || r.path === "/v1/batches"),
  ).length;

describe.each(["anthropic/claude-haiku-4-5", "openai/gpt-4.1-mini"])("%s batches", (modelId) => {
  it("splits into chunks and lands every result under its own request", async () => {
    const { client, store } = setup({ max_requests_per_batch: 7 });
    const reqs = requests(50);
    const before = batchCreates();
    const outcomes = await client.batchRunner(modelId).run(reqs);
    expect(batchCreates() - before).toBe(8); // ceil(50 / 7)
    for (const [i, o] of outcomes.entries()) {
      expect(o.ok).toBe(true);
      if (!o.ok) continue;
      expect(o.source).toBe("batch");
      expect(o.text).toBe(answerFor(reqs[i]?.messages ?? []));
      // What the cache holds under this request's key is this request's answer.
      const stored = client.cache.request(o.cacheKey);
      expect(stored?.messages).toEqual(reqs[i]?.messages);
      expect(client.cache.get(o.cacheKey)?.text).toBe(answerFor(reqs[i]?.messages ?? []));
    }
    const jobs = store.llm.batchJobs();
    expect(jobs).toHaveLength(8);
    expect(jobs.every((j) => j.status === "collected")).toBe(true);
    // Batch pricing: half of the online price.
    const o = outcomes[0];
    if (o?.ok) {
      const online = client.prices.cost(modelId, o.usage) as number;
      expect(o.costUsd).toBeCloseTo(online / 2, 12);
    }
  });

  it("chunks by payload size too", async () => {
    const { client } = setup({ max_bytes_per_batch: 700 });
    const before = batchCreates();
    const outcomes = await client.batchRunner(modelId).run(requests(12));
    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(batchCreates() - before).toBeGreaterThanOrEqual(4); // ~200-byte items, at most 3 per 700 bytes
  });

  it("does not resend what is cached, and dedupes repeated requests", async () => {
    const { client } = setup();
    const reqs = requests(5);
    await client.batchRunner(modelId).run(reqs);
    const before = batchCreates();
    const again = await client.batchRunner(modelId).run([...reqs, reqs[0] as ChatRequest]);
    expect(batchCreates() - before).toBe(0);
    expect(again.map((o) => o.ok && o.source)).toEqual([
      "cache",
      "cache",
      "cache",
      "cache",
      "cache",
      "cache",
    ]);
  });

  it("resubmits expired, errored and missing items, and records a non-retryable error as a failure", async () => {
    const { client, store } = setup({ max_rounds: 3 });
    const kinds = [
      "",
      "[[batch=expired times=1]]",
      "[[batch=errored times=2]]",
      "[[batch=missing times=1]]",
      "[[batch=invalid]]",
    ];
    const reqs = requests(5, (i) => kinds[i] ?? "");
    const before = batchCreates();
    const outcomes = await client.batchRunner(modelId).run(reqs);
    expect(outcomes.slice(0, 4).map((o) => o.ok)).toEqual([true, true, true, true]);
    const invalid = outcomes[4];
    expect(invalid?.ok).toBe(false);
    if (invalid && !invalid.ok) {
      expect(invalid.error.kind).toBe("bad_request");
      expect(store.llm.cacheGet(invalid.cacheKey)).toBeUndefined();
    }
    expect(batchCreates() - before).toBe(3); // round 1, then expired+errored+missing, then errored again
    for (const [i, o] of outcomes.slice(0, 4).entries())
      if (o.ok) expect(o.text).toBe(answerFor(reqs[i]?.messages ?? []));
  });

  it("gives up after max_rounds and records the failure", async () => {
    const { client, store } = setup({ max_rounds: 2 });
    const [o] = await client.batchRunner(modelId).run(requests(1, () => "[[batch=expired]]"));
    expect(o?.ok).toBe(false);
    if (o && !o.ok) {
      expect(o.error.kind).toBe("batch_expired");
      expect(store.llm.cacheGet(o.cacheKey)).toBeUndefined();
      expect(store.llm.calls({ cacheKey: o.cacheKey })).toMatchObject([
        { status: "failed", source: "batch" },
      ]);
    }
  });

  it("records every item of a batch the provider refuses as a failure", async () => {
    const { client, store } = setup();
    server.options.rejectBatches = 1;
    const reqs = requests(3);
    const outcomes = await client.batchRunner(modelId).run(reqs);
    expect(outcomes.map((o) => !o.ok && o.error.kind)).toEqual([
      "bad_request",
      "bad_request",
      "bad_request",
    ]);
    expect(store.llm.batchJobs()).toMatchObject([{ status: "failed" }]);
    // Nothing was cached, so a second run submits them again.
    const again = await client.batchRunner(modelId).run(reqs);
    expect(again.every((o) => o.ok && o.source === "batch")).toBe(true);
  });

  it("resumes polling a submitted batch after a restart instead of resubmitting", async () => {
    const { client, store, config } = setup();
    const reqs = requests(6);
    server.options.batchPolls = 1_000_000; // never finishes while the first process waits
    const controller = new AbortController();
    const before = batchCreates();
    const first = client.batchRunner(modelId).run(reqs, { signal: controller.signal });
    while (batchCreates() === before) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 30));
    controller.abort(new Error("process stopped"));
    await expect(first).rejects.toThrow();
    expect(store.llm.batchJobs({ status: ["submitted"] })).toHaveLength(1);

    // A new process (a new client over the same store) finds the job and polls it.
    server.options.batchPolls = 2;
    const restarted = new LlmClient({ store, config });
    const outcomes = await restarted.batchRunner(modelId).run(reqs);
    expect(batchCreates() - before).toBe(1);
    expect(outcomes.every((o) => o.ok && o.source === "batch")).toBe(true);
    expect(store.llm.batchJobs({ status: ["collected"] })).toHaveLength(1);
  });
});

describe("batch runs, item by item", () => {
  const modelId = "anthropic/claude-haiku-4-5";

  it("answers an invalid request in its place, and reports progress over the distinct requests", async () => {
    const { client, store } = setup();
    const [a, b] = requests(2);
    const invalid: ChatRequest = { messages: [], params: { max_tokens: 100 } };
    const seen: [number, number][] = [];
    const outcomes = await client.batchRunner(modelId).run([a, invalid, b, a] as ChatRequest[], {
      onProgress: (done, total) => seen.push([done, total]),
    });
    expect(outcomes.map((o) => o.ok)).toEqual([true, false, true, true]);
    const bad = outcomes[1];
    expect(!bad?.ok && bad?.error).toMatchObject({
      kind: "bad_request",
      message: `${modelId}: a request needs at least one message`,
    });
    expect(outcomes[3]).toEqual(outcomes[0]);
    // Before submitting, after it, after each poll still running, and after the results.
    expect(seen).toEqual([
      [1, 3],
      [1, 3],
      [1, 3],
      [3, 3],
      [3, 3],
    ]);
    expect(store.llm.batchJobs().map((j) => [j.round, j.status])).toEqual([[1, "collected"]]);
    expect(store.llm.batchItems(store.llm.batchJobs()[0]?.id ?? "").map((i) => i.status)).toEqual([
      "succeeded",
      "succeeded",
    ]);
  });

  it("cancels a batch that runs past its timeout and resubmits its items, until the rounds run out", async () => {
    const { client, store } = setup({ max_rounds: 2 });
    server.options.batchPolls = 1_000_000;
    try {
      const outcomes = await client.batchRunner(modelId).run(requests(2), { jobTimeoutMs: 0 });
      expect(outcomes.map((o) => !o.ok && o.error.kind)).toEqual([
        "batch_canceled",
        "batch_canceled",
      ]);
    } finally {
      server.options.batchPolls = 2;
    }
    expect(store.llm.batchJobs().map((j) => [j.round, j.status])).toEqual([
      [1, "collected"],
      [2, "collected"],
    ]);
    const calls = store.llm.calls({});
    expect(calls.map((c) => [c.status, c.source])).toEqual([
      ["failed", "batch"],
      ["failed", "batch"],
    ]);
  });
});

describe("OpenAI batch validation failure", () => {
  it("resubmits the items of a batch that failed as a whole", async () => {
    const { client, store } = setup();
    server.options.failBatches = 1;
    const reqs = requests(4);
    const before = batchCreates();
    const outcomes = await client.batchRunner("openai/gpt-4.1-mini").run(reqs);
    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(batchCreates() - before).toBe(2);
    expect(
      store.llm
        .batchJobs()
        .map((j) => j.status)
        .sort(),
    ).toEqual(["collected", "failed"]);
  });
});

describe("batch limits", () => {
  it("refuses batch runs with the cache off (results could not be resumed)", () => {
    const { store, config } = setup();
    const client = new LlmClient({ store, config, cacheMode: "off" });
    return expect(
      client.batchRunner("anthropic/claude-haiku-4-5").run(requests(1)),
    ).rejects.toThrow(/cache mode "off"/);
  });

  it("says clearly when a provider has no batch API", () => {
    const { client } = makeClient({ endpoints: { vllm: { base_url: "http://127.0.0.1:9/v1" } } });
    expect(() => client.batchRunner("vllm/x")).toThrow(/has no batch API/);
  });
});
