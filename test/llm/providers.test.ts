import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ModelCallError } from "../../src/llm/errors.js";
import type { ChatRequest, Completion } from "../../src/llm/types.js";
import { FakeLlmServer } from "../fakes/llm-server.js";
import { cleanupTempDirs, FAST_RETRIES, makeClient } from "../helpers.js";

const ANTHROPIC_KEY = "sk-ant-test-PLANTED-0123456789";
const OPENAI_KEY = "sk-openai-test-PLANTED-0123456789";
let server: FakeLlmServer;

beforeAll(async () => {
  server = await new FakeLlmServer({ anthropicKey: ANTHROPIC_KEY, openaiKey: OPENAI_KEY }).start();
  process.env.ANTHROPIC_API_KEY = ANTHROPIC_KEY;
  process.env.OPENAI_API_KEY = OPENAI_KEY;
  process.env.COMPAT_KEY = OPENAI_KEY;
});
afterAll(async () => {
  await server.stop();
  cleanupTempDirs();
});

function setup(extraDefaults: Record<string, unknown> = {}) {
  return makeClient({
    defaults: { ...FAST_RETRIES, ...extraDefaults },
    providers: {
      anthropic: { base_url: server.url },
      openai: { base_url: `${server.url}/v1` },
    },
    endpoints: { compat: { base_url: `${server.url}/v1`, api_key_env: "COMPAT_KEY" } },
  });
}

const MODELS = [
  { id: "anthropic/claude-sonnet-4-5", priced: true },
  { id: "openai/gpt-4.1-mini", priced: true },
  { id: "compat/Qwen/Qwen3-8B", priced: false },
];

let unique = 0;
/** A prompt no other test uses, so fault counters and cache entries never collide. */
function prompt(directive = ""): ChatRequest {
  unique++;
  return {
    messages: [{ role: "user", content: `question ${unique} ${Date.now()} ${directive}` }],
    params: { max_tokens: 200 },
  };
}

describe.each(MODELS)("$id through the loopback fake", ({ id, priced }) => {
  it("answers, records usage and cost, and replays from the cache without a request", async () => {
    const { client, store } = setup();
    const model = client.model(id);
    const req = prompt();
    const before = server.chatRequests().length;
    const first = await model.generate(req, { context: { runId: undefined, stage: "t" } });
    expect(first.text).toBe(`answer to: ${req.messages[0]?.content}`);
    expect(first.stopReason).toBe("end");
    expect(first.source).toBe("api");
    expect(first.usage.input_tokens).toBeGreaterThan(0);
    expect(first.usage.output_tokens).toBeGreaterThan(0);
    if (priced) expect(first.costUsd).toBeGreaterThan(0);
    else expect(first.costUsd).toBeNull();
    const second = await model.generate(req);
    expect(second).toMatchObject({ text: first.text, source: "cache", costUsd: 0 });
    expect(server.chatRequests().length - before).toBe(1);
    const calls = store.llm.calls();
    expect(calls.map((c) => c.source)).toEqual(["api", "cache"]);
  });

  it("keeps N samples of one prompt as N cache entries, each replayed exactly", async () => {
    const { client, store } = setup();
    const model = client.model(id);
    const base = prompt();
    const samples = [0, 1, 2].map((sampleIndex) => ({ ...base, sampleIndex }));
    const before = server.chatRequests().length;
    const first = await Promise.all(samples.map((s) => model.generate(s)));
    expect(new Set(first.map((c) => c.cacheKey)).size).toBe(3);
    expect(server.chatRequests().length - before).toBe(3);
    const again = await Promise.all(samples.map((s) => model.generate(s)));
    expect(again.map((c) => c.source)).toEqual(["cache", "cache", "cache"]);
    expect(again.map((c) => c.cacheKey)).toEqual(first.map((c) => c.cacheKey));
    expect(server.chatRequests().length - before).toBe(3);
    expect(store.llm.cacheStats().entries).toBe(3);
  });

  it.each([
    ["429 with retry-after", "[[fault=429 times=2 retry_after=0.05]]", 3],
    ["500", "[[fault=500 times=2]]", 3],
    ["529 overloaded", "[[fault=529 times=1]]", 2],
    ["a response slower than the timeout", "[[fault=slow ms=1000 times=1]]", 2],
    ["a connection reset mid-body", "[[fault=reset times=1]]", 2],
    ["malformed JSON", "[[fault=malformed times=1]]", 2],
    ["an empty answer", "[[fault=empty times=1]]", 2],
  ])("retries %s to success", async (_name, directive, attempts) => {
    const { client, store } = setup({ timeout_s: 0.3 });
    const model = client.model(id);
    const req = prompt(directive);
    const c = await model.generate(req);
    expect(c.attempts).toBe(attempts);
    expect(c.text).toBe(`answer to: ${req.messages[0]?.content}`);
    expect(c.stopReason).toBe("end");
    expect(store.llm.calls()).toMatchObject([{ status: "ok", attempts }]);
    if (directive.includes("429")) expect(model.limiter.pushbacks).toBe(2);
  });

  it.each([
    ["429", "[[fault=429 retry_after=0.01]]", "rate_limit", 4],
    ["500", "[[fault=500]]", "server", 4],
    ["529", "[[fault=529]]", "overloaded", 4],
    ["slow", "[[fault=slow ms=1000]]", "timeout", 4],
    ["reset", "[[fault=reset]]", "connection", 4],
    ["malformed", "[[fault=malformed]]", "malformed_response", 4],
    ["empty", "[[fault=empty]]", "empty_response", 4],
    ["401", "[[fault=401]]", "auth", 1],
    ["400", "[[fault=400]]", "bad_request", 1],
    ["404", "[[fault=404]]", "not_found", 1],
  ])(
    "records a persistent %s as a failure, never as an answer",
    async (_name, directive, kind, attempts) => {
      const { client, store } = setup({ timeout_s: 0.3 });
      const model = client.model(id);
      const req = prompt(directive);
      const before = server.chatRequests().length;
      const outcome = await model.call(req);
      expect(outcome.ok).toBe(false);
      if (outcome.ok) return;
      expect(outcome).not.toHaveProperty("text");
      expect(outcome.stopReason).toBe("error");
      expect(outcome.error.kind).toBe(kind);
      expect(outcome.attempts).toBe(attempts);
      expect(server.chatRequests().length - before).toBe(attempts);
      // Nothing cached; the call log says failed; a second call asks the provider again.
      expect(store.llm.cacheGet(outcome.cacheKey)).toBeUndefined();
      expect(store.llm.calls()).toMatchObject([
        { status: "failed", stopReason: "error", errorKind: kind },
      ]);
      await expect(model.generate(req)).rejects.toBeInstanceOf(ModelCallError);
      expect(server.chatRequests().length - before).toBe(2 * attempts);
      if (kind === "auth")
        expect(outcome.error.message).toMatch(
          /check (ANTHROPIC_API_KEY|OPENAI_API_KEY|COMPAT_KEY)/,
        );
    },
  );

  it("makes a max_tokens stop visible to the caller", async () => {
    const { client } = setup();
    const c = await client.model(id).generate(prompt("[[fault=max_tokens]]"));
    expect(c.stopReason).toBe("max_tokens");
    expect(c.text.length).toBeGreaterThan(0);
  });

  it("reports a refusal as a refusal with no answer text", async () => {
    const { client } = setup();
    const c: Completion = await client.model(id).generate(prompt("[[fault=refusal]]"));
    expect(c.stopReason).toBe("refusal");
    expect(c.text).toBe("");
  });
});

describe("deprecated models", () => {
  it("warns once per run, not on every call (the SDK's own per-call warning is not printed)", async () => {
    const consoleWarn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const stderr = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    try {
      const { client } = setup();
      const model = client.model("anthropic/claude-sonnet-4-5");
      for (let i = 0; i < 3; i++) await model.generate(prompt());
      client.model("anthropic/claude-sonnet-4-5");
      const warnings = stderr.mock.calls
        .map(([chunk]) => String(chunk))
        .filter((line) => line.includes("deprecated"));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(
        /^warning: anthropic\/claude-sonnet-4-5 is deprecated: it (reached|reaches) end of life on November 30th, 2026/,
      );
      expect(consoleWarn).not.toHaveBeenCalled();
    } finally {
      consoleWarn.mockRestore();
      stderr.mockRestore();
    }
  });
});

describe("keys and errors", () => {
  it("fails fast naming the env var when a key is missing", () => {
    const { client } = setup();
    const saved = process.env.ANTHROPIC_API_KEY;
    process.env.ANTHROPIC_API_KEY = "";
    try {
      expect(() => client.model("anthropic/claude-haiku-4-5")).toThrow(
        /ANTHROPIC_API_KEY is not set/,
      );
    } finally {
      process.env.ANTHROPIC_API_KEY = saved;
    }
  });

  it("scrubs a key the server echoes back from the stored failure", async () => {
    const saved = process.env.OPENAI_API_KEY;
    process.env.OPENAI_API_KEY = "sk-openai-WRONG-KEY-abcdefghijkl";
    try {
      const { client, store } = setup();
      const outcome = await client.model("openai/gpt-4.1-mini").call(prompt());
      expect(outcome.ok).toBe(false);
      if (!outcome.ok) {
        expect(outcome.error.kind).toBe("auth");
        expect(outcome.error.message).toContain("OPENAI_API_KEY");
        expect(outcome.error.message).not.toContain("WRONG-KEY");
      }
      // The fake's 401 body echoes the key; nothing of it may reach the store.
      const rows = store.db.prepare("SELECT * FROM llm_calls").all();
      expect(JSON.stringify(rows)).not.toContain("WRONG-KEY");
    } finally {
      process.env.OPENAI_API_KEY = saved;
    }
  });

  it("reports an unreachable server as a connection failure", async () => {
    const { client } = makeClient({
      defaults: FAST_RETRIES,
      endpoints: { dead: { base_url: "http://127.0.0.1:9/v1" } },
    });
    const outcome = await client.model("dead/m").call(prompt());
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expect(outcome.error.kind).toBe("connection");
  });

  it("rejects an unknown provider with the list of known ones", () => {
    const { client } = setup();
    expect(() => client.model("nosuch/model")).toThrow(/unknown provider "nosuch"/);
    expect(() => client.model("no-slash")).toThrow(/provider\/model/);
  });
});
