/**
 * Migration 11 renames msm_items, the resumable-item table of every job, to items: a store made
 * before it opens with its rows, and migration 10's triggers and views follow the new name.
 */
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { cleanupTempDirs, tempDir } from "../../test/helpers.js";
import { DB_FILE_NAME, Store } from "./db.js";
import { MIGRATIONS, SCHEMA_VERSION } from "./migrations.js";

afterAll(cleanupTempDirs);

const LABEL = "label:fake/l#0";
const labelKey = (sample: string) => `${LABEL}|eval-x-1/${sample}#1`;
const label = (...ids: string[]) =>
  JSON.stringify({ categories: ids.map((id) => ({ id, quotes: ["q"] })), rules: [], misuse: [] });

/** A store as specsci left it at schema 10, holding a document, a failed item and a label. */
function storeAtSchema10(): string {
  const dir = tempDir("specsci-v10-store-");
  const db = new Database(join(dir, DB_FILE_NAME));
  for (const m of MIGRATIONS.filter((x) => x.version <= 10)) db.exec(m.sql);
  db.pragma("user_version = 10");
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
  db.close();
  return dir;
}

describe("the items table (migration 11)", () => {
  it("a store made before the rename opens with its rows, under the new name", () => {
    const store = Store.open(storeAtSchema10());
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
    const schema = store.db
      .prepare("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL")
      .all() as {
      name: string;
      sql: string;
    }[];
    expect(schema.filter((s) => s.sql.includes("msm_items")).map((s) => s.name)).toEqual([]);
    const plan = store.db
      .prepare("EXPLAIN QUERY PLAN SELECT key FROM items WHERE corpus = ? AND stage = ?")
      .all("msm-1", "documents") as { detail: string }[];
    expect(plan.map((p) => p.detail).join(" ")).toMatch(/items_stage|sqlite_autoindex_items/);
    expect(store.check()).toEqual([]);
    store.close();
  });

  it("the reasoning-label index triggers fire on the renamed table", () => {
    const store = Store.open(storeAtSchema10());
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
});
