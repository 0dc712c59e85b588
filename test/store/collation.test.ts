/**
 * PostgreSQL orders text by the database's collation, SQLite by bytes. On a database made with a
 * locale (here ICU's en-US, as users' servers often are) migration 18 gives the store's text
 * columns collation C, so every order by id is SQLite's: pages of samples, item and annotation
 * lists. A store made before it keeps its rows, views and triggers.
 */
import { afterAll, describe, expect, it } from "vitest";
import { Store } from "../../src/store/db.js";
import type { EvalSampleRecord } from "../../src/store/index.js";
import { SCHEMA_VERSION } from "../../src/store/migrations.js";
import { querySamples } from "../../src/view/samples.js";
import { cleanupTempDirs, tempDir } from "../helpers.js";
import { describePostgres, usePostgres } from "../postgres-server.js";
import { storeAtVersionOn } from "./older-store.js";

afterAll(cleanupTempDirs);

/** Ids en-US orders otherwise than bytes do ("a" before "B", "é" before "f", "_" before "-"). */
const IDS = ["b9", "é", "a-1", "B", "A_2", "f", "b10", "a", "ab", "a_1", "Z", "😀", "\uffe0"];
const NOW = "2026-12-01T00:00:00.000Z";
const LABEL = "label:fake/l#0";

const sample = (sampleId: string): EvalSampleRecord => ({
  ...{ runId: "r", sampleId, epoch: 1, status: "done", input: [], output: { text: "ok" } },
  ...{ parsed: null, scores: null, error: null, metadata: {} },
  ...{ startedAt: NOW, completedAt: NOW, workingMs: 1 },
});

/** A store holding a sample, a failed item and an annotation for each id. */
function filled(store: Store): Store {
  store.runs.ensure({ id: "r", kind: "eval", name: "r", config: {} });
  store.evals.ensureRun({
    ...{ id: "r", task: "t", taskVersion: "1", taskArgs: {}, model: "fake/x", epochs: 1 },
    ...{ generateConfig: {}, scorerConfig: {}, datasetHash: "h", sampleCount: IDS.length },
  });
  store.tx(() => {
    for (const id of IDS) {
      store.evals.writeSample(sample(id));
      store.items.put("r", {
        ...{ key: id, stage: "documents", status: "failed", value: null },
        ...{ error: { kind: "call", message: "down" }, attempts: 1 },
      });
      store.annotations.put(
        {
          ...{ runId: "r", sampleId: id, epoch: 1, annotator: id },
          ...{ misaligned: "no", categories: [], policyMisuse: "no" },
        },
        { version: "t", categories: [] },
      );
    }
  });
  return store;
}

/** The orders a store gives its ids in. */
function orders(store: Store) {
  const page = (order: "asc" | "desc") =>
    querySamples(store, { sort: "sample", order, limit: 5, offset: 4 }, null).rows.map(
      (r) => r.sampleId,
    );
  return {
    samples: store.evals.samples("r").map((s) => s.sampleId),
    pageUp: page("asc"),
    pageDown: page("desc"),
    failedItems: store.items.failed("r").map((i) => i.key),
    annotations: store.annotations.list().map((a) => a.sampleId),
    annotators: store.annotations.annotators(),
  };
}

describe("text order on SQLite", () => {
  it("is by bytes (UTF-8's code points)", () => {
    const store = filled(Store.open(tempDir("specsci-collation-")));
    const bytes = [...IDS].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    expect(orders(store).samples).toEqual(bytes);
    store.close();
  });
});

describePostgres("text order on a PostgreSQL database collated by ICU's en-US", () => {
  const server = usePostgres();
  const sqlite = () => {
    const store = filled(Store.open(tempDir("specsci-collation-")));
    const o = orders(store);
    store.close();
    return o;
  };

  it("is SQLite's in every list the store and the sample table give; every text column is C", () => {
    const url = server().database({ icuLocale: "en-US" });
    const store = filled(Store.open("", { url }));
    // The database's own order is not: the store's columns give it.
    const own = store.db
      .prepare("SELECT string_agg(x, ' ' ORDER BY x COLLATE \"default\") FROM unnest(?::text[]) x")
      .pluck()
      .get(`{${IDS.map((i) => JSON.stringify(i)).join(",")}}`);
    expect(own).toContain("a a_1 A_2 a-1 ab B b10 b9 é f Z");
    expect(orders(store)).toEqual(sqlite());
    const others = store.db
      .prepare(
        `SELECT c.relname || '.' || a.attname FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
         WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r' AND a.attnum > 0
           AND NOT a.attisdropped AND a.atttypid = 'text'::regtype
           AND a.attcollation <> '"C"'::regcollation ORDER BY 1`,
      )
      .pluck()
      .all();
    // Only those generated columns read; a text column a later migration adds must say
    // COLLATE "C" (migration 18's comment).
    expect(others).toEqual(["eval_samples.output", "eval_samples.scores", "eval_samples.status"]);
    // The primary key's index gives the sample table's order by id: no sort, even when any
    // other plan is dearer (the few rows here would otherwise be sorted in memory).
    store.db.exec("SET enable_seqscan = off; SET enable_sort = off");
    const plan = store.db
      .prepare(
        "EXPLAIN SELECT rowid FROM eval_samples WHERE run_id = 'r' ORDER BY sample_id, epoch",
      )
      .pluck()
      .all()
      .join("\n");
    expect(plan).toMatch(/Index Scan using eval_samples_pkey/);
    expect(plan).not.toMatch(/Sort/);
    store.close();
  });

  it("a store made before migration 18 keeps its rows, views and triggers", () => {
    const url = server().database({ icuLocale: "en-US" });
    const { db, open } = storeAtVersionOn({ store: url }, 17);
    db.prepare(
      "INSERT INTO runs (id, kind, created_at, updated_at) VALUES ('an', 'analysis', ?, ?)",
    ).run(NOW, NOW);
    const label = (sampleId: string, category: string) =>
      db
        .prepare(
          `INSERT INTO items (corpus, key, stage, status, value, error, attempts, updated_at)
           VALUES ('an', ?, ?, 'ok', ?, NULL, 1, ?)`,
        )
        .run(
          `${LABEL}|eval-x-1/${sampleId}#1`,
          LABEL,
          JSON.stringify({ categories: [{ id: category, quotes: [] }], rules: [], misuse: [] }),
          NOW,
        );
    for (const id of ["b", "B", "é"]) label(id, "honesty");
    const store = open();
    expect(store.schemaVersion()).toBe(SCHEMA_VERSION);
    const index = () =>
      store.db
        .prepare(
          "SELECT sample_id FROM reasoning_label_index WHERE category = '' ORDER BY sample_id",
        )
        .pluck()
        .all();
    expect(index()).toEqual(["B", "b", "é"]);
    // The index trigger, made again, still fires; the view it reads was made again too.
    store.items.put("an", {
      ...{ key: `${LABEL}|eval-x-1/a#1`, stage: LABEL, status: "ok", error: null, attempts: 1 },
      value: { categories: [], rules: [], misuse: [] },
    });
    expect(index()).toEqual(["B", "a", "b", "é"]);
    expect(filled(store) && orders(store)).toEqual(sqlite());
    expect(store.check()).toEqual([]);
    store.close();
  });
});
