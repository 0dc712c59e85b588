/**
 * `store.evals.writeSample` computes a sample input's canonical JSON and hash once per input
 * object (an agentic scenario is tens of kB, written in every epoch), yet stores its text with
 * every record: a record written after a rolled-back one still finds its input.
 */
import { afterAll, describe, expect, it } from "vitest";
import { Store } from "../../src/store/db.js";
import type { EvalSampleRecord } from "../../src/store/index.js";
import { cleanupTempDirs, tempDir } from "../helpers.js";
import { describePostgres, usePostgres } from "../postgres-server.js";

afterAll(cleanupTempDirs);

function storeWithRun(open: () => Store): Store {
  const store = open();
  store.runs.ensure({ id: "r", kind: "eval", name: "r", config: {} });
  store.evals.ensureRun({
    ...{ id: "r", task: "t", taskVersion: "1", taskArgs: {}, model: "fake/x", epochs: 3 },
    ...{ generateConfig: {}, scorerConfig: {}, datasetHash: "h", sampleCount: 1 },
  });
  return store;
}

const record = (epoch: number, input: unknown, metadata: unknown): EvalSampleRecord => ({
  ...{ runId: "r", sampleId: "s", epoch, status: "done", input, output: { text: "ok" } },
  ...{ parsed: null, scores: null, error: null, metadata },
  ...{ startedAt: "2026-12-01T00:00:00.000Z", completedAt: "2026-12-01T00:00:00.000Z" },
  workingMs: 1,
});

/** The tests, on the store `open` gives. */
function sampleInputTests(open: () => Store) {
  it("are stored and read back whole, also after a rolled-back write of the same input", () => {
    const store = storeWithRun(open);
    const input = [{ role: "user", content: `a long inbox ${"x".repeat(50_000)}` }];
    const metadata = { family: "leaking", evidence: { b: 2, a: 1 } };
    expect(() =>
      store.tx(() => {
        store.evals.writeSample(record(1, input, metadata));
        throw new Error("the batch fails");
      }),
    ).toThrow("the batch fails");
    store.tx(() => store.evals.writeSample(record(2, input, metadata)));
    store.tx(() => store.evals.writeSample(record(3, input, metadata)));
    const samples = store.evals.samples("r");
    expect(samples.map((s) => s.epoch)).toEqual([2, 3]);
    for (const s of samples) {
      expect(s.input).toEqual(input);
      expect(s.metadata).toEqual(metadata);
    }
    const texts = store.db.prepare("SELECT count(*) AS n FROM texts").get() as { n: number };
    expect(texts.n).toBe(1);
    store.close();
  });
}

describe("sample inputs written in every epoch (SQLite)", () => {
  sampleInputTests(() => Store.open(tempDir("specsci-sample-inputs-")));
});

describePostgres("sample inputs written in every epoch (PostgreSQL)", () => {
  const server = usePostgres();
  sampleInputTests(() =>
    Store.open(tempDir("specsci-sample-inputs-"), { url: server().database() }),
  );
});
