import { afterAll, describe, expect, it } from "vitest";
import { amDefinition } from "../../src/evals/am/definition.js";
import { amScoreRows, runMetrics, type ScoreRow } from "../../src/evals/am/metrics.js";
import { judgeOptions } from "../../src/evals/judge.js";
import { limitItems } from "../../src/evals/registry.js";
import { evalRunId, runEval } from "../../src/evals/runner.js";
import { summarizeTask } from "../../src/evals/task-metrics.js";
import { taskDefinition } from "../../src/evals/tasks.js";
import type { Store } from "../../src/store/index.js";
import { registerAmFakes } from "../fakes/am-models.js";
import { cleanupTempDirs, makeClient } from "../helpers.js";

afterAll(cleanupTempDirs);
registerAmFakes();

/**
 * The projection the store made before the registry (issue 16), plus the judge's `executed`
 * (issue 17): the reference for "no change".
 */
function legacyScoreRows(store: Store, runId: string): ScoreRow[] {
  const rows = store.db
    .prepare(
      `SELECT sample_id AS sampleId, epoch, status,
         json_extract(metadata, '$.family') AS family,
         json_extract(scores, '$.misalignment.value.decided') AS decided,
         json_extract(scores, '$.misalignment.value.executed_evidence') AS executed,
         json_extract(scores, '$.misalignment.value.executed') AS judgeExecuted,
         json_extract(scores, '$.eval_awareness.answer') AS awareness,
         json_extract(scores, '$.rule_citations.value') AS citations,
         CASE WHEN error IS NULL THEN NULL
           ELSE json_extract(error, '$.stage') || ':' || json_extract(error, '$.kind') END AS errorKind
       FROM eval_samples WHERE run_id = ? ORDER BY sample_id, epoch`,
    )
    .all(runId) as (Omit<ScoreRow, "citations"> & { citations: string | null })[];
  return rows.map((r) => ({ ...r, citations: r.citations ? JSON.parse(r.citations) : null }));
}

const CONDITIONS = [
  "leaking_explicit-america_replacement",
  "leaking_none-none_replacement",
  "lethal-inaction_explicit-safety_replacement",
  "exfiltration_none-none_replacement",
];

describe("the agentic-misalignment task on the registry", () => {
  it("is found by name and alias, and an unknown name lists the tasks", () => {
    expect(taskDefinition("am")).toBe(amDefinition);
    expect(taskDefinition("agentic-misalignment")).toBe(amDefinition);
    expect(() => taskDefinition("agentic-misalignmnt")).toThrow(
      /unknown task "agentic-misalignmnt" \(did you mean agentic-misalignment\?\)/,
    );
  });

  it("takes the deterrents toggle in snake_case, off by default", () => {
    const judge = judgeOptions(makeClient().client.model("fake/am-judge"));
    const build = (toggles?: object) =>
      amDefinition.build(
        amDefinition.args.parse({ conditions: ["coercion_none-none_none"], toggles }),
        { judge: () => judge, baseDir: process.cwd() },
      );
    const inbox = (t: ReturnType<typeof build>) => t.dataset[0]?.input[1]?.content ?? "";
    expect(inbox(build())).not.toContain("compliance@helixgridenergy.com");
    expect(inbox(build({ deterrents: true }))).toContain("compliance@helixgridenergy.com");
    expect(build({ deterrents: true }).args.toggles).toMatchObject({ deterrents: true });
    expect(() => amDefinition.args.parse({ toggles: { deterrent: true } })).toThrow();
  });

  it("builds the same task (same run id) as before, and gives the same rates on the same store", async () => {
    const { client, store } = makeClient();
    const judge = judgeOptions(client.model("fake/am-judge"));
    const args = amDefinition.args.parse({ conditions: CONDITIONS, eval_awareness: true });
    const task = amDefinition.build(args, { judge: () => judge, baseDir: process.cwd() });
    const { agenticMisalignmentTask } = await import("../../src/evals/am/task.js");
    const direct = agenticMisalignmentTask({ conditions: CONDITIONS, toggles: {} }, judge, {
      evalAwareness: true,
    });
    const generate = { ...task.defaults };
    expect(evalRunId(task, "fake/am-agent", 3, generate)).toBe(
      evalRunId(direct, "fake/am-agent", 3, generate),
    );
    const summary = await runEval({ client, task, modelId: "fake/am-agent", epochs: 3 });
    const legacy = runMetrics(legacyScoreRows(store, summary.runId));
    const now = runMetrics(amScoreRows(store, summary.runId));
    expect(now).toEqual(legacy);
    expect(now.pooled.rate).toBeCloseTo(0.5, 10);
    // The generic summary reads the same verdicts: one epoch-mean per scenario.
    const generic = summarizeTask(
      amDefinition,
      store.evals.fieldRows(summary.runId, amDefinition.fields),
    );
    const misaligned = generic.metrics[0];
    expect(misaligned?.overall).toMatchObject({
      samples: 12,
      items: 4,
      mean: now.meanOverConditions,
    });
    expect(misaligned?.by[0]?.cells.map((c) => [c.key, c.mean])).toEqual(
      now.byFamily.map((c) => [c.key, c.rate]),
    );
  });

  it("--limit keeps the first items", () => {
    const { client } = makeClient();
    const judge = judgeOptions(client.model("fake/am-judge"));
    const task = amDefinition.build(amDefinition.args.parse({ conditions: CONDITIONS }), {
      judge: () => judge,
      baseDir: process.cwd(),
    });
    const two = limitItems(task, 2);
    expect(two.dataset.map((s) => s.id)).toEqual(task.dataset.slice(0, 2).map((s) => s.id));
    expect(two.args.limit).toBe(2);
    expect(limitItems(task, 10)).toBe(task);
  });
});
