/**
 * Samples written through the group commit are indexed for search in one statement per commit
 * (migration 14), not once per sample: FTS5 writes a segment at every statement savepoint, so
 * per-sample indexing left one segment per sample. Searches still find exactly the committed
 * samples, also after a retried sample replaces its record and after a batch with a bad write.
 * On both backends, searched as the dashboard does (search.ts): PostgreSQL indexes answers in a
 * generated column instead (migration 7), and the same searches must find the same samples.
 */
import { afterAll, describe, expect, it } from "vitest";
import { Store } from "../../src/store/db.js";
import type { EvalSampleRecord } from "../../src/store/index.js";
import { parseSearch, searchCondition } from "../../src/view/search.js";
import { cleanupTempDirs, tempDir } from "../helpers.js";
import { describePostgres, usePostgres } from "../postgres-server.js";

afterAll(cleanupTempDirs);

function storeWithRun(open: () => Store): Store {
  const store = open();
  store.runs.ensure({ id: "r", kind: "eval", name: "r", config: {} });
  store.evals.ensureRun({
    ...{ id: "r", task: "t", taskVersion: "1", taskArgs: {}, model: "fake/x", epochs: 1 },
    ...{ generateConfig: {}, scorerConfig: {}, datasetHash: "h", sampleCount: 1 },
  });
  return store;
}

const record = (sampleId: string, text: string, runId = "r"): EvalSampleRecord => ({
  ...{ runId, sampleId, epoch: 1, status: "done", input: [{ role: "user", content: "hi" }] },
  ...{ output: { text, reasoning: `thinking about ${sampleId}` }, parsed: null, scores: null },
  ...{ error: null, metadata: {}, startedAt: "2026-12-01T00:00:00.000Z" },
  ...{ completedAt: "2026-12-01T00:00:00.000Z", workingMs: 1 },
});

/** The samples the dashboard's search for `query` finds. */
function matches(store: Store, query: string): string[] {
  const where = searchCondition(store.db, parseSearch(query));
  return store.db
    .prepare(`SELECT sample_id FROM eval_samples s WHERE ${where.sql} ORDER BY sample_id`)
    .pluck()
    .all(...where.params) as string[];
}

/** The rows of FTS5's `%_data` table: its structure and averages, and each segment's pages. */
const indexRows = (store: Store) =>
  (store.db.prepare("SELECT count(*) AS n FROM eval_sample_text_data").get() as { n: number }).n;

/** The tests, on the store `open` gives. */
function answerIndexTests(open: () => Store, backend: "sqlite" | "postgres") {
  it("is written once per commit, and finds every committed sample and no other", async () => {
    const store = storeWithRun(open);
    const ids = Array.from({ length: 40 }, (_, i) => `s${String(i).padStart(2, "0")}`);
    await Promise.all(
      ids.map((id) =>
        store.txGrouped(() => store.evals.writeSample(record(id, `answer ${id} zebra`))),
      ),
    );
    // One segment's leaf and the structure and averages rows, not a segment per sample.
    if (backend === "sqlite") expect(indexRows(store)).toBeLessThanOrEqual(4);
    expect(matches(store, "zebra")).toEqual(ids);
    expect(matches(store, "s07")).toEqual(["s07"]);
    expect(matches(store, '"thinking about s13"')).toEqual(["s13"]);
    const deferred = store.db.prepare("SELECT count(*) AS n FROM eval_sample_text_deferred");
    expect((deferred.get() as { n: number }).n).toBe(0);
    store.close();
  });

  it("indexes only the last text of a sample rewritten in the same commit", async () => {
    const store = storeWithRun(open);
    await Promise.all([
      store.txGrouped(() => store.evals.writeSample(record("a", "first draft"))),
      store.txGrouped(() => store.evals.writeSample(record("a", "second answer"))),
      store.txGrouped(() => store.evals.writeSample(record("b", "first answer"))),
    ]);
    expect(matches(store, "draft")).toEqual([]);
    expect(matches(store, "second")).toEqual(["a"]);
    expect(matches(store, "answer")).toEqual(["a", "b"]);
    // Rewritten in a later commit: the old text leaves the index (migration 7's trigger).
    await store.txGrouped(() => store.evals.writeSample(record("b", "third go")));
    expect(matches(store, "answer")).toEqual(["a"]);
    expect(matches(store, "third")).toEqual(["b"]);
    store.close();
  });

  it("indexes the good writes of a commit whose bad write failed, and not the bad one", async () => {
    const store = storeWithRun(open);
    const results = await Promise.allSettled([
      store.txGrouped(() => store.evals.writeSample(record("ok1", "kept answer"))),
      // No such run: the foreign key fails, the batch is retried write by write.
      store.txGrouped(() => store.evals.writeSample(record("bad", "lost answer", "missing"))),
      store.txGrouped(() => store.evals.writeSample(record("ok2", "kept answer"))),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(matches(store, "kept")).toEqual(["ok1", "ok2"]);
    expect(matches(store, "lost")).toEqual([]);
    // Writers outside the group commit are indexed by the trigger, as before.
    store.tx(() => store.evals.writeSample(record("direct", "plain write")));
    expect(matches(store, "plain")).toEqual(["direct"]);
    store.close();
  });
}

describe("the search index of samples written by the group commit (SQLite)", () => {
  answerIndexTests(() => Store.open(tempDir("specsci-answer-index-")), "sqlite");
});

describePostgres("the search index of samples written by the group commit (PostgreSQL)", () => {
  const server = usePostgres();
  answerIndexTests(
    () => Store.open(tempDir("specsci-answer-index-"), { url: server().database() }),
    "postgres",
  );
});
