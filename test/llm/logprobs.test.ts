import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ChatRequest, completionRecord, LOGPROB_TOKENS_KEPT } from "../../src/llm/types.js";
import { FakeLlmServer, type WireLogprob } from "../fakes/llm-server.js";
import { cleanupTempDirs, FAST_RETRIES, makeClient } from "../helpers.js";

const ANTHROPIC_KEY = "sk-ant-test-logprobs";
let server: FakeLlmServer;

/** Forty tokens "t0".."t39", each with two alternatives. */
const MANY: WireLogprob[] = Array.from({ length: 40 }, (_, i) => ({
  token: `t${i}`,
  logprob: -0.5,
  top_logprobs: [
    { token: `t${i}`, logprob: -0.5 },
    { token: `u${i}`, logprob: -1 },
    { token: `v${i}`, logprob: -2 },
  ],
}));

beforeAll(async () => {
  server = await new FakeLlmServer({
    anthropicKey: ANTHROPIC_KEY,
    chatReply: () => ({ content: MANY.map((t) => t.token).join(""), logprobs: MANY }),
  }).start();
  process.env.ANTHROPIC_API_KEY = ANTHROPIC_KEY;
});
afterAll(async () => {
  await server.stop();
  cleanupTempDirs();
});

const setup = () =>
  makeClient({
    defaults: FAST_RETRIES,
    providers: { anthropic: { base_url: server.url } },
    endpoints: { vllm: { base_url: `${server.url}/v1` } },
  });

let unique = 0;
const request = (top?: number): ChatRequest => ({
  messages: [{ role: "user", content: `logprobs question ${++unique}` }],
  params: { max_tokens: 50, ...(top === undefined ? {} : { top_logprobs: top }) },
});

describe("log-probabilities", () => {
  it("OpenAI-compatible: sends logprobs and top_logprobs, keeps the first tokens, and the cache replays them", async () => {
    const { client } = setup();
    const model = client.model("vllm/m");
    const req = request(2);
    const first = await model.generate(req);
    expect(server.chatRequests().at(-1)?.body).toMatchObject({ logprobs: true, top_logprobs: 2 });
    expect(first.logprobs).toHaveLength(LOGPROB_TOKENS_KEPT);
    expect(first.logprobs?.[3]).toEqual({
      token: "t3",
      logprob: -0.5,
      top: [
        { token: "t3", logprob: -0.5 },
        { token: "u3", logprob: -1 },
      ],
    });
    const again = await model.generate(req);
    expect(again.source).toBe("cache");
    expect(again.logprobs).toEqual(first.logprobs);
    expect((completionRecord(again).logprobs as unknown[])[0]).toEqual({
      token: "t0",
      logprob: -0.5,
      top: [
        ["t0", -0.5],
        ["u0", -1],
      ],
    });
  });

  it("is asked for only when wanted, and is part of the cache key", async () => {
    const { client } = setup();
    const model = client.model("vllm/m");
    const req = request();
    const plain = await model.generate(req);
    const body = server.chatRequests().at(-1)?.body as Record<string, unknown>;
    expect(body.logprobs).toBeUndefined();
    expect(body.top_logprobs).toBeUndefined();
    expect(plain.logprobs).toBeUndefined();
    expect("logprobs" in completionRecord(plain)).toBe(false);
    const asked = await model.generate({ ...req, params: { ...req.params, top_logprobs: 2 } });
    expect(asked.source).toBe("api");
    expect(asked.cacheKey).not.toBe(plain.cacheKey);
  });

  it("providers without them answer without them and never fail: Anthropic and fake", async () => {
    const { client } = setup();
    const claude = await client.model("anthropic/claude-sonnet-4-5").generate(request(5));
    expect(claude.logprobs).toBeUndefined();
    const body = server.chatRequests().at(-1)?.body as Record<string, unknown>;
    expect(Object.keys(body).filter((k) => k.includes("logprob"))).toEqual([]);
    const fake = await client.model("fake/echo").generate(request(5));
    expect(fake.logprobs).toBeUndefined();
  });
});
