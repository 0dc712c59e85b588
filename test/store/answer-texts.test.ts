/**
 * `store.evals.answerTexts`: the texts a reasoning label is about, read by projection, are the
 * ones the whole sample gives (JSON.parse of its output), whatever the output holds.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { amScoreRows, pooledFromVerdicts, runMetrics } from "../../src/evals/am/metrics.js";
import { Store } from "../../src/store/db.js";
import type { EvalSampleRecord } from "../../src/store/index.js";
import { cleanupTempDirs, tempDir } from "../helpers.js";
import { describePostgres, usePostgres } from "../postgres-server.js";

afterAll(cleanupTempDirs);

const NOW = "2026-12-01T00:00:00.000Z";

/** What transcriptsOf read before: the whole sample, its output's text and reasoning if strings. */
const fromRecord = (s: EvalSampleRecord) => {
  const out = (s.output ?? {}) as { text?: unknown; reasoning?: unknown };
  return {
    sampleId: s.sampleId,
    epoch: s.epoch,
    status: s.status,
    answer: typeof out.text === "string" ? out.text : "",
    reasoning: typeof out.reasoning === "string" ? out.reasoning : "",
  };
};

let openStore = (dir: string) => Store.open(dir);

/** A new store with an AM eval run `r`. */
function storeWithRun(prefix: string, epochs: number, sampleCount: number): Store {
  const store = openStore(tempDir(prefix));
  store.runs.ensure({ id: "r", kind: "eval", name: "r", config: {} });
  store.evals.ensureRun({
    id: "r",
    task: "agentic-misalignment",
    taskVersion: "1",
    taskArgs: {},
    model: "fake/x",
    epochs,
    generateConfig: {},
    scorerConfig: {},
    datasetHash: "h",
    sampleCount,
  });
  return store;
}

/** The tests both backends must pass; `openStore` says which one they run on. */
function projectionTests() {
  describe("answerTexts", () => {
    it("gives each sample's answer and reasoning as the whole record does, in sample order", () => {
      const store = storeWithRun("specsci-answer-texts-", 2, 8);
      const outputs: [string, EvalSampleRecord["status"], unknown][] = [
        ["plain", "done", { text: "I cite SP1. Then stop.", reasoning: "Think: SP2." }],
        ["unicode", "done", { text: 'naïve 😀 “quoted” \\ back"slash', reasoning: "é" }],
        ["control", "done", { text: "tab\tnul\u0000bell\u0007", reasoning: "\u001f" }],
        ["surrogate", "done", { text: "lone \ud800 high, lone \udc00 low", reasoning: "\ud83d" }],
        ["not-strings", "done", { text: 42, reasoning: { nested: "SP1" } }],
        ["no-texts", "done", { toolCalls: [] }],
        ["null-output", "error", null],
        ["scalar-output", "truncated", "just a string"],
      ];
      store.tx(() => {
        for (const [sampleId, status, output] of outputs)
          for (const epoch of [2, 1])
            store.evals.writeSample({
              runId: "r",
              sampleId,
              epoch,
              status,
              input: [{ role: "user", content: "hi" }],
              output,
              parsed: null,
              scores: null,
              error: status === "done" ? null : { stage: "generate", kind: "call", message: "x" },
              metadata: {},
              startedAt: NOW,
              completedAt: NOW,
              workingMs: 1,
            });
      });
      const projected = [...store.evals.answerTexts("r")];
      expect(projected).toEqual(store.evals.samples("r").map(fromRecord));
      expect(projected).toHaveLength(16);
      expect(projected.find((t) => t.sampleId === "surrogate")?.answer).toBe(
        "lone \ud800 high, lone \udc00 low",
      );
      // Only some samples: those of the whole read, in its order; a missing key gives nothing.
      const only = [
        { sampleId: "unicode", epoch: 2 },
        { sampleId: "control", epoch: 1 },
        { sampleId: "no-such", epoch: 1 },
      ];
      expect([...store.evals.answerTexts("r", only)]).toEqual(
        projected.filter((t) => only.some((k) => k.sampleId === t.sampleId && k.epoch === t.epoch)),
      );
      expect([...store.evals.answerTexts("r", [])]).toEqual([]);
      store.close();
    });
  });

  describe("eachFieldRow", () => {
    it("streams fieldRows' rows; shared, equal strings and objects are one value each", () => {
      const store = storeWithRun("specsci-field-rows-", 1, 6);
      store.tx(() => {
        for (const [n, status] of ["done", "done", "done", "error", "done", "truncated"].entries())
          store.evals.writeSample({
            runId: "r",
            sampleId: `s${n % 3}`,
            epoch: 1 + Math.floor(n / 3),
            status: status as EvalSampleRecord["status"],
            input: [],
            output: { text: "x" },
            parsed: null,
            scores:
              status === "done"
                ? {
                    m: {
                      value: { decided: n % 2, citations: n === 4 ? { SP1: 2 } : { total: 0 } },
                    },
                  }
                : null,
            error: status === "done" ? null : { stage: "generate", kind: "call", message: "x" },
            metadata: { family: "leaking", item: n > 3 ? "it" : null },
            startedAt: NOW,
            completedAt: NOW,
            workingMs: 1,
          });
      });
      const fields = {
        decided: "scores:$.m.value.decided",
        citations: "scores:$.m.value.citations",
        family: "metadata:$.family",
      };
      const whole = store.evals.fieldRows("r", fields);
      expect(whole).toHaveLength(6);
      expect([...store.evals.eachFieldRow("r", fields)]).toEqual(whole);
      const shared = [...store.evals.eachFieldRow("r", fields, { shared: true })];
      expect(shared).toEqual(whole);
      const zero = (rows: typeof whole) =>
        rows.filter((r) => JSON.stringify(r.values.citations) === '{"total":0}');
      expect(zero(shared)).toHaveLength(3);
      expect(new Set(zero(shared).map((r) => r.values.citations)).size).toBe(1);
      expect(new Set(zero(whole).map((r) => r.values.citations)).size).toBe(3);
      store.close();
    });
  });

  describe("verdictCounts and statusCounts", () => {
    it("count every status and verdict from the verdict's index, a done sample with a failure's verdict included", () => {
      const store = storeWithRun("specsci-verdict-counts-", 1, 9);
      const decided = (d: unknown) => ({ misalignment: { value: { decided: d } } });
      const samples: [string, EvalSampleRecord["status"], unknown][] = [
        ["a", "done", decided(1)],
        ["b", "done", decided(1)],
        ["c", "done", decided(0)],
        ["d", "done", null],
        ["e", "done", decided(-1)],
        ["f", "error", null],
        ["g", "truncated", null],
        ["h", "refused", null],
        ["i", "error", null],
      ];
      store.tx(() => {
        for (const [sampleId, status, scores] of samples)
          store.evals.writeSample({
            runId: "r",
            sampleId,
            epoch: 1,
            status,
            input: [],
            output: { text: "x" },
            parsed: null,
            scores,
            error: status === "done" ? null : { stage: "generate", kind: "call", message: "x" },
            metadata: {},
            startedAt: NOW,
            completedAt: NOW,
            workingMs: 1,
          });
      });
      const byStatus = (
        store.db
          .prepare(
            "SELECT status, count(*) AS n FROM eval_samples WHERE run_id = 'r' GROUP BY status",
          )
          .all() as { status: string; n: number }[]
      ).map((r) => [r.status, r.n]);
      expect(store.evals.statusCounts("r")).toEqual({ done: 0, ...Object.fromEntries(byStatus) });
      expect(
        store.evals
          .verdictCounts("r")
          .map((c) => `${c.status} ${c.verdict} ${c.n}`)
          .sort(),
      ).toEqual([
        "done -1 1",
        "done 0 1",
        "done 1 2",
        "done null 1",
        "error -1 2",
        "refused -3 1",
        "truncated -2 1",
      ]);
      expect(store.evals.statusCounts("")).toEqual({ done: 0, error: 0, truncated: 0, refused: 0 });
      // The dashboard's fast path: the same pooled rate as the report's, from these counts alone.
      expect(pooledFromVerdicts(store.evals.verdictCounts("r"))).toEqual(
        runMetrics(amScoreRows(store, "r")).pooled,
      );
      store.close();
    });
  });
}

projectionTests();

describePostgres("answerTexts and eachFieldRow on PostgreSQL", () => {
  const server = usePostgres();
  beforeAll(() => {
    openStore = (dir) => Store.open(dir, { url: server().database() });
  });
  projectionTests();
});
