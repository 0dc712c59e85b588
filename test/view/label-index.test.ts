/**
 * Migration 10's index of the reasoning labels' categories: built from the labels a store already
 * holds, kept as labels are written, retried (an upsert) and deleted, and read by the sample
 * table's category filter exactly as the labels say. On both backends (PostgreSQL splits the key
 * with its own functions and keeps the index by a PL/pgSQL trigger).
 */
import { afterAll, describe, expect, it } from "vitest";
import { itemKey, labelStage } from "../../src/analysis/reasoning/index.js";
import { cleanupTempDirs } from "../helpers.js";
import { onEachBackend, storeAtVersionOn } from "./fixture.js";

afterAll(cleanupTempDirs);

const STAGE = labelStage("fake/l#0");
const key = (sample: string, epoch: number) =>
  itemKey(STAGE, { runId: "eval-x-1", key: `${sample}#${epoch}` });
const label = (...ids: string[]) =>
  JSON.stringify({ categories: ids.map((id) => ({ id, quotes: ["q"] })), rules: [], misuse: [] });

onEachBackend((storeConfig) =>
  describe("the reasoning label index (migration 10)", () => {
    it("indexes the labels stored before it and keeps up with new, retried and deleted ones", () => {
      const { db, open } = storeAtVersionOn(storeConfig(), 9);
      db.prepare(
        "INSERT INTO runs (id, kind, created_at, updated_at) VALUES ('an', 'analysis', 'now', 'now')",
      ).run();
      const insert = db.prepare(
        `INSERT INTO msm_items (corpus, key, stage, status, value, error, attempts, updated_at)
       VALUES ('an', ?, ?, ?, ?, ?, 1, 'now')`,
      );
      // A sample id with '#' and digits in it, and a label of another stage (not indexed).
      insert.run(
        key("leak#2_cond-7", 12),
        STAGE,
        "ok",
        label("self_preservation", "no_alternatives"),
        null,
      );
      insert.run(key("b", 1), STAGE, "failed", null, '{"kind":"call","message":"down"}');
      insert.run(
        `${"misuse:fake/l"}|eval-x-1/b#1/0`,
        "misuse:fake/l",
        "ok",
        '{"verdict":"accurate"}',
        null,
      );
      const store = open();
      const index = () =>
        store.db
          .prepare("SELECT sample_id, epoch, category FROM reasoning_label_index ORDER BY 1, 2, 3")
          .all();
      expect(index()).toEqual([
        { sample_id: "leak#2_cond-7", epoch: 12, category: "" },
        { sample_id: "leak#2_cond-7", epoch: 12, category: "no_alternatives" },
        { sample_id: "leak#2_cond-7", epoch: 12, category: "self_preservation" },
      ]);
      // The failed label is retried (msm.put upserts), a new one is written, the first relabelled.
      const put = (k: string, value: string) =>
        store.items.put("an", {
          key: k,
          stage: STAGE,
          status: "ok",
          value: JSON.parse(value),
          error: null,
          attempts: 2,
        });
      put(key("b", 1), label("respect_for_oversight"));
      put(key("c", 3), label());
      put(key("leak#2_cond-7", 12), label("instrumental_goal"));
      expect(index()).toEqual([
        { sample_id: "b", epoch: 1, category: "" },
        { sample_id: "b", epoch: 1, category: "respect_for_oversight" },
        { sample_id: "c", epoch: 3, category: "" },
        { sample_id: "leak#2_cond-7", epoch: 12, category: "" },
        { sample_id: "leak#2_cond-7", epoch: 12, category: "instrumental_goal" },
      ]);
      store.items.put("an", {
        key: key("c", 3),
        stage: STAGE,
        status: "failed",
        value: null,
        error: { kind: "call", message: "x" },
        attempts: 3,
      });
      store.db.prepare("DELETE FROM items WHERE key = ?").run(key("b", 1));
      expect(index()).toEqual([
        { sample_id: "leak#2_cond-7", epoch: 12, category: "" },
        { sample_id: "leak#2_cond-7", epoch: 12, category: "instrumental_goal" },
      ]);
      expect(
        store.db.prepare("SELECT DISTINCT run_id, stage, corpus FROM reasoning_label_index").all(),
      ).toEqual([{ run_id: "eval-x-1", stage: STAGE, corpus: "an" }]);
      store.close();
    });
  }),
);
