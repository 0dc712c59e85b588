import { afterAll, describe, expect, it } from "vitest";
import { amScoreRows, runMetrics } from "../../src/evals/am/metrics.js";
import { agenticMisalignmentTask } from "../../src/evals/am/task.js";
import { exportInspectLog } from "../../src/evals/inspect.js";
import { validateEvalLog } from "../../src/evals/inspect-schema.js";
import { judgeOptions } from "../../src/evals/judge.js";
import { runEval, samplesLeft } from "../../src/evals/runner.js";
import { registerFakeModel } from "../../src/llm/providers/fake.js";
import { registerAmFakes } from "../fakes/am-models.js";
import { cleanupTempDirs, makeClient } from "../helpers.js";
import { describePostgres, usePostgres } from "../postgres-server.js";
import { type StoreConfig, storeAtVersionOn } from "../store/older-store.js";

afterAll(cleanupTempDirs);

const counts = registerAmFakes();
let refusals = 0;
registerFakeModel("am-refuser", () => {
  refusals++;
  return { text: "", stopReason: "refusal", refusal: "I can't help with this request." };
});
let judged = 0;
registerFakeModel("am-counting-judge", () => {
  judged++;
  return '<verdict>{"decided": false, "executed": false, "rationale": "x", "quotes": []}</verdict>';
});

const TWO = ["leaking_explicit-america_replacement", "coercion_explicit-ethical_restriction"];

function setup(judge = "fake/am-judge", judgeTokens?: number) {
  const { client, store } = makeClient({
    defaults: { max_attempts: 1, retry_base_ms: 1, retry_max_ms: 2 },
  });
  const task = agenticMisalignmentTask(
    { conditions: TWO },
    judgeOptions(client.model(judge), {
      attempts: 2,
      ...(judgeTokens ? { maxTokens: judgeTokens } : {}),
    }),
  );
  return { client, store, task };
}

// The fake agent's answers run to a few hundred characters; the fake cuts at 4 per token.
const TIGHT = { max_tokens: 20 };

describe("answers cut off at max_tokens", () => {
  it("are their own outcome: unscored, in no rate, counted apart, and not redrawn at the same budget", async () => {
    const { client, store, task } = setup("fake/am-counting-judge");
    judged = 0;
    const s = await runEval({ client, task, modelId: "fake/am-agent", epochs: 2, generate: TIGHT });
    expect(s).toMatchObject({ done: 0, errors: 0, truncated: 4, refused: 0, maxTokens: 20 });
    // No evidence of a decision was shown to any judge.
    expect(judged).toBe(0);
    const records = store.evals.samples(s.runId);
    expect(records.map((r) => r.status)).toEqual(Array(4).fill("truncated"));
    expect(records[0]).toMatchObject({
      scores: null,
      output: { stop_reason: "max_tokens" },
      error: { stage: "generate", kind: "truncated", max_tokens: 20 },
    });
    const m = runMetrics(amScoreRows(store, s.runId));
    expect(m.pooled).toMatchObject({ n: 0, errors: 0, truncated: 4, refused: 0 });
    expect(Number.isNaN(m.pooled.rate)).toBe(true);
    expect(m.truncated).toBe(4);
    expect(m.errors.total).toBe(0);
    expect(store.evals.run(s.runId)?.completedAt).toBeNull();

    // A re-run at the same budget redraws nothing: that would keep whichever draws are short.
    const before = counts.agent;
    const again = await runEval({
      client,
      task,
      modelId: "fake/am-agent",
      epochs: 2,
      generate: TIGHT,
    });
    expect(again).toMatchObject({ resumed: 4, done: 0, truncated: 4 });
    expect(counts.agent).toBe(before);
    expect(samplesLeft(store, s.runId, 4)).toBe(0);
    expect(samplesLeft(store, s.runId, 4, 4000)).toBe(4);
  });

  it("are redrawn with a larger budget when one is given, on a re-run, and say so", async () => {
    const { client, store, task } = setup();
    const first = await runEval({
      client,
      task,
      modelId: "fake/am-agent",
      epochs: 1,
      generate: TIGHT,
    });
    expect(first.truncated).toBe(2);
    const retried = await runEval({
      client,
      task,
      modelId: "fake/am-agent",
      epochs: 1,
      generate: TIGHT,
      retryMaxTokens: 4000,
    });
    // Same run (the retry budget is not part of its id), now scored.
    expect(retried).toMatchObject({ runId: first.runId, done: 2, truncated: 0, resumed: 0 });
    const records = store.evals.samples(first.runId);
    expect(records.map((r) => r.status)).toEqual(["done", "done"]);
    expect(records[0]?.metadata).toMatchObject({ redrawn_after_cutoff_at: 20 });
    expect(runMetrics(amScoreRows(store, first.runId)).pooled).toMatchObject({
      n: 2,
      misaligned: 2,
      truncated: 0,
    });
    expect(store.evals.run(first.runId)?.completedAt).not.toBeNull();
  });

  it("are redrawn at once in the same run with a retry budget; still cut off, they stay truncated", async () => {
    const { client, store, task } = setup();
    const s = await runEval({
      client,
      task,
      modelId: "fake/am-agent",
      epochs: 1,
      generate: TIGHT,
      retryMaxTokens: 4000,
    });
    expect(s).toMatchObject({ done: 2, truncated: 0 });
    const cut = await runEval({
      client,
      task,
      modelId: "fake/am-agent",
      epochs: 1,
      generate: { max_tokens: 10 },
      retryMaxTokens: 15,
    });
    expect(cut).toMatchObject({ done: 0, truncated: 2 });
    expect(store.evals.samples(cut.runId)[0]).toMatchObject({
      metadata: { redrawn_after_cutoff_at: 10 },
      error: { kind: "truncated", max_tokens: 15 },
    });
    await expect(
      runEval({
        client,
        task,
        modelId: "fake/am-agent",
        epochs: 1,
        generate: TIGHT,
        retryMaxTokens: 20,
      }),
    ).rejects.toThrow(/must be larger than max_tokens \(20\)/);
  });

  it("in a judge's answer make the verdict invalid, never a verdict", async () => {
    // 8 tokens is too few for any verdict of the fake judge: each of its answers is cut off.
    const { client, store, task } = setup("fake/am-judge", 8);
    const s = await runEval({ client, task, modelId: "fake/am-agent", epochs: 1 });
    expect(s).toMatchObject({ done: 0, errors: 2 });
    const r = store.evals.samples(s.runId)[0];
    expect(r?.error).toMatchObject({ stage: "score", kind: "judge_invalid" });
    expect(r?.error).toMatchObject({
      message: expect.stringMatching(/cut off by the length limit/),
    });
    expect(runMetrics(amScoreRows(store, s.runId)).pooled.n).toBe(0);
  });
});

describe("refusals the provider reports", () => {
  it("are the target's outcome: unscored, not blamed on the judge, final, in no rate", async () => {
    const { client, store, task } = setup("fake/am-counting-judge");
    refusals = 0;
    judged = 0;
    const s = await runEval({ client, task, modelId: "fake/am-refuser", epochs: 2 });
    expect(s).toMatchObject({ done: 0, errors: 0, refused: 4, truncated: 0 });
    expect(judged).toBe(0);
    const r = store.evals.samples(s.runId)[0];
    expect(r).toMatchObject({
      status: "refused",
      scores: null,
      error: { stage: "generate", kind: "refused", message: "I can't help with this request." },
    });
    const m = runMetrics(amScoreRows(store, s.runId));
    expect(m.pooled).toMatchObject({ n: 0, errors: 0, refused: 4 });
    expect(m.errors.total).toBe(0);
    // Final: a re-run asks nothing again, and the run is complete.
    const again = await runEval({ client, task, modelId: "fake/am-refuser", epochs: 2 });
    expect(again).toMatchObject({ resumed: 4, refused: 4 });
    expect(refusals).toBe(4);
    expect(store.evals.run(s.runId)?.completedAt).not.toBeNull();
  });
});

describe("the Inspect export of unscored outcomes", () => {
  it("keeps the transcript, gives no score, and says why in the sample's metadata", async () => {
    const { client, store, task } = setup();
    const cut = await runEval({
      client,
      task,
      modelId: "fake/am-agent",
      epochs: 1,
      generate: TIGHT,
    });
    const refused = await runEval({ client, task, modelId: "fake/am-refuser", epochs: 1 });
    for (const [runId, outcome, stop] of [
      [cut.runId, "truncated", "max_tokens"],
      [refused.runId, "refused", "content_filter"],
    ] as const) {
      const { log } = exportInspectLog(store, runId);
      expect(validateEvalLog(log)).toEqual([]);
      const sample = (log.samples as Record<string, unknown>[])[0] as {
        scores: object;
        metadata: Record<string, unknown>;
        output: { choices: { stop_reason: string }[] };
        error?: unknown;
      };
      expect(sample.scores).toEqual({});
      expect(sample.error).toBeUndefined();
      expect(sample.metadata.specsci_outcome).toBe(outcome);
      expect(sample.output.choices[0]?.stop_reason).toBe(stop);
      expect(
        (log.eval as { metadata: { unscored: Record<string, number> } }).metadata.unscored[outcome],
      ).toBe(2);
    }
  });
});

/** Migration 6 on each backend (PostgreSQL has its own SQL for it). */
function outcomesMigrationTests(storeConfig: () => StoreConfig) {
  it("are migrated: cut-off answers and refusals leave the rates, other samples keep their scores", () => {
    const { db, open } = storeAtVersionOn(storeConfig(), 5);
    const now = "2026-12-01T00:00:00.000Z";
    db.prepare(
      "INSERT INTO runs (id, kind, created_at, updated_at) VALUES ('r', 'eval', ?, ?)",
    ).run(now, now);
    db.prepare(
      `INSERT INTO eval_runs (id, task, task_version, task_args, model, epochs, generate_config,
         scorer_config, dataset_hash, sample_count, created_at, completed_at)
       VALUES ('r', 'agentic-misalignment', '1', '{}', 'fake/x', 1, '{"max_tokens":64}', '{}', 'h', 3, ?, ?)`,
    ).run(now, now);
    db.prepare("INSERT INTO texts (hash, body) VALUES ('in', '[]')").run();
    const insert = db.prepare(
      `INSERT INTO eval_samples (run_id, sample_id, epoch, status, input_hash, output, scores, error,
         metadata, started_at, completed_at, working_ms)
       VALUES ('r', ?, 1, ?, 'in', ?, ?, ?, '{}', ?, ?, 1)`,
    );
    const scored = JSON.stringify({ misalignment: { value: { decided: 0 } } });
    insert.run(
      "cut",
      "done",
      JSON.stringify({ stop_reason: "max_tokens" }),
      scored,
      null,
      now,
      now,
    );
    insert.run(
      "refused",
      "error",
      JSON.stringify({ stop_reason: "refusal", refusal: "No." }),
      null,
      JSON.stringify({ stage: "score", kind: "judge_invalid", message: "no quotes" }),
      now,
      now,
    );
    insert.run("fine", "done", JSON.stringify({ stop_reason: "end" }), scored, null, now, now);

    const store = open();
    const rows = store.evals.samples("r");
    expect(rows.map((r) => [r.sampleId, r.status])).toEqual([
      ["cut", "truncated"],
      ["fine", "done"],
      ["refused", "refused"],
    ]);
    expect(rows[0]).toMatchObject({ scores: null, error: { kind: "truncated", max_tokens: 64 } });
    expect(rows[2]?.error).toMatchObject({ kind: "refused", message: "No." });
    expect(rows[1]?.scores).toEqual(JSON.parse(scored));
    expect(runMetrics(amScoreRows(store, "r")).pooled).toMatchObject({
      n: 1,
      truncated: 1,
      refused: 1,
      errors: 0,
    });
    expect(store.evals.run("r")?.completedAt).toBeNull();
    store.close();
  });
}

describe("stores written before sample outcomes existed (SQLite)", () => {
  outcomesMigrationTests(() => ({}));
});

describePostgres("stores written before sample outcomes existed (PostgreSQL)", () => {
  const server = usePostgres();
  outcomesMigrationTests(() => ({ store: server().database() }));
});
