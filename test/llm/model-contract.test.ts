/**
 * The model contract's two promises about what a result says: settings the provider dropped come
 * back as warnings (on live, cached and batch answers alike), and usage the provider did not
 * report stays unknown, so the call's cost is unknown rather than free.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agenticMisalignmentTask } from "../../src/evals/am/task.js";
import { exportInspectLog } from "../../src/evals/inspect.js";
import { validateEvalLog } from "../../src/evals/inspect-schema.js";
import { judgeOptions } from "../../src/evals/judge.js";
import { runEval } from "../../src/evals/runner.js";
import { registerFakeModel } from "../../src/llm/providers/fake.js";
import { type ChatRequest, completionRecord } from "../../src/llm/types.js";
import { amAgentAnswer, registerAmFakes } from "../fakes/am-models.js";
import { FakeLlmServer } from "../fakes/llm-server.js";
import { cleanupTempDirs, FAST_RETRIES, makeClient, ROOT } from "../helpers.js";

const KEY = "sk-test-contract-PLANTED-0123456789";
let server: FakeLlmServer;
let unsized: FakeLlmServer;

beforeAll(async () => {
  server = await new FakeLlmServer({ anthropicKey: KEY, openaiKey: KEY, batchPolls: 1 }).start();
  unsized = await new FakeLlmServer({ openaiKey: KEY, withoutUsage: true }).start();
  process.env.ANTHROPIC_API_KEY = KEY;
  process.env.OPENAI_API_KEY = KEY;
  process.env.CONTRACT_KEY = KEY;
});
afterAll(async () => {
  await server.stop();
  await unsized.stop();
  cleanupTempDirs();
});

const setup = () =>
  makeClient({
    defaults: FAST_RETRIES,
    providers: { anthropic: { base_url: server.url }, openai: { base_url: `${server.url}/v1` } },
    endpoints: {
      quiet: { base_url: `${unsized.url}/v1`, api_key_env: "CONTRACT_KEY" },
      free: { base_url: `${unsized.url}/v1`, api_key_env: "CONTRACT_KEY" },
    },
    prices: {
      "quiet/m": { input: 1, output: 2 },
      "free/m": { input: 0, output: 0 },
    },
    batch: { poll_interval_s: 0.01 },
  });

let unique = 0;
const ask = (params: Partial<ChatRequest["params"]> = {}): ChatRequest => ({
  messages: [{ role: "user", content: `contract ${++unique} ${Date.now()}` }],
  params: { max_tokens: 100, ...params },
});

const SEED_DROPPED = [
  {
    type: "unsupported-setting",
    setting: "seed",
    details: "Anthropic's API takes no seed: a rerun samples the answer anew",
  },
];

describe("settings a provider drops", () => {
  it("come back as warnings from Anthropic, live, replayed and from a batch; stored with the answer", async () => {
    const { client } = setup();
    const model = client.model("anthropic/claude-haiku-4-5");
    const seeded = ask({ seed: 7 });
    const live = await model.generate(seeded);
    expect(live.warnings).toEqual(SEED_DROPPED);
    expect(completionRecord(live).warnings).toEqual(SEED_DROPPED);
    const replayed = await model.generate(seeded);
    expect(replayed).toMatchObject({ source: "cache", warnings: SEED_DROPPED });
    const [batched] = await client
      .batchRunner("anthropic/claude-haiku-4-5")
      .run([ask({ seed: 1 })]);
    expect(batched).toMatchObject({ ok: true, source: "batch", warnings: SEED_DROPPED });
    const both = await model.generate(ask({ seed: 7, top_logprobs: 3 }));
    expect(both.warnings?.map((w) => w.setting)).toEqual(["seed", "top_logprobs"]);
  });

  it("leave a result that applied every setting as it was", async () => {
    const { client } = setup();
    const plain = await client.model("anthropic/claude-haiku-4-5").generate(ask());
    const openai = await client.model("openai/gpt-4.1-mini").generate(ask({ seed: 7 }));
    for (const c of [plain, openai]) {
      expect(c.warnings).toBeUndefined();
      expect(completionRecord(c)).not.toHaveProperty("warnings");
    }
  });
});

describe("usage a provider does not report", () => {
  it("stays unknown: the call's cost is unknown, logged as unpriced, unless nothing is charged", async () => {
    const { client, store } = setup();
    store.runs.ensure({ id: "u", kind: "llm-run", name: "u" });
    const quiet = await client.model("quiet/m").generate(ask(), { context: { runId: "u" } });
    expect(quiet.usage).toEqual({});
    expect(quiet.costUsd).toBeNull();
    const free = await client.model("free/m").generate(ask(), { context: { runId: "u" } });
    expect(free.costUsd).toBe(0);
    expect(store.llm.usage({ runId: "u" }).map((u) => [u.model, u.unpricedCalls])).toEqual([
      ["quiet/m", 1],
      ["free/m", 0],
    ]);
    // A reported count is kept; the ones not reported are left out, not written as 0.
    const reported = await client.model("openai/gpt-4.1-mini").generate(ask());
    expect(Object.keys(reported.usage)).toEqual(["input_tokens", "output_tokens"]);
    expect(client.prices.cost("openai/gpt-4.1-mini", { output_tokens: 10 })).toBeNull();
  });
});

describe("the Inspect export", () => {
  const counts = registerAmFakes();
  registerFakeModel("am-agent-unsized", (req) => ({
    text: amAgentAnswer(req.messages.find((m) => m.role === "system")?.content ?? ""),
    usage: {},
  }));

  it("names the code's version, and leaves out the usage of an answer of unknown size", async () => {
    const { client, store } = setup();
    const task = agenticMisalignmentTask(
      { conditions: ["leaking_explicit-america_replacement"] },
      judgeOptions(client.model("fake/am-judge"), { attempts: 2 }),
    );
    const s = await runEval({ client, task, modelId: "fake/am-agent-unsized", epochs: 1 });
    expect(counts.judge).toBeGreaterThan(0);
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };
    const { log } = exportInspectLog(store, s.runId);
    expect(validateEvalLog(log)).toEqual([]);
    const l = log as {
      eval: { packages: { specsci: string } };
      metadata: { exported_by: string };
      samples: { output: Record<string, unknown>; model_usage: Record<string, unknown> }[];
    };
    expect(l.eval.packages.specsci).toBe(pkg.version);
    expect(l.metadata.exported_by).toBe(`specsci ${pkg.version}`);
    expect(l.samples[0]?.output).not.toHaveProperty("usage");
    // The sample's usage is its judge's alone: the answer's size is not known.
    expect(Object.keys(l.samples[0]?.model_usage ?? {})).toEqual(["fake/am-judge"]);
    const later = exportInspectLog(store, s.runId, { version: "9.9.9" }).log as typeof l;
    expect(later.eval.packages.specsci).toBe("9.9.9");
    expect(later.metadata.exported_by).toBe("specsci 9.9.9");
  });
});
