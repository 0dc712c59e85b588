import { expect, it } from "vitest";
import { describePostgres, usePostgres } from "../../test/postgres-server.js";
import { redact } from "../core/secrets.js";
import { MIGRATIONS, postgresSql } from "./migrations.js";
import { numberPlaceholders, PgDatabase, PostgresError } from "./postgres.js";
import { redactUrl } from "./store-url.js";

it("numbers ? and @name placeholders, leaving literals, identifiers and comments alone", () => {
  expect(numberPlaceholders("SELECT ? , '?' AS \"a?\" -- ?\n, ? /* ? */").text).toBe(
    "SELECT $1 , '?' AS \"a?\" -- ?\n, $2 /* ? */",
  );
  expect(numberPlaceholders("WHERE a = @x AND b = @y OR c = @x")).toEqual({
    text: "WHERE a = $1 AND b = $2 OR c = $1",
    names: ["x", "y"],
  });
  expect(numberPlaceholders("AS $$ SELECT ? $$").text).toBe("AS $$ SELECT ? $$");
  expect(() => numberPlaceholders("? @x")).toThrow(/mixes/);
});

it("has PostgreSQL SQL for every migration, with none of SQLite's own words left in it", () => {
  const sqliteOnly =
    /INSERT OR (IGNORE|REPLACE)|WITHOUT ROWID|AUTOINCREMENT|fts5|json_extract|json_each|json_object|\bREAL\b|PRAGMA|INTEGER PRIMARY KEY,|instr\(/i;
  for (const m of MIGRATIONS) {
    const code = postgresSql(m).replace(/--.*$/gm, "");
    expect(code, `migration ${m.version}`).not.toMatch(sqliteOnly);
  }
  expect(() => postgresSql({ version: 0, name: "x", sql: "A", postgres: [["B", "C"]] })).toThrow(
    /"B" is not in its SQL/,
  );
});

it("shows a store URL without its password, and scrubs the password from later messages", () => {
  const url = "postgres://team:s3cret-pass@db.lab:5432/specsci?sslmode=require";
  expect(redactUrl(url)).toBe("postgres://team:***@db.lab:5432/specsci?sslmode=require");
  expect(redact("server said: s3cret-pass is wrong")).toBe("server said: [REDACTED] is wrong");
  expect(redactUrl("host=db password='a b' dbname=x")).toBe("host=db password=*** dbname=x");
});

describePostgres("PostgreSQL connection (libpq, synchronous)", () => {
  const server = usePostgres();

  it("gives SQLite's values and result shapes", () => {
    const db = new PgDatabase(server().database());
    db.exec("CREATE TABLE t (k TEXT PRIMARY KEY, n BIGINT, x DOUBLE PRECISION, b BYTEA)");
    const insert = db.prepare("INSERT INTO t VALUES (?, ?, ?, ?) ON CONFLICT (k) DO NOTHING");
    expect(insert.run("a", 1, 0.5, Buffer.from([1, 2]))).toMatchObject({ changes: 1 });
    expect(insert.run("a", 2, 0.5, null)).toMatchObject({ changes: 0 });
    insert.run("b", 2, null, null);
    expect(db.prepare("SELECT * FROM t WHERE k = ?").get("a")).toEqual({
      k: "a",
      n: 1,
      x: 0.5,
      b: Buffer.from([1, 2]),
    });
    expect(db.prepare("SELECT k FROM t ORDER BY k").pluck().all()).toEqual(["a", "b"]);
    expect(db.prepare("SELECT k, n FROM t ORDER BY k").raw().all()).toEqual([
      ["a", 1],
      ["b", 2],
    ]);
    expect(
      db.prepare("SELECT count(*) AS n, sum(n) AS s FROM t WHERE k >= @k").get({ k: "a" }),
    ).toEqual({
      n: 2,
      s: 3,
    });
    // An empty bag of named parameters, as LlmTables.usage passes without a run filter.
    expect(db.prepare("SELECT count(*) AS n FROM t").get({})).toEqual({ n: 2 });
    expect(db.prepare("SELECT k = 'a' AS is_a FROM t ORDER BY k").pluck().all()).toEqual([1, 0]);
    expect([...db.prepare("SELECT n FROM t ORDER BY k").pluck().iterate()]).toEqual([1, 2]);
    expect(db.prepare("SELECT * FROM t WHERE k = ?").get("zzz")).toBeUndefined();
    db.close();
    expect(db.open).toBe(false);
  });

  it("nests transactions as savepoints and rolls back what threw", () => {
    const db = new PgDatabase(server().database());
    db.exec("CREATE TABLE t (k TEXT PRIMARY KEY)");
    const put = db.prepare("INSERT INTO t VALUES (?)");
    db.transaction(() => {
      put.run("kept");
      expect(db.inTransaction).toBe(true);
      expect(() =>
        db.transaction(() => {
          put.run("inner");
          throw new Error("boom");
        })(),
      ).toThrow("boom");
    })();
    expect(() =>
      db
        .transaction(() => {
          put.run("outer");
          put.run("kept"); // a duplicate: the server's error rolls back the whole transaction
        })
        .immediate(),
    ).toThrow(PostgresError);
    expect(db.inTransaction).toBe(false);
    expect(db.prepare("SELECT k FROM t").pluck().all()).toEqual(["kept"]);
    try {
      put.run("kept");
    } catch (e) {
      expect((e as PostgresError).code).toBe("23505");
    }
    db.close();
  });

  it("keeps the schema version as user_version, and refuses other PRAGMAs", () => {
    const db = new PgDatabase(server().database());
    expect(db.pragma("user_version", { simple: true })).toBe(0);
    db.exec(
      "CREATE TABLE specsci_schema (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL)",
    );
    db.pragma("user_version = 7");
    expect(db.pragma("user_version", { simple: true })).toBe(7);
    expect(db.pragma("user_version")).toEqual([{ user_version: 7 }]);
    expect(() => db.pragma("journal_mode")).toThrow(/SQLite's; this run store is PostgreSQL/);
    db.close();
  });

  it("iterates a large read through a server-side cursor, closed when the loop is left early", () => {
    const db = new PgDatabase(server().database());
    const cursors = db.prepare("SELECT count(*) FROM pg_cursors WHERE name <> ''").pluck();
    const wide = db.prepare("SELECT g, repeat('x', 500) AS pad FROM generate_series(1, ?) g");
    // 200k rows of 500 bytes: 100 MB were they held whole; a batch at a time, a few hundred kB.
    const before = process.memoryUsage().heapUsed;
    let peak = 0;
    let sum = 0;
    for (const row of wide.iterate(200_000) as Iterable<{ g: number; pad: string }>) {
      sum += row.g;
      if (row.g === 1) expect(cursors.get()).toBe(1); // other statements run between rows
      if (row.g % 20_000 === 0) peak = Math.max(peak, process.memoryUsage().heapUsed - before);
    }
    expect(sum).toBe((200_000 * 200_001) / 2);
    expect(peak).toBeLessThan(48 * 2 ** 20);
    expect(cursors.get()).toBe(0);

    const multiples = db.prepare("SELECT g FROM generate_series(1, ?) g WHERE g % ? = 0").pluck();
    const seen: unknown[] = [];
    for (const g of multiples.iterate(1000, 7)) {
      seen.push(g);
      if (seen.length === 3) break;
    }
    expect(seen).toEqual([7, 14, 21]);
    expect(cursors.get()).toBe(0);
    expect(() => {
      for (const _ of multiples.iterate(1000, 7)) throw new Error("boom");
    }).toThrow("boom");
    expect(cursors.get()).toBe(0);

    // In a transaction, and in a savepoint that rolled back (its cursor went with it).
    db.exec("CREATE TABLE t (k INTEGER)");
    db.transaction(() => {
      for (const g of multiples.iterate(1000, 7)) if (g === 14) break;
      expect(cursors.get()).toBe(0);
      let rows: Iterator<unknown> | undefined;
      expect(() =>
        db.transaction(() => {
          rows = multiples.iterate(1000, 7);
          rows.next();
          throw new Error("inner");
        })(),
      ).toThrow("inner");
      rows?.return?.();
      db.prepare("INSERT INTO t VALUES (1)").run();
    })();
    expect(db.prepare("SELECT count(*) FROM t").pluck().get()).toBe(1);
    expect(cursors.get()).toBe(0);
    db.close();
  });

  it("names the server, without the password, when it cannot connect", () => {
    expect(
      () => new PgDatabase("postgresql://u:hunter2hunter2@/x?host=/nonexistent&port=1"),
    ).toThrow(/cannot connect to the run store postgresql:\/\/u:\*\*\*@/);
  });
});
