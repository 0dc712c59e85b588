import { createRequire } from "node:module";
import type Libpq from "libpq";
import { SpecsciError } from "../core/errors.js";
import {
  POSTGRES,
  type RunResult,
  type SqlDatabase,
  type SqlStatement,
  type SqlTransaction,
} from "./database.js";
import { redactUrl } from "./store-url.js";

/*
 * How a synchronous store talks to PostgreSQL from Node 20: through libpq's own synchronous
 * calls (PQexecParams, PQprepare, PQexecPrepared) by the `libpq` binding, the one `pg-native`
 * wraps. The store is synchronous end to end (better-sqlite3), and so are its callers' transactions
 * (a cache row and its call row in one `tx`), so the driver must be too. Measured on a local
 * socket (PostgreSQL 15, this machine, 5,000 trivial selects): libpq prepared 37 µs a round
 * trip, unprepared with parameters 90 µs; `pg` in a worker thread driven by `synckit`
 * (Atomics.wait) 815 µs; better-sqlite3 in memory 0.5 µs. The binding is used directly rather
 * than through pg-native because pg-native's sync calls do not return the affected-row count
 * (`run().changes`) and parse values as `pg` does (int8 as strings, booleans as true/false),
 * where the store wants SQLite's values; its type layer would be replaced anyway.
 * It is an optional dependency (it compiles against libpq-dev): SQLite users never load it.
 */

/** Which servers this accepts; anything else is a configuration error, named. */
export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

function loadLibpq(url: string): typeof Libpq {
  try {
    return createRequire(import.meta.url)("libpq") as typeof Libpq;
  } catch (e) {
    throw new SpecsciError(
      `the run store ${redactUrl(url)} is PostgreSQL, but its driver (the npm package libpq) is not installed: ${(e as Error).message}`,
      {
        hint: "install libpq-dev (Debian: apt-get install libpq-dev; it needs python3, make and g++) and run `npm install libpq`, or unset SPECSCI_STORE_URL for the default SQLite store",
        cause: e,
      },
    );
  }
}

/** A PostgreSQL error with the server's SQLSTATE, as better-sqlite3 raises SqliteError with a code. */
export class PostgresError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = "PostgresError";
  }
}

// Type OIDs (pg_type) whose text form is converted to SQLite's values; all others stay strings.
const BOOL = 16;
const BYTEA = 17;
const NUMBERS = new Set([20, 21, 23, 26, 700, 701, 1700]);
const JSON_TYPES = new Set([114, 3802]);

/**
 * One value as SQLite would give it: integers and floats as numbers (int8 and numeric too: the
 * store's counts and sums, well under 2^53), booleans as 1/0 (a comparison reads as SQLite's),
 * bytea as a Buffer, json as SQLite's json_extract gives it.
 */
function fromText(oid: number, text: string): unknown {
  if (NUMBERS.has(oid)) return Number(text);
  if (oid === BOOL) return text === "t" ? 1 : 0;
  if (oid === BYTEA) return Buffer.from(text.slice(2), "hex");
  if (JSON_TYPES.has(oid)) return fromJson(text);
  return text;
}

/**
 * A json/jsonb result as SQLite's json_extract gives one: a scalar as its SQL value (true/false
 * as 1/0, a JSON null as NULL), an object or array as its JSON text.
 */
function fromJson(text: string): unknown {
  const value = JSON.parse(text) as unknown;
  if (value !== null && typeof value === "object") return text;
  if (typeof value === "boolean") return value ? 1 : 0;
  return value;
}

/** A parameter in libpq's text format; null stays SQL NULL. */
function toText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (Buffer.isBuffer(value) || value instanceof Uint8Array)
    return `\\x${Buffer.from(value).toString("hex")}`;
  if (typeof value === "boolean") return value ? "1" : "0";
  return String(value);
}

/**
 * `?` and `@name` placeholders (the store's statements are written for SQLite) as PostgreSQL's
 * `$n`, skipping string literals, quoted identifiers, comments and dollar-quoted bodies. Small
 * and hand-written: it only numbers placeholders, it rewrites no SQL.
 */
export function numberPlaceholders(sql: string): { text: string; names: string[] | null } {
  let out = "";
  let n = 0;
  const named: string[] = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql[i] as string;
    const skip = skipped(sql, i);
    if (skip > i) {
      out += sql.slice(i, skip);
      i = skip;
    } else if (c === "?") {
      out += `$${++n}`;
      i++;
    } else if (c === "@" && /[A-Za-z_]/.test(sql[i + 1] ?? "")) {
      const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(sql.slice(i + 1))?.[0] as string;
      let at = named.indexOf(name);
      if (at < 0) at = named.push(name) - 1;
      out += `$${at + 1}`;
      i += name.length + 1;
    } else {
      out += c;
      i++;
    }
  }
  if (n > 0 && named.length > 0) throw new Error(`SQL mixes ? and @name parameters: ${sql}`);
  return { text: out, names: named.length > 0 ? named : null };
}

/** Where the literal, identifier, comment or dollar-quoted body starting at `i` ends (or `i`). */
function skipped(sql: string, i: number): number {
  const c = sql[i];
  if (c === "'" || c === '"') {
    const end = sql.indexOf(c, i + 1);
    return end < 0 ? sql.length : end + 1;
  }
  if (c === "-" && sql[i + 1] === "-") {
    const end = sql.indexOf("\n", i);
    return end < 0 ? sql.length : end;
  }
  if (c === "/" && sql[i + 1] === "*") {
    const end = sql.indexOf("*/", i + 2);
    return end < 0 ? sql.length : end + 2;
  }
  if (c === "$") {
    const tag = /^\$[A-Za-z_]*\$/.exec(sql.slice(i))?.[0];
    if (tag) {
      const end = sql.indexOf(tag, i + tag.length);
      return end < 0 ? sql.length : end + tag.length;
    }
  }
  return i;
}

/** Rows per FETCH of a cursor: few enough for wide rows (a sample's output), many per round trip. */
const CURSOR_BATCH = 256;

/**
 * The binding's finish() hands libuv a close of a handle that lives inside the connection
 * object, then lets that object be collected: collected before libuv's close phase, the process
 * aborts (uv__finish_close). Held here until a timer of the next loop turn, after that phase.
 */
const closing = new Set<Libpq>();
function keepUntilClosed(pq: Libpq): void {
  closing.add(pq);
  setTimeout(() => closing.delete(pq), 0).unref();
}

function isNamedBag(params: unknown[]): boolean {
  const [only] = params;
  return (
    params.length === 1 &&
    typeof only === "object" &&
    only !== null &&
    Object.getPrototypeOf(only) === Object.prototype
  );
}

/** A synchronous PostgreSQL connection with better-sqlite3's surface (database.ts). */
export class PgDatabase implements SqlDatabase {
  readonly [POSTGRES] = true;
  private readonly pq: Libpq;
  private depth = 0;
  /** Server-side prepared statements by their text: made once per connection. */
  private readonly prepared = new Map<string, string>();
  private isOpen = true;
  /** Cursors declared, for their names. */
  private cursors = 0;

  constructor(readonly url: string) {
    const Pq = loadLibpq(url);
    this.pq = new Pq();
    try {
      this.pq.connectSync(url);
    } catch (e) {
      throw new SpecsciError(
        `cannot connect to the run store ${redactUrl(url)}: ${(e as Error).message.trim()}`,
        {
          hint: "check that the server runs and that SPECSCI_STORE_URL names its host, port, database and user",
          cause: e,
        },
      );
    }
    // Quiet the server's notices ("relation exists, skipping"): libpq would print them.
    this.query("SET client_min_messages = warning");
  }

  get open(): boolean {
    return this.isOpen;
  }

  get inTransaction(): boolean {
    return this.depth > 0;
  }

  prepare(source: string): SqlStatement {
    return new PgStatement(this, source);
  }

  exec(source: string): this {
    this.pq.exec(source);
    this.check();
    return this;
  }

  /** Runs one statement (unprepared); rows as libpq left them, read with `rows`. */
  query(text: string, params: (string | null)[] = []): void {
    this.pq.execParams(text, params as string[]);
    this.check();
  }

  /**
   * The server-side name of `text`, prepared on first use: the store prepares many statements
   * per call (`db.prepare(...).get()`), which would otherwise each be planned afresh.
   */
  preparedName(text: string, params: number): string {
    let name = this.prepared.get(text);
    if (name === undefined) {
      name = `s${this.prepared.size + 1}`;
      this.pq.prepare(name, text, params);
      this.check();
      this.prepared.set(text, name);
    }
    return name;
  }

  execute(name: string, params: (string | null)[]): void {
    this.pq.execPrepared(name, params as string[]);
    this.check();
  }

  changes(): number {
    return Number(this.pq.cmdTuples() || 0);
  }

  /** The last result's rows, as objects or (raw) arrays. */
  rows(raw: boolean): unknown[] {
    const pq = this.pq;
    const fields = pq.nfields();
    const names: string[] = [];
    const oids: number[] = [];
    for (let f = 0; f < fields; f++) {
      names.push(pq.fname(f));
      oids.push(pq.ftype(f));
    }
    const out: unknown[] = [];
    for (let t = 0, n = pq.ntuples(); t < n; t++) {
      const values = oids.map((oid, f) =>
        pq.getisnull(t, f) ? null : fromText(oid, pq.getvalue(t, f)),
      );
      out.push(raw ? values : Object.fromEntries(names.map((name, f) => [name, values[f]])));
    }
    return out;
  }

  /**
   * The rows of `text` through a server-side cursor, CURSOR_BATCH at a time, so a large read
   * (the export of 200k samples) is never held whole here: libpq reads a result whole, and the
   * binding has no single-row mode. Outside a transaction the cursor is WITH HOLD (the server
   * keeps the result, and other statements may run between rows); in one it ends with it.
   * Leaving the loop early (break, a throw) closes the cursor.
   */
  *cursor(text: string, params: (string | null)[], raw: boolean): Generator<unknown> {
    const name = `specsci_cursor_${++this.cursors}`;
    const hold = this.depth === 0;
    this.query(`DECLARE ${name} NO SCROLL CURSOR ${hold ? "WITH HOLD " : ""}FOR ${text}`, params);
    try {
      for (;;) {
        this.query(`FETCH ${CURSOR_BATCH} FROM ${name}`);
        const rows = this.rows(raw);
        yield* rows;
        if (rows.length < CURSOR_BATCH) return;
      }
    } finally {
      // One without hold may have gone with its transaction (or savepoint): closing a cursor
      // that is not there would fail the transaction open now. One with hold stays till closed.
      if (this.isOpen && (hold || this.hasCursor(name))) this.query(`CLOSE ${name}`);
    }
  }

  private hasCursor(name: string): boolean {
    this.query("SELECT count(*) FROM pg_cursors WHERE name = $1", [name]);
    return (this.rows(true)[0] as unknown[])[0] === 1;
  }

  transaction<F extends (...args: never[]) => unknown>(fn: F): SqlTransaction<F> {
    const run = (...args: Parameters<F>) => this.inTx(() => fn(...args)) as ReturnType<F>;
    return Object.assign(run, { immediate: run }) as unknown as SqlTransaction<F>;
  }

  /** better-sqlite3's semantics: the outermost call is a transaction, nested ones savepoints. */
  private inTx<T>(fn: () => T): T {
    const savepoint = `sp${this.depth}`;
    this.exec(this.depth === 0 ? "BEGIN" : `SAVEPOINT ${savepoint}`);
    this.depth++;
    try {
      const out = fn();
      this.depth--;
      this.exec(this.depth === 0 ? "COMMIT" : `RELEASE SAVEPOINT ${savepoint}`);
      return out;
    } catch (e) {
      this.depth--;
      this.exec(this.depth === 0 ? "ROLLBACK" : `ROLLBACK TO SAVEPOINT ${savepoint}`);
      throw e;
    }
  }

  /**
   * SQLite's `user_version` is the schema version here too, kept in a one-row table
   * (specsci_schema, made by the first migration's PostgreSQL SQL); other PRAGMAs are SQLite's.
   */
  pragma(source: string, options: { simple?: boolean } = {}): unknown {
    const set = /^\s*user_version\s*=\s*(\d+)\s*$/i.exec(source);
    if (set) {
      this.query(
        "INSERT INTO specsci_schema (id, version) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET version = excluded.version",
        [set[1] as string],
      );
      return [];
    }
    if (/^\s*user_version\s*$/i.test(source)) {
      this.query("SELECT to_regclass('specsci_schema') IS NOT NULL AS made");
      const made = (this.rows(true)[0] as unknown[])[0] === 1;
      let version = 0;
      if (made) {
        this.query("SELECT version FROM specsci_schema WHERE id = 1");
        version = ((this.rows(true)[0] as unknown[] | undefined)?.[0] as number | undefined) ?? 0;
      }
      return options.simple ? version : [{ user_version: version }];
    }
    throw new Error(`PRAGMA ${source} is SQLite's; this run store is PostgreSQL`);
  }

  close(): this {
    if (this.isOpen) {
      this.pq.finish();
      keepUntilClosed(this.pq);
    }
    this.isOpen = false;
    return this;
  }

  private check(): void {
    const status = this.pq.resultStatus();
    if (status === "PGRES_FATAL_ERROR" || status === "PGRES_BAD_RESPONSE") {
      const fields = this.pq.resultErrorFields() as { sqlState?: string };
      throw new PostgresError(this.pq.resultErrorMessage().trim(), fields.sqlState);
    }
  }
}

/** A statement prepared on the server on first use, with better-sqlite3's result shapes. */
class PgStatement implements SqlStatement {
  private readonly text: string;
  private readonly names: string[] | null;
  private readonly count: number;
  private plucked = false;
  private arrays = false;

  constructor(
    private readonly db: PgDatabase,
    source: string,
  ) {
    const { text, names } = numberPlaceholders(source);
    this.text = text;
    this.names = names;
    this.count = names ? names.length : (text.match(/\$\d+/g)?.length ?? 0);
  }

  pluck(toggle = true): this {
    this.plucked = toggle;
    if (toggle) this.arrays = false;
    return this;
  }

  raw(toggle = true): this {
    this.arrays = toggle;
    if (toggle) this.plucked = false;
    return this;
  }

  /** An INSERT … RETURNING id gives its id as lastInsertRowid, as SQLite's rowid. */
  run(...params: unknown[]): RunResult {
    this.execute(params);
    const returned = this.db.rows(true)[0] as unknown[] | undefined;
    return { changes: this.db.changes(), lastInsertRowid: (returned?.[0] as number) ?? 0 };
  }

  get(...params: unknown[]): unknown {
    return this.all(...params)[0];
  }

  all(...params: unknown[]): unknown[] {
    this.execute(params);
    const rows = this.db.rows(this.arrays || this.plucked);
    return this.plucked ? rows.map((r) => (r as unknown[])[0]) : rows;
  }

  /** Rows from a server-side cursor, a batch at a time (PgDatabase.cursor). */
  iterate(...params: unknown[]): IterableIterator<unknown> {
    const rows = this.db.cursor(this.text, this.bind(params), this.arrays || this.plucked);
    if (!this.plucked) return rows;
    return (function* () {
      for (const row of rows) yield (row as unknown[])[0];
    })();
  }

  private execute(params: unknown[]): void {
    this.db.execute(this.db.preparedName(this.text, this.count), this.bind(params));
  }

  private bind(params: unknown[]): (string | null)[] {
    // A bag of named parameters for a statement that names none binds nothing, as in SQLite.
    if (!this.names) return isNamedBag(params) ? [] : params.map(toText);
    const byName = (params[0] ?? {}) as Record<string, unknown>;
    return this.names.map((name) => {
      if (!(name in byName)) throw new RangeError(`missing named parameter "${name}"`);
      return toText(byName[name]);
    });
  }
}
