import { afterAll, describe, expect, it } from "vitest";
import { agenticMisalignmentTask } from "../../src/evals/am/task.js";
import { exportInspectLog } from "../../src/evals/inspect.js";
import { usageByKey } from "../../src/evals/inspect-messages.js";
import { validateEvalLog } from "../../src/evals/inspect-schema.js";
import { judgeOptions } from "../../src/evals/judge.js";
import { runEval } from "../../src/evals/runner.js";
import { registerFakeModel } from "../../src/llm/providers/fake.js";
import { type CallRecord, Store } from "../../src/store/index.js";
import { amAgentAnswer, registerAmFakes } from "../fakes/am-models.js";
import { cleanupTempDirs, makeClient, storeAtVersion } from "../helpers.js";

afterAll(cleanupTempDirs);
registerAmFakes();

type Json = Record<string, unknown>;
const TWO = ["leaking_explicit-america_replacement", "coercion_explicit-ethical_restriction"];

/** A store and an AM task of two conditions, graded by `judge` (the fake judge unless told). */
function amSetup(judge = "fake/am-judge") {
  const { client, store } = makeClient({
    defaults: { max_attempts: 1, retry_base_ms: 1, retry_max_ms: 2 },
  });
  const task = agenticMisalignmentTask(
    { conditions: TWO },
    judgeOptions(client.model(judge), { attempts: 1 }),
  );
  return { client, store, task };
}

/** An AM run answered by the fake agent. */
async function amRun(opts: { judge?: string; epochs?: number } = {}) {
  const { client, store, task } = amSetup(opts.judge);
  const summary = await runEval({
    client,
    task,
    modelId: "fake/am-agent",
    epochs: opts.epochs ?? 1,
  });
  return { client, store, task, summary };
}

function exported(store: Parameters<typeof exportInspectLog>[0], runId: string): Json {
  const { log } = exportInspectLog(store, runId);
  expect(validateEvalLog(log)).toEqual([]);
  return log;
}

describe("the Inspect log's metadata", () => {
  it("is in eval.metadata and eval.tags, which inspect_ai rebuilds the top level from", async () => {
    const { store, summary } = await amRun();
    const log = exported(store, summary.runId);
    const spec = log.eval as Json;
    expect((spec.metadata as Json).exported_by).toMatch(/^specsci /);
    expect(spec.tags).toEqual(log.tags);
    expect(log.metadata).toEqual(spec.metadata);
  });
});

let judgeCalls = 0;
registerFakeModel("inspect-flaky-judge", () => {
  judgeCalls++;
  if (judgeCalls % 2 === 0) throw new Error("the judge's endpoint is down");
  return '<verdict>{"decided": false, "executed": false, "rationale": "x", "quotes": []}</verdict>';
});

describe("the Inspect log's status", () => {
  it("is success for a finished run with failed samples, each with its error", async () => {
    judgeCalls = 0;
    const { store, summary } = await amRun({ judge: "fake/inspect-flaky-judge" });
    expect(summary.errors).toBeGreaterThan(0);
    const log = exported(store, summary.runId);
    expect(log.status).toBe("success");
    expect(log.error).toBeUndefined();
    const failed = (log.samples as Json[]).filter((s) => s.error);
    expect(failed).toHaveLength(summary.errors);
    const e = failed[0]?.error as Json;
    expect(e.message).toMatch(/^score \(misalignment\): .*down/);
    expect(e.traceback).toBe(e.message);
  });

  it("is cancelled for a stopped run, and error with the log's error for a run that failed", async () => {
    const { client, store, task } = amSetup();
    const stop = new AbortController();
    const stopped = runEval({
      client,
      task,
      modelId: "fake/am-agent",
      epochs: 3,
      window: 1,
      signal: stop.signal,
      onSample: () => stop.abort(),
    });
    await expect(stopped).rejects.toThrow();
    const [run] = store.evals.runs();
    const log = exported(store, run?.id as string);
    expect(log.status).toBe("cancelled");
    expect(log.error).toBeUndefined();

    // A run of a model no provider serves fails as a whole, before any sample.
    await expect(runEval({ client, task, modelId: "nowhere/model", epochs: 1 })).rejects.toThrow();
    const gone = store.evals.runs().find((r) => r.model === "nowhere/model");
    const failed = exported(store, gone?.id as string);
    expect(failed.status).toBe("error");
    expect((failed.error as Json).message).toMatch(/failed with 0 of 2 samples recorded/);
  });
});

describe("an Inspect sample's input", () => {
  it("holds the user turns only; the system prompt stays in the messages", async () => {
    const { store, summary } = await amRun();
    const [sample] = exported(store, summary.runId).samples as {
      input: { role: string }[];
      messages: { role: string }[];
    }[];
    expect(sample?.input.map((m) => m.role)).toEqual(["user"]);
    expect(sample?.messages.map((m) => m.role)).toEqual(["system", "user", "assistant"]);
  });
});

describe("what an Inspect sample says of itself", () => {
  it("has a stable shortuuid per (run, sample, epoch)", async () => {
    const { store, summary } = await amRun({ epochs: 2 });
    const uuids = (exported(store, summary.runId).samples as Json[]).map((s) => s.uuid);
    expect(uuids).toHaveLength(4);
    expect(new Set(uuids).size).toBe(4);
    for (const u of uuids) expect(u).toMatch(/^[2-9A-HJ-NP-Za-km-z]{22}$/);
    expect((exported(store, summary.runId).samples as Json[]).map((s) => s.uuid)).toEqual(uuids);
  });

  it("names dict-valued scores by their keys, as Inspect does", async () => {
    const { store, summary } = await amRun();
    const results = exported(store, summary.runId).results as { scores: Json[] };
    const names = results.scores.map((s) => [s.name, s.scorer]);
    expect(names).toContainEqual(["decided", "misalignment"]);
    expect(names.every(([n]) => !String(n).includes("/"))).toBe(true);
  });

  it("fills the grader's role usage from its scorer's calls, even when it is the run's model", async () => {
    const { client, store, task } = amSetup();
    // The judge grading its own answers: its calls are still the grader's.
    const summary = await runEval({ client, task, modelId: "fake/am-judge", epochs: 1 });
    const log = exported(store, summary.runId);
    const stats = log.stats as {
      role_usage: Record<string, Json>;
      model_usage: Record<string, Json>;
    };
    const grader = stats.role_usage.grader as { input_tokens: number };
    expect(grader.input_tokens).toBeGreaterThan(0);
    const all = stats.model_usage["fake/am-judge"] as { input_tokens: number };
    // The model's usage sums its calls of every stage: the answers' and the grader's.
    expect(all.input_tokens).toBeGreaterThan(grader.input_tokens);
  });

  it("counts every judge's calls (misalignment and eval awareness) as the grader's, in usage and events", async () => {
    const { client, store } = amSetup();
    const task = agenticMisalignmentTask(
      { conditions: TWO },
      judgeOptions(client.model("fake/am-judge"), { attempts: 1 }),
      { evalAwareness: true },
    );
    const summary = await runEval({ client, task, modelId: "fake/am-agent", epochs: 1 });
    const log = exported(store, summary.runId);
    const calls = store.llm.sampleCalls(summary.runId);
    const stages = new Set(calls.map((c) => c.stage));
    expect(stages).toEqual(new Set(["generate", "score:misalignment", "score:eval_awareness"]));
    const judged = calls.filter((c) => c.stage?.startsWith("score:"));
    const grader = (log.stats as { role_usage: Record<string, Json> }).role_usage.grader;
    expect(grader?.input_tokens).toBe(judged.reduce((n, c) => n + c.inputTokens, 0));
    for (const s of log.samples as { events: Json[] }[])
      for (const e of s.events.filter((x) => x.event === "model"))
        expect(e.role).toBe(
          String((e.metadata as Json).stage).startsWith("score:") ? "grader" : null,
        );
  });

  it("records the model, seed, prompt spec and the caller's context in each sample and eval.metadata", async () => {
    const { client, store, task } = amSetup();
    const prompted = { ...task, args: { ...task.args, spec: { name: "alpha", hash: "h1" } } };
    const summary = await runEval({
      client,
      task: prompted,
      modelId: "fake/am-agent",
      epochs: 1,
      generate: { seed: 7 },
    });
    const context = { arm: "prompted", experiment: "exp-1" };
    const { log } = exportInspectLog(store, summary.runId, { version: "1.2.3", context });
    expect(validateEvalLog(log)).toEqual([]);
    for (const s of log.samples as { metadata: Json }[])
      expect(s.metadata).toMatchObject({
        model: "fake/am-agent",
        seed: 7,
        prompt_spec: { name: "alpha", hash: "h1" },
        arm: "prompted",
        experiment: "exp-1",
      });
    expect((log.eval as { metadata: Json }).metadata).toMatchObject({
      ...context,
      exported_by: "specsci 1.2.3",
    });
  });
});

registerFakeModel("inspect-cached-agent", (req) => ({
  text: amAgentAnswer(req.messages.find((m) => m.role === "system")?.content ?? ""),
  usage: { input_tokens: 100, output_tokens: 40, reasoning_tokens: 10, cache_read_tokens: 900 },
}));

describe("an Inspect sample's usage", () => {
  it("sums the calls made for it by model and role, with cache reads and cost", async () => {
    const { client, store } = makeClient({
      defaults: { max_attempts: 1, retry_base_ms: 1, retry_max_ms: 2 },
    });
    const task = agenticMisalignmentTask(
      { conditions: TWO },
      judgeOptions(client.model("fake/am-judge"), { attempts: 1 }),
    );
    const summary = await runEval({
      client,
      task,
      modelId: "fake/inspect-cached-agent",
      epochs: 1,
    });
    const log = exported(store, summary.runId);
    const calls = store.llm.sampleCalls(summary.runId);
    for (const s of log.samples as Json[]) {
      const own = calls.filter((c) => c.sampleId === s.id && c.epoch === s.epoch);
      const judged = own.filter((c) => c.stage === "score:misalignment");
      expect(judged.length).toBeGreaterThan(0);
      const byModel = s.model_usage as Record<string, Json>;
      expect(byModel["fake/inspect-cached-agent"]).toEqual({
        input_tokens: 100,
        output_tokens: 40,
        total_tokens: 1040,
        reasoning_tokens: 10,
        input_tokens_cache_read: 900,
        input_tokens_cache_write: 0,
        // A fake model is free: its cost is known, and nothing.
        total_cost: 0,
      });
      // The judge's calls are the sample's too, and the grader's role.
      const judgeIn = judged.reduce((n, c) => n + c.inputTokens, 0);
      expect(byModel["fake/am-judge"]).toMatchObject({ input_tokens: judgeIn });
      expect((s.role_usage as Record<string, Json>).grader).toMatchObject({
        input_tokens: judgeIn,
        total_cost: expect.any(Number),
      });
      // Each model event carries its call's usage and its cache key.
      const answer = (s.events as Json[]).find((e) => e.event === "model") as Json;
      expect((answer.output as Json).usage).toMatchObject({ input_tokens_cache_read: 900 });
      expect((answer.metadata as Json).cache_key).toBe(own[0]?.cacheKey);
    }
    const stats = log.stats as { model_usage: Record<string, Json> };
    expect(stats.model_usage["fake/inspect-cached-agent"]).toMatchObject({
      input_tokens: 200,
      input_tokens_cache_read: 1800,
    });
  });
});

describe("Inspect usage summed over calls", () => {
  it("has a cost only when every call's price is known", () => {
    const call = { inputTokens: 10, outputTokens: 5, reasoningTokens: 0, cacheReadTokens: 2 };
    const sums = usageByKey(
      [
        { ...call, model: "a", costUsd: 0.5 },
        { ...call, model: "a", costUsd: 0.25 },
        { ...call, model: "b", costUsd: 0.5 },
        { ...call, model: "b", costUsd: null },
      ],
      (c) => c.model,
    );
    expect(sums.a).toMatchObject({ input_tokens: 20, total_tokens: 34, total_cost: 0.75 });
    expect(sums.b).toMatchObject({ input_tokens_cache_read: 4 });
    expect(sums.b).not.toHaveProperty("total_cost");
  });
});

describe("what an Inspect sample keeps of specsci's record", () => {
  it("has the parsed answer the scorers judged and a failure's structured error in its metadata", async () => {
    judgeCalls = 0;
    const { store, summary } = await amRun({ judge: "fake/inspect-flaky-judge", epochs: 2 });
    const log = exported(store, summary.runId);
    const stored = store.evals.samples(summary.runId);
    for (const s of log.samples as Json[]) {
      const r = stored.find((x) => x.sampleId === s.id && x.epoch === s.epoch);
      const meta = s.metadata as Json;
      expect(meta.specsci_parsed).toEqual(r?.parsed);
      expect(meta.specsci_parsed).toMatchObject({ actions: expect.any(Array) });
      if (r?.status === "error") expect(meta.specsci_error).toEqual(r.error);
      else expect(meta.specsci_error).toBeUndefined();
    }
    expect(stored.some((r) => r.status === "error")).toBe(true);
    // A failed call's error event says what failed, beyond its message.
    const failedCall = (log.samples as { events: Json[] }[])
      .flatMap((s) => s.events)
      .find((e) => e.event === "error");
    expect(failedCall?.metadata).toMatchObject({
      stage: "score:misalignment",
      model: "fake/inspect-flaky-judge",
      attempts: 1,
    });
  });
});

describe("an Inspect sample's output", () => {
  it("keeps the answer's source, cache key, provider stop reason and cost", async () => {
    const { store, summary } = await amRun();
    const log = exported(store, summary.runId);
    const stored = store.evals.samples(summary.runId);
    for (const s of log.samples as { id: string; epoch: number; output: Json }[]) {
      const o = stored.find((x) => x.sampleId === s.id && x.epoch === s.epoch)?.output as Json;
      expect(o.cache_key).toMatch(/\S/);
      expect(s.output.metadata).toEqual({
        source: o.source,
        cache_key: o.cache_key,
        provider_stop_reason: o.provider_stop_reason,
      });
      expect((s.output.usage as Json).total_cost).toBe(o.cost_usd);
    }
  });
});

describe("an Inspect sample's events", () => {
  it("show its start, each model call (answer and judge), failed calls and its scores", async () => {
    judgeCalls = 0;
    const { store, summary } = await amRun({ judge: "fake/inspect-flaky-judge", epochs: 2 });
    const samples = exported(store, summary.runId).samples as { events: Json[]; error?: Json }[];
    for (const s of samples) {
      const kinds = s.events.map((e) => e.event);
      expect(kinds[0]).toBe("sample_init");
      const models = s.events.filter((e) => e.event === "model");
      expect(models[0]).toMatchObject({ model: "fake/am-agent", role: null, retries: 0 });
      const answer = models[0] as { input: Json[]; output: { completion: string } };
      expect(answer.input.map((m) => m.role)).toEqual(["system", "user"]);
      expect(answer.output.completion).toMatch(/scratchpad/);
      if (String(s.error?.message).includes("endpoint is down")) {
        // The judge's failed call is an error event; the sample has no score event.
        expect(s.events.at(-1)).toMatchObject({ event: "error" });
        expect(String((s.events.at(-1)?.error as Json | undefined)?.message)).toMatch(
          /inspect-flaky-judge/,
        );
        expect(kinds).not.toContain("score");
      } else {
        // A judge that answered (validly or not) is a model event of the grader.
        expect(models[1]).toMatchObject({ model: "fake/inspect-flaky-judge", role: "grader" });
        if (!s.error) expect(kinds.at(-1)).toBe("score");
      }
    }
    expect(samples.some((s) => String(s.error?.message).includes("endpoint is down"))).toBe(true);
  });

  it("mark a call answered from the cache as a cache read", async () => {
    const { client, store, task } = amSetup();
    await runEval({ client, task, modelId: "fake/am-agent", epochs: 1 });
    // The same definition under another epoch count is another run whose first epoch replays.
    const again = await runEval({ client, task, modelId: "fake/am-agent", epochs: 2 });
    const samples = exported(store, again.runId).samples as { epoch: number; events: Json[] }[];
    const first = samples.find((s) => s.epoch === 1)?.events.find((e) => e.event === "model");
    expect(first?.cache).toBe("read");
  });
});

describe("stores written before calls were linked to samples", () => {
  it("are migrated: their calls keep no sample, new calls record theirs", () => {
    const { dir, db } = storeAtVersion(11);
    db.prepare(
      `INSERT INTO llm_calls (run_id, stage, model, cache_key, source, status, stop_reason, attempts,
         latency_ms, created_at) VALUES ('r', 'generate', 'fake/x', 'k', 'api', 'ok', 'end', 1, 5, 'now')`,
    ).run();
    db.close();
    const store = Store.open(dir);
    expect(store.llm.calls({ runId: "r" })).toHaveLength(1);
    expect(store.llm.sampleCalls("r")).toEqual([]);
    const call = {
      ...(store.llm.calls({ runId: "r" })[0] as CallRecord),
      sampleId: "s1",
      epoch: 2,
    };
    store.llm.recordCall(call);
    expect(store.llm.sampleCalls("r")).toMatchObject([
      { sampleId: "s1", epoch: 2, model: "fake/x" },
    ]);
  });
});
