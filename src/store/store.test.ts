import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { plantRun } from "../../test/fakes/planted-run.js";
import { cleanupTempDirs, ROOT, tempDir } from "../../test/helpers.js";
import { describePostgres, usePostgres } from "../../test/postgres-server.js";
import { SpecsciError } from "../core/errors.js";
import { sha256Hex } from "../core/hash.js";
import { Store } from "./db.js";
import { SCHEMA_VERSION } from "./migrations.js";

afterAll(cleanupTempDirs);

describe("run store", () => {
  it("creates the workspace, migrates to the current schema and uses WAL", () => {
    const dir = join(tempDir(), "ws");
    const store = Store.open(dir);
    expect(store.schemaVersion()).toBe(SCHEMA_VERSION);
    expect(store.db.pragma("journal_mode", { simple: true })).toBe("wal");
    expect(store.db.pragma("busy_timeout", { simple: true })).toBeGreaterThan(0);
    expect(store.check()).toEqual([]);
    store.close();
    // Re-opening is idempotent.
    const again = Store.open(dir);
    expect(again.schemaVersion()).toBe(SCHEMA_VERSION);
    again.close();
  });

  it("refuses a store from a newer specsci", () => {
    const dir = join(tempDir(), "ws");
    const store = Store.open(dir);
    store.db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    store.close();
    expect(() => Store.open(dir)).toThrow(SpecsciError);
    expect(() => Store.open(dir)).toThrow(/newer than this specsci/);
  });

  it("names the file when the database is not a database", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "store.db"), "this is not sqlite ".repeat(100));
    expect(() => Store.open(dir)).toThrow(
      /the run store .*store\.db is damaged: file is not a database/,
    );
  });

  it("rolls back a failed transaction completely", () => {
    const store = Store.open(join(tempDir(), "ws"));
    expect(() =>
      store.tx(() => {
        store.runs.ensure({ id: "r1", kind: "test" });
        throw new Error("boom");
      }),
    ).toThrow("boom");
    expect(store.runs.get("r1")).toBeUndefined();
    store.close();
  });

  it("reads the fields of some samples of a run, without the rest", () => {
    const store = Store.open(join(tempDir(), "ws"));
    plantRun(store, "r", ["a", "b", "c"], 1);
    const only = [
      { sampleId: "s2", epoch: 1 },
      { sampleId: "f0", epoch: 1 },
      { sampleId: "s1", epoch: 2 },
    ];
    const rows = store.evals.fieldRows("r", { text: "metadata:$.none" }, only);
    expect(rows.map((r) => [r.sampleId, r.status])).toEqual([
      ["f0", "error"],
      ["s2", "done"],
    ]);
    expect(store.evals.fieldRows("r", {}, [])).toEqual([]);
    expect(store.evals.fieldRows("r", {})).toHaveLength(4);
    store.close();
  });

  it("stores blobs by content hash, once", () => {
    const store = Store.open(join(tempDir(), "ws"));
    const h = store.blobs.put("hello corpus");
    expect(store.blobs.put("hello corpus")).toBe(h);
    expect(store.blobs.get(h).toString()).toBe("hello corpus");
    expect(readFileSync(store.blobs.pathOf(h), "utf8")).toBe("hello corpus");
    expect(() => store.blobs.pathOf("../../etc/passwd")).toThrow();
    store.close();
  });

  it("survives kill -9 at arbitrary moments with a consistent store", async () => {
    const dir = join(tempDir(), "ws");
    const script = join(tempDir(), "writer.mjs");
    // A writer that records calls the way the model access layer does (cache row + call row in
    // one transaction) and writes blobs, as fast as it can, until it is killed.
    writeFileSync(
      script,
      `import { Store } from ${JSON.stringify(join(ROOT, "dist/store/index.js"))};
       const store = Store.open(process.argv[2]);
       store.runs.ensure({ id: "run", kind: "crash-test" });
       let i = store.db.prepare("SELECT count(*) AS n FROM llm_calls").get().n;
       let wroteBlob = false;
       for (;;) {
         const key = "k" + (i++);
         store.tx(() => {
           store.llm.cachePut({ key, model: "fake/x", request: JSON.stringify({ i }), response: JSON.stringify({ text: "t" + i }) });
           store.llm.recordCall({ runId: "run", stage: "s", model: "fake/x", cacheKey: key, source: "api", status: "ok",
             stopReason: "end", attempts: 1, inputTokens: 1, outputTokens: 1, reasoningTokens: 0, cacheReadTokens: 0,
             cacheWriteTokens: 0, costUsd: 0, latencyMs: 1 });
         });
         if (i % 50 === 0) {
           store.blobs.put("blob " + i + " " + "x".repeat(10000));
           if (!wroteBlob) process.stdout.write("blob\\n");
           wroteBlob = true;
         }
       }`,
    );
    for (let round = 0; round < 4; round++) {
      const child = spawn(process.execPath, [script, dir], {
        stdio: ["ignore", "pipe", "inherit"],
      });
      // Kill at a random moment after the first whole blob, so that every round has rows and a
      // blob to check however slowly a loaded machine lets the writer go.
      await new Promise<void>((resolve) => child.stdout.once("data", () => resolve()));
      await new Promise((r) => setTimeout(r, Math.random() * 300));
      child.kill("SIGKILL");
      await new Promise((r) => child.once("close", r));

      const store = Store.open(dir);
      expect(store.check()).toEqual([]);
      const orphans = store.db
        .prepare(
          `SELECT count(*) AS n FROM llm_calls c LEFT JOIN llm_cache k ON k.key = c.cache_key WHERE k.key IS NULL`,
        )
        .get() as { n: number };
      expect(orphans.n).toBe(0);
      const counts = store.db
        .prepare(
          "SELECT (SELECT count(*) FROM llm_calls) AS calls, (SELECT count(*) FROM llm_cache) AS cached",
        )
        .get() as {
        calls: number;
        cached: number;
      };
      expect(counts.calls).toBe(counts.cached);
      expect(counts.calls).toBeGreaterThan(0);
      // Every file under a blob hash is whole: its content hashes to its name. (Temporary files
      // from an interrupted write may remain; they are never read.)
      const blobDir = join(dir, "blobs");
      let blobs = 0;
      for (const sub of existsSync(blobDir) ? readdirSync(blobDir) : []) {
        for (const name of readdirSync(join(blobDir, sub))) {
          if (name.includes(".tmp-")) continue;
          expect(sha256Hex(readFileSync(join(blobDir, sub, name)))).toBe(sub + name);
          blobs++;
        }
      }
      expect(blobs).toBeGreaterThan(0);
      store.close();
    }
  });
});

describePostgres("run store on PostgreSQL", () => {
  const server = usePostgres();
  const open = (url = server().database()) => Store.open(tempDir(), { url });

  it("migrates a new database to the current schema, and re-opening is idempotent", () => {
    const url = server().database();
    const store = open(url);
    expect(store.schemaVersion()).toBe(SCHEMA_VERSION);
    expect(store.check()).toEqual([]);
    expect(store.file).toBe(url);
    store.close();
    const again = open(url);
    expect(again.schemaVersion()).toBe(SCHEMA_VERSION);
    again.close();
  });

  it("refuses a store from a newer specsci", () => {
    const url = server().database();
    const store = open(url);
    store.db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    store.close();
    expect(() => open(url)).toThrow(/newer than this specsci/);
  });

  it("rolls back a failed transaction completely", () => {
    const store = open();
    expect(() =>
      store.tx(() => {
        store.runs.ensure({ id: "r1", kind: "test" });
        throw new Error("boom");
      }),
    ).toThrow("boom");
    expect(store.runs.get("r1")).toBeUndefined();
    store.close();
  });

  it("reads the fields of some samples of a run, without the rest, as SQLite does", () => {
    const stores = [Store.open(join(tempDir(), "ws")), open()];
    const results = stores.map((store) => {
      plantRun(store, "r", ["a", "b", "c"], 1);
      // A retried sample replaces its row.
      plantRun(store, "r", ["a", "b", "c"], 1);
      const only = [
        { sampleId: "s2", epoch: 1 },
        { sampleId: "f0", epoch: 1 },
        { sampleId: "s1", epoch: 2 },
      ];
      const fields = { text: "metadata:$.none", n: "scores:$.none" };
      const out = {
        some: store.evals.fieldRows("r", fields, only),
        all: store.evals.fieldRows("r", {}),
        outcomes: [...store.evals.outcomes("r")].sort(([a], [b]) => a.localeCompare(b)),
        answers: [...store.evals.answerTexts("r")],
        counts: store.evals.statusCounts("r"),
      };
      store.close();
      return out;
    });
    expect(results[0]?.some.map((r) => [r.sampleId, r.status, r.errorKind])).toEqual([
      ["f0", "error", "generate:timeout"],
      ["s2", "done", null],
    ]);
    expect(results[0]?.all).toHaveLength(4);
    expect(results[1]).toEqual(results[0]);
  });

  it("records calls and sums usage as SQLite does", () => {
    const stores = [Store.open(join(tempDir(), "ws")), open()];
    const results = stores.map((store) => {
      store.runs.ensure({ id: "run", kind: "eval", config: { a: 1 } });
      store.tx(() => {
        for (const [i, status] of ["ok", "ok", "failed"].entries()) {
          store.llm.cachePut({
            key: `k${i}`,
            model: "fake/x",
            request: "{}",
            response: `{"i":${i}}`,
          });
          store.llm.recordCall({
            runId: "run",
            stage: "s",
            model: "fake/x",
            cacheKey: `k${i}`,
            source: i === 1 ? "cache" : "api",
            status: status as "ok" | "failed",
            stopReason: status === "ok" ? "end" : "error",
            ...(status === "ok" ? {} : { errorKind: "timeout" }),
            attempts: 1,
            inputTokens: 10,
            outputTokens: 5,
            reasoningTokens: 0,
            cacheReadTokens: 0,
            cacheWriteTokens: 0,
            costUsd: i === 2 ? null : 0.25,
            latencyMs: 1.5,
          });
        }
      });
      const manyRuns = [...Array.from({ length: 300 }, (_, i) => `r${i}`), "run"];
      const out = {
        usage: store.llm.usage({ runId: "run" }),
        again: store.llm.usage({ runId: "run" }),
        all: store.llm.usage(),
        // Spend of a set of runs: across lists longer than one statement takes, and of none.
        spent: [store.llm.spentUsd(["run", "nobody"]), store.llm.spentUsd(manyRuns)],
        spentNone: [store.llm.spentUsd([]), store.llm.spentUsd(["nobody"])],
        cached: store.llm.cacheResponse("k1"),
        missing: store.llm.cacheResponse("nope"),
        run: { ...store.runs.get("run"), createdAt: 0, updatedAt: 0 },
        text: store.texts.get(store.texts.put("same text")),
      };
      store.close();
      return out;
    });
    expect(results[0]?.usage[0]).toMatchObject({
      calls: 3,
      ok: 2,
      failed: 1,
      cached: 1,
      inputTokens: 20,
    });
    expect(results[0]?.again).toEqual(results[0]?.usage);
    expect(results[0]?.all).toEqual(results[0]?.usage);
    expect(results[0]?.spent).toEqual([0.5, 0.5]);
    expect(results[0]?.spentNone).toEqual([0, 0]);
    expect(results[1]).toEqual(results[0]);
  });

  it("keeps resumable items and indexes the reasoning labels' categories as SQLite does", () => {
    const stores = [Store.open(join(tempDir(), "ws")), open()];
    const results = stores.map((store) => {
      store.runs.ensure({ id: "an", kind: "reasoning" });
      const label = (key: string, categories: unknown) => ({
        key,
        stage: "label:rater",
        status: "ok" as const,
        value: { categories },
        error: null,
        attempts: 1,
      });
      store.items.put("an", label("label:rater|run/s1#2", [{ id: "a" }, { id: "b" }]));
      store.items.put("an", label("label:rater|run/s#3#10", [{ id: "c" }, { name: "no id" }]));
      store.items.put("an", label("label:rater|bad-key", undefined));
      store.items.put("an", {
        key: "x",
        stage: "judge",
        status: "failed",
        value: null,
        error: { kind: "timeout", message: "slow" },
        attempts: 2,
      });
      const index = () =>
        store.db
          .prepare(
            "SELECT run_id, sample_id, epoch, category FROM reasoning_label_index ORDER BY run_id, sample_id, epoch, category",
          )
          .raw()
          .all();
      const inserted = index();
      store.items.put("an", label("label:rater|run/s1#2", [{ id: "b" }]));
      const updated = index();
      store.db.prepare("DELETE FROM items WHERE key = ?").run("label:rater|run/s#3#10");
      const out = {
        inserted,
        updated,
        deleted: index(),
        some: [...store.items.stage("an", "label:rater", ["label:rater|run/s1#2", "nope"])],
        failed: store.items.failed("an"),
        counts: store.items.counts("an"),
      };
      store.close();
      return out;
    });
    expect(results[0]?.inserted).toContainEqual(["run", "s#3", 10, "c"]);
    expect(results[0]?.updated).toContainEqual(["run", "s1", 2, "b"]);
    expect(results[0]?.updated).not.toContainEqual(["run", "s1", 2, "a"]);
    expect(results[1]).toEqual(results[0]);
  });

  it("keeps blobs and artifacts as rows, by content hash, once", () => {
    const store = open();
    const h = store.blobs.put("hello corpus");
    expect(store.blobs.put("hello corpus")).toBe(h);
    expect(h).toBe(sha256Hex("hello corpus"));
    expect(store.blobs.has(h)).toBe(true);
    expect(store.blobs.get(h).toString()).toBe("hello corpus");
    store.artifacts.put("a", "variant", "first", { n: 1 });
    store.artifacts.put("a", "variant", "second", { n: 2 });
    expect(store.artifacts.list("variant").map((a) => [a.content, a.meta])).toEqual([
      ["second", { n: 2 }],
    ]);
    store.close();
  });

  it("opens read-only for the dashboard: reads, and the server refuses writes", () => {
    const url = server().database();
    open(url).close();
    const reader = Store.openReadOnly(tempDir(), { url });
    expect(reader.schemaVersion()).toBe(SCHEMA_VERSION);
    expect(() => reader.runs.ensure({ id: "r", kind: "test" })).toThrow(/read-only transaction/);
    reader.close();
  });

  it("names its server without the password", () => {
    const url = server().database().replace("postgres@", "postgres:not-checked-by-trust@");
    const store = open(url);
    expect(store.file).toBe(url.replace(":not-checked-by-trust@", ":***@"));
    store.close();
  });

  it("refuses a URL that is not PostgreSQL's, naming the setting, without its password", () => {
    expect(() => Store.open(tempDir(), { url: "mysql://u:pw-1234567@h/db" })).toThrow(
      /run store URL mysql:\/\/u:\*\*\*@h\/db is not a PostgreSQL URL/,
    );
  });
});
