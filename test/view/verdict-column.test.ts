/**
 * Migration 9's verdict column: a store written before it gets the column for the samples it
 * holds, samples written after get it too, and the sample table sorts by it from its index. On
 * both backends: PostgreSQL's column is made again by migration 15 and its index by 16, here
 * over the rows the older store holds.
 */
import { afterAll, describe, expect, it } from "vitest";
import { querySamples } from "../../src/view/samples.js";
import { cleanupTempDirs } from "../helpers.js";
import { onEachBackend, storeAtVersionOn } from "./fixture.js";

afterAll(cleanupTempDirs);

const NOW = "2026-12-01T00:00:00.000Z";
const decided = (d: number) => JSON.stringify({ misalignment: { value: { decided: d } } });
const failed = JSON.stringify({ stage: "generate", kind: "call", message: "down" });

onEachBackend((storeConfig, backend) =>
  describe("the verdict column (migration 9)", () => {
    it("is computed for samples stored before it and after it, and orders the table from its index", () => {
      const { db, open } = storeAtVersionOn(storeConfig(), 8);
      db.prepare(
        "INSERT INTO runs (id, kind, created_at, updated_at) VALUES ('r', 'eval', ?, ?)",
      ).run(NOW, NOW);
      db.prepare(
        `INSERT INTO eval_runs (id, task, task_version, task_args, model, epochs, generate_config,
         scorer_config, dataset_hash, sample_count, created_at, completed_at)
       VALUES ('r', 'agentic-misalignment', '1', '{}', 'fake/x', 1, '{}', '{}', 'h', 6, ?, ?)`,
      ).run(NOW, NOW);
      db.prepare("INSERT INTO texts (hash, body) VALUES ('in', '[]')").run();
      const insert = db.prepare(
        `INSERT INTO eval_samples (run_id, sample_id, epoch, status, input_hash, output, scores, error,
         metadata, started_at, completed_at, working_ms)
       VALUES ('r', ?, 1, ?, 'in', '{"text": "x"}', ?, ?, '{}', ?, ?, 1)`,
      );
      insert.run("a-misaligned", "done", decided(1), null, NOW, NOW);
      insert.run("b-not", "done", decided(0), null, NOW, NOW);
      insert.run("c-failed", "error", null, failed, NOW, NOW);
      insert.run("d-cut", "truncated", null, failed, NOW, NOW);
      insert.run("e-other-task", "done", JSON.stringify({ choice: { value: 1 } }), null, NOW, NOW);
      const store = open();
      store.evals.writeSample({
        runId: "r",
        sampleId: "f-refused",
        epoch: 1,
        status: "refused",
        input: [],
        output: { text: "" },
        parsed: null,
        scores: null,
        error: { stage: "generate", kind: "refused", message: "No." },
        metadata: {},
        startedAt: NOW,
        completedAt: NOW,
        workingMs: 1,
      });
      const verdicts = store.db
        .prepare("SELECT sample_id, verdict FROM eval_samples ORDER BY sample_id")
        .all();
      expect(verdicts).toEqual([
        { sample_id: "a-misaligned", verdict: 1 },
        { sample_id: "b-not", verdict: 0 },
        { sample_id: "c-failed", verdict: -1 },
        { sample_id: "d-cut", verdict: -2 },
        { sample_id: "e-other-task", verdict: null },
        { sample_id: "f-refused", verdict: -3 },
      ]);
      const page = querySamples(store, { sort: "verdict", order: "desc" }, null);
      expect(page.rows.map((r) => r.sampleId)).toEqual([
        "a-misaligned",
        "b-not",
        "c-failed",
        "d-cut",
        "f-refused",
        "e-other-task",
      ]);
      expect(querySamples(store, { verdict: ["error", "refusal"] }, null).total).toBe(2);
      // Whole transcripts are read without the computed column; one alone as the run's list has it.
      expect(Object.keys(store.evals.samples("r")[0] ?? {})).not.toContain("verdict");
      expect(store.evals.sample("r", "f-refused", 1)).toEqual(
        store.evals.samples("r").find((x) => x.sampleId === "f-refused"),
      );
      expect(store.evals.sample("r", "f-refused", 2)).toBeUndefined();
      if (backend === "postgres") {
        // Six rows are read fastest without an index, so the planner is told to avoid that:
        // the sample table's order in either direction must then come from the index, unsorted.
        store.db.exec("SET enable_seqscan = off; SET enable_sort = off");
        for (const [dir, nulls, scan] of [
          ["DESC", "NULLS LAST", "Index Only Scan Backward using eval_samples_by_verdict"],
          ["ASC", "NULLS FIRST", "Index Only Scan using eval_samples_by_verdict"],
        ] as const) {
          const plan = store.db
            .prepare(
              `EXPLAIN SELECT s.rowid FROM eval_samples s ORDER BY s.verdict ${dir} ${nulls}, s.run_id ${dir}, s.sample_id ${dir}, s.epoch ${dir} LIMIT 100 OFFSET 5000`,
            )
            .pluck()
            .all() as string[];
          expect(plan.join("\n")).toContain(scan);
          expect(plan.join("\n")).not.toMatch(/\bSort\b/);
        }
        store.db.exec("RESET enable_seqscan; RESET enable_sort");
      } else {
        const plan = store.db
          .prepare(
            "EXPLAIN QUERY PLAN SELECT rowid FROM eval_samples s WHERE s.verdict = 0 ORDER BY s.verdict DESC, s.run_id DESC, s.sample_id DESC, s.epoch DESC LIMIT 100 OFFSET 5000",
          )
          .all() as { detail: string }[];
        expect(plan.map((p) => p.detail).join("\n")).toContain("eval_samples_by_verdict");
        expect(plan.map((p) => p.detail).join("\n")).not.toContain("TEMP B-TREE");
        // Runs × family × verdict from one index.
        const byFamily = store.db
          .prepare(
            "EXPLAIN QUERY PLAN SELECT count(*) FROM eval_samples s WHERE s.run_id IN ('r') AND json_extract(s.metadata, '$.family') IN ('leaking') AND s.verdict IN (1)",
          )
          .all() as { detail: string }[];
        expect(byFamily.map((p) => p.detail).join("\n")).toContain(
          "eval_samples_by_family (run_id=? AND <expr>=? AND verdict=?)",
        );
      }
      store.close();
    });
  }),
);
