import { afterAll, describe, expect, it } from "vitest";
import { agenticMisalignmentTask } from "../../src/evals/am/task.js";
import { exportInspectLog } from "../../src/evals/inspect.js";
import { validateEvalLog } from "../../src/evals/inspect-schema.js";
import { judgeOptions } from "../../src/evals/judge.js";
import { runEval } from "../../src/evals/runner.js";
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
