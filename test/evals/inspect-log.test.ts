import { afterAll, describe, expect, it } from "vitest";
import { agenticMisalignmentTask } from "../../src/evals/am/task.js";
import { exportInspectLog } from "../../src/evals/inspect.js";
import { validateEvalLog } from "../../src/evals/inspect-schema.js";
import { judgeOptions } from "../../src/evals/judge.js";
import { runEval } from "../../src/evals/runner.js";
import { registerFakeModel } from "../../src/llm/providers/fake.js";
import { registerAmFakes } from "../fakes/am-models.js";
import { cleanupTempDirs, makeClient } from "../helpers.js";

afterAll(cleanupTempDirs);
registerAmFakes();

type Json = Record<string, unknown>;
const TWO = ["leaking_explicit-america_replacement", "coercion_explicit-ethical_restriction"];

/** An AM run of two conditions, answered by the fake agent and graded by the fake judge. */
async function amRun(opts: { judge?: string; epochs?: number } = {}) {
  const { client, store } = makeClient({
    defaults: { max_attempts: 1, retry_base_ms: 1, retry_max_ms: 2 },
  });
  const task = agenticMisalignmentTask(
    { conditions: TWO },
    judgeOptions(client.model(opts.judge ?? "fake/am-judge"), { attempts: 1 }),
  );
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
    const { client, store } = makeClient();
    const task = agenticMisalignmentTask(
      { conditions: TWO },
      judgeOptions(client.model("fake/am-judge"), { attempts: 1 }),
    );
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
