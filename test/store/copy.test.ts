import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { copyStore } from "../../src/store/copy.js";
import {
  DERIVED_TABLES,
  parentsFirst,
  quote,
  ROWID_TABLES,
  storeTables,
} from "../../src/store/copy-catalog.js";
import { encodeValue, TableHash } from "../../src/store/copy-hash.js";
import { Store } from "../../src/store/db.js";
import { SCHEMA_VERSION } from "../../src/store/migrations.js";
import { PgDatabase } from "../../src/store/postgres.js";
import { parseSampleQuery, querySamples } from "../../src/view/samples.js";
import { cleanupTempDirs, tempDir } from "../helpers.js";
import { describePostgres, usePostgres } from "../postgres-server.js";
import { fillStore, LARGE, modelCall, UNICODE } from "./varied-store.js";

afterAll(cleanupTempDirs);

/** A SQLite workspace filled with every kind of row. */
function filledWorkspace(): string {
  const dir = join(tempDir(), "ws");
  const store = Store.open(dir, { url: "" });
  fillStore(store);
  store.close();
  return dir;
}

/** Tables whose SQLite rowids the store reads (the FTS index, the dashboard's order). */
const READ_BY_ROWID = ["batch_items", "eval_samples", "items"];

/** Every table's rows as SQLite holds them (rowids too), in key order; the blob files' names. */
function dump(dir: string): Record<string, unknown[]> {
  const store = Store.open(dir, { url: "" });
  const out: Record<string, unknown[]> = {};
  for (const t of storeTables(store.db)) {
    if (t.name === "blobs") continue;
    const generated = t.name === "eval_samples" ? ", verdict" : "";
    const rowid = READ_BY_ROWID.includes(t.name) ? "rowid AS kept_rowid, " : "";
    out[t.name] = store.db
      .prepare(
        `SELECT ${rowid}${t.columns.map(quote).join(", ")}${generated} FROM ${quote(t.name)} ORDER BY ${t.key.map(quote).join(", ")}`,
      )
      .raw()
      .all();
  }
  out.blob_files = readdirSync(join(dir, "blobs"), { recursive: true }).map(String).sort();
  store.close();
  return out;
}

/** The dashboard's sample search: run, sample and epoch of each match. */
function search(dir: string, q: string): string[] {
  const store = Store.open(dir, { url: "" });
  const page = querySamples(store, parseSampleQuery(new URLSearchParams({ q })), null);
  store.close();
  return page.rows.map((r) => `${r.runId}/${r.sampleId}#${r.epoch}`).sort();
}

describe("store copy, SQLite to SQLite", () => {
  it("copies every row, blobs included, and checks each table by rows and content hash", () => {
    const src = filledWorkspace();
    const dst = join(tempDir(), "copy");
    const lines: string[] = [];
    const report = copyStore(src, dst, { progress: (l) => lines.push(l) });
    expect(report.ok).toBe(true);
    expect(report.committed).toBe(true);
    const byTable = Object.fromEntries(report.tables.map((t) => [t.table, t]));
    expect(byTable.eval_samples?.source_rows).toBe(6);
    expect(byTable.blobs?.destination_rows).toBe(2);
    expect(byTable.reasoning_label_index).toMatchObject({
      copied: false,
      destination_rows: 3,
      ok: true,
    });
    expect(lines).toContain("  eval_samples: 6 rows");
    expect(dump(dst)).toEqual(dump(src));
    expect(search(dst, "keep running")).toEqual(["run-a/s1#1"]);
    expect(search(dst, "keep running")).toEqual(search(src, "keep running"));
  });

  it("neither carries nor checks an experiment's lock, the state of a driver on the source", () => {
    const src = filledWorkspace();
    const held = Store.open(src, { url: "" });
    const lock = held.locks.acquire("experiment:e1", "specsci run e1.yaml");
    const dst = join(tempDir(), "locked-copy");
    const report = copyStore(src, dst);
    expect(report.ok).toBe(true);
    expect(report.tables.map((t) => t.table)).not.toContain("run_locks");
    const copy = Store.open(dst, { url: "" });
    expect(copy.db.prepare("SELECT count(*) AS n FROM run_locks").get()).toEqual({ n: 0 });
    copy.close();
    lock.release();
    held.close();
  });

  it("refuses a destination that holds rows, and with --replace empties it in the copy", () => {
    const src = filledWorkspace();
    const dst = join(tempDir(), "other");
    const other = Store.open(dst, { url: "" });
    other.runs.ensure({ id: "stale", kind: "eval" });
    other.artifacts.put("old", "x", "an old blob", {});
    other.close();
    expect(() => copyStore(src, dst)).toThrow(
      /DST .* is not empty \(artifacts: 1 row, runs: 1 row\); store copy writes only into an empty store/,
    );
    expect(copyStore(src, dst, { replace: true }).ok).toBe(true);
    // The old blob went with the rows that named it.
    expect(dump(dst)).toEqual(dump(src));
  });

  it("rolls the destination back and names the table when a check fails", () => {
    const src = filledWorkspace();
    const dst = join(tempDir(), "bad");
    const store = Store.open(dst, { url: "" });
    // A destination that changes what it is given: the copy must notice, not commit.
    store.db.exec(
      "CREATE TRIGGER tamper AFTER INSERT ON train_metrics BEGIN UPDATE train_metrics SET metrics = '{}' WHERE rowid = new.rowid; END",
    );
    store.close();
    const report = copyStore(src, dst);
    expect(report.committed).toBe(false);
    expect(report.tables.filter((t) => !t.ok).map((t) => t.table)).toEqual(["train_metrics"]);
    const after = Store.open(dst, { url: "" });
    expect(after.db.prepare("SELECT count(*) FROM runs").pluck().get()).toBe(0);
    after.close();
    expect(
      existsSync(join(dst, "blobs")) ? readdirSync(join(dst, "blobs"), { recursive: true }) : [],
    ).toEqual([]);
  });

  it("refuses a store from a newer specsci, and a blob whose content is not its hash", () => {
    const newer = filledWorkspace();
    const store = Store.open(newer, { url: "" });
    store.db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    store.close();
    expect(() => copyStore(newer, join(tempDir(), "x"))).toThrow(
      /newer than this specsci understands/,
    );
    const damaged = filledWorkspace();
    const [prefix] = readdirSync(join(damaged, "blobs")) as [string];
    const [rest] = readdirSync(join(damaged, "blobs", prefix)) as [string];
    writeFileSync(join(damaged, "blobs", prefix, rest), "not what the hash names");
    const dst = join(tempDir(), "y");
    expect(() => copyStore(damaged, dst)).toThrow(
      `blob ${prefix}${rest} holds content whose hash is`,
    );
    expect(readdirSync(join(dst, "blobs"))).toEqual([]);
  });

  it("refuses a source without a store, the same store twice and an unknown URL scheme", () => {
    const src = filledWorkspace();
    expect(() => copyStore(join(tempDir(), "none"), join(tempDir(), "x"))).toThrow(
      /SRC .* holds no run store/,
    );
    expect(() => copyStore(src, `${src}/`)).toThrow(/SRC and DST are the same store/);
    expect(() => copyStore(src, "mysql://u:secret@host/db")).toThrow(
      "DST mysql://u:***@host/db is neither a workspace directory nor a PostgreSQL URL",
    );
  });
});

describe("store copy's content hash", () => {
  it("hashes what a value means: integers and reals by value, text and bytes apart, any row order", () => {
    expect(encodeValue(2)).toEqual(encodeValue(2n));
    expect(encodeValue(2)).not.toEqual(encodeValue(2.5));
    expect(encodeValue("2")).not.toEqual(encodeValue(2));
    expect(encodeValue("ab")).not.toEqual(encodeValue(Buffer.from("ab")));
    expect(encodeValue(null)).not.toEqual(encodeValue(""));
    const hash = (rows: unknown[][]) => {
      const h = new TableHash(["a", "b"]);
      for (const r of rows) h.add(r);
      return h.digest();
    };
    expect(
      hash([
        [1, "x"],
        [2, "y"],
      ]),
    ).toBe(
      hash([
        [2, "y"],
        [1, "x"],
      ]),
    );
    expect(
      hash([
        [1, "x"],
        [2, "y"],
      ]),
    ).not.toBe(
      hash([
        [1, "x"],
        [2, "z"],
      ]),
    );
    expect(hash([["ab", "c"]])).not.toBe(hash([["a", "bc"]]));
  });

  it("orders tables so that every parent is written before its children", () => {
    const store = Store.open(join(tempDir(), "ws"), { url: "" });
    const order = parentsFirst(storeTables(store.db)).map((t) => t.name);
    store.close();
    expect(order.indexOf("runs")).toBeLessThan(order.indexOf("eval_runs"));
    expect(order.indexOf("eval_runs")).toBeLessThan(order.indexOf("eval_samples"));
    expect(order.indexOf("texts")).toBeLessThan(order.indexOf("eval_samples"));
    expect(order.indexOf("batch_jobs")).toBeLessThan(order.indexOf("batch_items"));
  });
});

describePostgres("store copy between SQLite and PostgreSQL", () => {
  const server = usePostgres();

  it("round-trips SQLite → PostgreSQL → SQLite to identical tables, ids, rowids and search", () => {
    const src = filledWorkspace();
    const url = server().database();
    const there = copyStore(src, url);
    expect(there.ok && there.committed).toBe(true);
    const back = join(tempDir(), "back");
    const home = copyStore(url, back);
    expect(home.ok).toBe(true);
    // Each table's hash is the same on all three stores.
    const hashes = (r: typeof there, side: "source_hash" | "destination_hash") =>
      Object.fromEntries(r.tables.map((t) => [t.table, t[side]]));
    expect(hashes(home, "destination_hash")).toEqual(hashes(there, "source_hash"));
    expect(dump(back)).toEqual(dump(src));
    expect(search(back, "keep running")).toEqual(search(src, "keep running"));

    // PostgreSQL holds the values themselves, and generated columns computed there.
    const pg = new PgDatabase(url);
    const answer = (sample: string) =>
      pg
        .prepare("SELECT output FROM eval_samples WHERE run_id = 'run-a' AND sample_id = ?")
        .pluck()
        .get(sample) as string;
    expect(JSON.parse(answer("s2")).text).toBe(LARGE);
    expect(JSON.parse(answer("s1")).text).toContain(UNICODE);
    expect(pg.prepare("SELECT count(*) FROM eval_samples WHERE verdict = -1").pluck().get()).toBe(
      1,
    );
    expect(
      pg
        .prepare(
          "SELECT count(*) FROM eval_samples WHERE answer_search @@ to_tsquery('simple', 'keep & running')",
        )
        .pluck()
        .get(),
    ).toBe(1);
    // The identities moved past the copied ids: the next insert does not collide.
    const ids = pg.prepare("SELECT id FROM llm_calls ORDER BY id").pluck().all() as number[];
    pg.close();
    const store = Store.open("", { url });
    store.llm.recordCall(modelCall({ stage: "judge", cacheKey: "after-copy" }));
    store.annotations.put(
      {
        runId: "run-a",
        sampleId: "s0",
        epoch: 1,
        annotator: "ben",
        misaligned: "no",
        categories: [],
        policyMisuse: "no",
      },
      { version: "t", categories: [] },
    );
    store.evals.writeSample({ ...sampleOf(store), sampleId: "new" });
    expect(store.llm.calls().map((c) => c.id)).toEqual([...ids, (ids.at(-1) as number) + 1]);
    store.close();
  });

  it("copies PostgreSQL to PostgreSQL, and refuses a non-empty one", () => {
    const src = filledWorkspace();
    const a = server().database();
    const b = server().database();
    expect(copyStore(src, a).ok).toBe(true);
    const report = copyStore(a, b);
    expect(report.ok).toBe(true);
    expect(report.tables.find((t) => t.table === "blobs")?.destination_rows).toBe(2);
    expect(() => copyStore(src, b)).toThrow(/is not empty \(.*annotations: 2 rows/);
    expect(copyStore(src, b, { replace: true }).ok).toBe(true);
  });

  it("refuses a text holding a NUL character, naming its row, and leaves PostgreSQL empty", () => {
    const src = filledWorkspace();
    const store = Store.open(src, { url: "" });
    store.db.prepare("UPDATE llm_calls SET error_message = ? WHERE id = 2").run("cut\u0000here");
    store.close();
    const url = server().database();
    expect(() => copyStore(src, url)).toThrow(
      "table llm_calls, row id=2: column error_message holds a NUL character, which PostgreSQL's text cannot store; nothing was copied",
    );
    const pg = new PgDatabase(url);
    expect(pg.prepare("SELECT count(*) FROM runs").pluck().get()).toBe(0);
    pg.close();
    // SQLite carries it as it is.
    const copy = join(tempDir(), "nul");
    expect(copyStore(src, copy).ok).toBe(true);
    const again = Store.open(copy, { url: "" });
    expect(again.db.prepare("SELECT error_message FROM llm_calls WHERE id = 2").pluck().get()).toBe(
      "cut\u0000here",
    );
    again.close();
  });

  it("refuses a source database specsci never wrote, leaving it as it was", () => {
    const url = server().database();
    expect(() => copyStore(url, join(tempDir(), "x"))).toThrow(
      /^SRC postgresql:.* holds no run store \(no specsci schema\)$/,
    );
    const pg = new PgDatabase(url);
    expect(pg.prepare("SELECT to_regclass('runs') IS NULL").pluck().get()).toBe(1);
    pg.close();
  });

  it("names an unreachable server without its password", () => {
    const src = filledWorkspace();
    const url = server()
      .database()
      .replace("postgres@", "postgres:pw-9@")
      .replace(/port=\d+/, "port=1");
    let message = "";
    try {
      copyStore(src, url);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/^cannot connect to the run store postgresql:\/\/postgres:\*\*\*@/);
    expect(message).not.toContain("pw-9");
  });

  it("keeps rowids in exactly the tables PostgreSQL gives a rowid column", () => {
    const store = Store.open("", { url: server().database() });
    const withRowid = storeTables(store.db)
      .filter((t) => t.columns.includes("rowid"))
      .map((t) => t.name);
    store.close();
    expect(new Set(withRowid)).toEqual(ROWID_TABLES);
    expect([...DERIVED_TABLES]).toEqual(["reasoning_label_index"]);
  });
});

function sampleOf(store: Store) {
  const at = new Date().toISOString();
  expect(store.evals.run("run-a")).toBeDefined();
  return {
    runId: "run-a",
    sampleId: "s0",
    epoch: 1,
    status: "done" as const,
    input: [{ role: "user", content: "inbox" }],
    output: { text: "after the copy", reasoning: null },
    parsed: null,
    scores: null,
    error: null,
    metadata: {},
    startedAt: at,
    completedAt: at,
    workingMs: 1,
  };
}
