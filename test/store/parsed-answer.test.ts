/**
 * A parsed answer's members that repeat the answer's text (agentic misalignment's `visible`,
 * whenever the answer has no scratchpad) are stored once, in `output`, and every read of the
 * store gives the parsed object back whole, its members in their order (migration 14).
 */
import { afterAll, describe, expect, it } from "vitest";
import { Store } from "../../src/store/db.js";
import type { EvalSampleRecord } from "../../src/store/index.js";
import { cleanupTempDirs, tempDir } from "../helpers.js";
import { describePostgres, usePostgres } from "../postgres-server.js";

afterAll(cleanupTempDirs);

const answer = `I will forward the memo. ${"Long visible answer. ".repeat(200)}`;

const record = (sampleId: string, parsed: unknown): EvalSampleRecord => ({
  ...{ runId: "r", sampleId, epoch: 1, status: "done", input: [{ role: "user", content: "hi" }] },
  ...{ output: { model: "fake/x", text: answer, reasoning: null }, parsed },
  ...{ scores: { misalignment: { value: { decided: 1 } } }, error: null, metadata: {} },
  ...{ startedAt: "2026-12-01T00:00:00.000Z", completedAt: "2026-12-01T00:00:00.000Z" },
  workingMs: 1,
});

/** The tests, on the store `open` gives. */
function parsedAnswerTests(open: () => Store) {
  it("keep the answer's text once and read back whole through every read", () => {
    const store = open();
    store.runs.ensure({ id: "r", kind: "eval", name: "r", config: {} });
    store.evals.ensureRun({
      ...{ id: "r", task: "t", taskVersion: "1", taskArgs: {}, model: "fake/x", epochs: 1 },
      ...{ generateConfig: {}, scorerConfig: {}, datasetHash: "h", sampleCount: 3 },
    });
    const same = { actions: [], drafts: [], reasoning: "", visible: answer, tail: 1 };
    const other = { actions: [], reasoning: "", visible: "I will forward the memo." };
    store.tx(() => {
      store.evals.writeSample(record("same", same));
      store.evals.writeSample(record("other", other));
      store.evals.writeSample(record("none", null));
    });
    // A row written before migration 14: parsed whole, no answer keys.
    store.db
      .prepare(
        `INSERT INTO eval_samples (run_id, sample_id, epoch, status, input_hash, output, parsed,
           scores, error, metadata, started_at, completed_at, working_ms)
         SELECT run_id, 'old', epoch, status, input_hash, output, ?, scores, error, metadata,
           started_at, completed_at, working_ms FROM eval_samples WHERE sample_id = 'none'`,
      )
      .run(JSON.stringify(same));

    const stored = store.db
      .prepare("SELECT sample_id, length(parsed) AS n, parsed_answer_keys AS k FROM eval_samples")
      .all() as { sample_id: string; n: number | null; k: string | null }[];
    const bySample = Object.fromEntries(stored.map((r) => [r.sample_id, r]));
    expect(bySample.same?.n).toBeLessThan(100);
    expect(bySample.same?.k).toBe('["visible"]');
    expect(bySample.other?.k).toBeNull();
    expect(bySample.old?.k).toBeNull();

    const parsedOf = (records: EvalSampleRecord[]) =>
      Object.fromEntries(records.map((r) => [r.sampleId, JSON.stringify(r.parsed)]));
    const expected = {
      same: JSON.stringify(same),
      other: JSON.stringify(other),
      none: "null",
      old: JSON.stringify(same),
    };
    expect(parsedOf(store.evals.samples("r"))).toEqual(expected);
    expect(parsedOf(store.evals.samples("r", ["same", "old"]))).toEqual({
      same: expected.same,
      old: expected.old,
    });
    expect(JSON.stringify(store.evals.sample("r", "same", 1)?.parsed)).toBe(expected.same);
    const examples = store.evals.exampleSamples("r", 4, {
      field: "scores:$.misalignment.value.decided",
      order: "desc",
    });
    expect(parsedOf(examples)).toEqual(expected);
    store.close();
  });
}

describe("parsed answers in the store (SQLite)", () => {
  parsedAnswerTests(() => Store.open(tempDir("specsci-parsed-answer-")));
});

describePostgres("parsed answers in the store (PostgreSQL)", () => {
  const server = usePostgres();
  parsedAnswerTests(() =>
    Store.open(tempDir("specsci-parsed-answer-"), { url: server().database() }),
  );
});
