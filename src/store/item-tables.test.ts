/**
 * Migration 11 renames msm_items, the resumable-item table of every job, to items: a store made
 * before it opens with its rows, and migration 10's triggers and views follow the new name. On
 * both backends: PostgreSQL renames with its own SQL, and its trigger is one PL/pgSQL function.
 */
import { afterAll, describe, expect, it } from "vitest";
import { cleanupTempDirs } from "../../test/helpers.js";
import { describePostgres, usePostgres } from "../../test/postgres-server.js";
import { type StoreConfig, storeAtVersionOn } from "../../test/store/older-store.js";
import type { Store } from "./db.js";
import { SCHEMA_VERSION } from "./migrations.js";

afterAll(cleanupTempDirs);

const LABEL = "label:fake/l#0";
const labelKey = (sample: string) => `${LABEL}|eval-x-1/${sample}#1`;
const label = (...ids: string[]) =>
  JSON.stringify({ categories: ids.map((id) => ({ id, quotes: ["q"] })), rules: [], misuse: [] });

/** A store as specsci left it at schema 10, holding a document, a failed item and a label. */
function storeAtSchema10(config: StoreConfig): Store {
  const { db, open } = storeAtVersionOn(config, 10);
  const run = db.prepare(
    "INSERT INTO runs (id, kind, created_at, updated_at) VALUES (?, ?, 'now', 'now')",
  );
  run.run("msm-1", "msm");
  run.run("an", "analysis");
  const item = db.prepare(
    `INSERT INTO msm_items (corpus, key, stage, status, value, error, attempts, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, 'then')`,
  );
  item.run("msm-1", "d1.r0", "documents", "ok", '{"content":"text"}', null, 1);
  item.run("msm-1", "d2.r0", "documents", "failed", null, '{"kind":"call","message":"down"}', 4);
  item.run("an", labelKey("a"), LABEL, "ok", label("self_preservation"), null, 1);
  return open();
}

/** The schema's objects (views, triggers, indexes) whose SQL names msm_items, and the stage index's. */
function schemaOf(store: Store, backend: "sqlite" | "postgres") {
  if (backend === "sqlite") {
    const schema = store.db
      .prepare("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL")
      .all() as { name: string; sql: string }[];
    const plan = store.db
      .prepare("EXPLAIN QUERY PLAN SELECT key FROM items WHERE corpus = ? AND stage = ?")
      .all("msm-1", "documents") as { detail: string }[];
    return {
      naming: schema.filter((s) => s.sql.includes("msm_items")).map((s) => s.name),
      stageIndex: /items_stage|sqlite_autoindex_items/.test(plan.map((p) => p.detail).join(" ")),
    };
  }
  // Views, triggers, indexes (their names and definitions) and sequences.
  const naming = store.db
    .prepare(
      `SELECT viewname FROM pg_views WHERE schemaname = current_schema() AND definition LIKE '%msm_items%'
       UNION ALL SELECT tgname FROM pg_trigger WHERE pg_get_triggerdef(oid) LIKE '%msm_items%'
       UNION ALL SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()
         AND (indexname LIKE 'msm_items%' OR indexdef LIKE '%msm_items%')
       UNION ALL SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema()
         AND sequencename LIKE 'msm_items%'`,
    )
    .pluck()
    .all();
  const stage = store.db
    .prepare(
      "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() AND indexname = 'items_stage'",
    )
    .pluck()
    .get() as string | undefined;
  return { naming, stageIndex: /ON \S*items USING btree \(corpus, stage\)/.test(stage ?? "") };
}

/** The tests, on a fresh store of this backend each time. */
function itemTableTests(storeConfig: () => StoreConfig, backend: "sqlite" | "postgres") {
  it("a store made before the rename opens with its rows, under the new name", () => {
    const store = storeAtSchema10(storeConfig());
    expect(store.schemaVersion()).toBe(SCHEMA_VERSION); // every migration since ran too
    expect([...store.items.stage("msm-1", "documents").values()]).toEqual([
      {
        key: "d1.r0",
        stage: "documents",
        status: "ok",
        value: { content: "text" },
        error: null,
        attempts: 1,
      },
      {
        key: "d2.r0",
        stage: "documents",
        status: "failed",
        value: null,
        error: { kind: "call", message: "down" },
        attempts: 4,
      },
    ]);
    expect(store.items.counts("an")).toEqual([{ stage: LABEL, status: "ok", n: 1 }]);
    // Nothing in the schema names the old table any more; the stage index serves the new one.
    expect(schemaOf(store, backend)).toEqual({ naming: [], stageIndex: true });
    expect(store.check()).toEqual([]);
    store.close();
  });

  it("the reasoning-label index triggers fire on the renamed table", () => {
    const store = storeAtSchema10(storeConfig());
    const index = () =>
      store.db.prepare("SELECT sample_id, category FROM reasoning_label_index ORDER BY 1, 2").all();
    // Built by migration 10 from the label stored then, and kept through the rename.
    expect(index()).toEqual([
      { sample_id: "a", category: "" },
      { sample_id: "a", category: "self_preservation" },
    ]);
    const put = (sample: string, ids: string[]) =>
      store.items.put("an", {
        key: labelKey(sample),
        stage: LABEL,
        status: "ok",
        value: JSON.parse(label(...ids)),
        error: null,
        attempts: 1,
      });
    put("b", ["honesty"]); // insert
    put("a", []); // update: relabelled with no category
    expect(index()).toEqual([
      { sample_id: "a", category: "" },
      { sample_id: "b", category: "" },
      { sample_id: "b", category: "honesty" },
    ]);
    store.db.prepare("DELETE FROM items WHERE key = ?").run(labelKey("b")); // delete
    expect(index()).toEqual([{ sample_id: "a", category: "" }]);
    store.close();
  });
}

describe("the items table (migration 11), on SQLite", () => {
  itemTableTests(() => ({}), "sqlite");
});

describePostgres("the items table (migration 11), on PostgreSQL", () => {
  const server = usePostgres();
  itemTableTests(() => ({ store: server().database() }), "postgres");
});
