import {
  existsSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmdirSync,
  statSync,
  unlinkSync,
} from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { SpecsciError } from "../core/errors.js";
import {
  BLOBS,
  DERIVED_TABLES,
  identityColumns,
  parentsFirst,
  quote,
  storeTables,
  type TableShape,
} from "./copy-catalog.js";
import { TableHash } from "./copy-hash.js";
import { backendOf } from "./database.js";
import { DB_FILE_NAME, Store } from "./db.js";
import { isPostgresUrl, PgDatabase } from "./postgres.js";
import { redactUrl } from "./store-url.js";

/** Where a store is: a workspace directory (its SQLite file and blobs) or a PostgreSQL URL. */
export type StoreAddress =
  | { backend: "sqlite"; dir: string }
  | { backend: "postgres"; url: string };

export interface StoreCopyOptions {
  /** Empty a destination that holds a store first, in the copy's transaction. */
  replace?: boolean;
  /** Progress lines (stderr in the CLI). */
  progress?: (line: string) => void;
}

/** One table after a copy: its rows and content hash on each side. */
export interface StoreTableCheck {
  table: string;
  /** False for a table kept by triggers (written by the destination itself, then checked). */
  copied: boolean;
  source_rows: number;
  destination_rows: number;
  source_hash: string;
  destination_hash: string;
  ok: boolean;
}

export interface StoreCopyReport {
  source: string;
  destination: string;
  /** False when a check failed: the destination's transaction was rolled back. */
  committed: boolean;
  ok: boolean;
  tables: StoreTableCheck[];
  seconds: number;
}

/** Rows read and written per batch: bounded memory whatever the store's size. */
const BATCH_ROWS = 100;
/** Blobs are whole corpora: a few per batch. */
const BATCH_BLOBS = 4;
/** How often a long table reports its progress. */
const PROGRESS_EVERY_MS = 5000;

/** SRC or DST as the command line gives it: a postgres:// URL, else a workspace directory. */
export function storeAddress(arg: string, role: "SRC" | "DST"): StoreAddress {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(arg)) {
    if (!isPostgresUrl(arg))
      throw new SpecsciError(
        `${role} ${redactUrl(arg)} is neither a workspace directory nor a PostgreSQL URL`,
        { hint: "give a workspace directory (its store.db) or postgres://USER@HOST:PORT/DATABASE" },
      );
    return { backend: "postgres", url: arg };
  }
  // The store's file itself names its workspace.
  const path = resolve(arg);
  const dir = basename(path) === DB_FILE_NAME && isFile(path) ? dirname(path) : path;
  return { backend: "sqlite", dir };
}

const isFile = (path: string) => existsSync(path) && statSync(path).isFile();

const describe = (a: StoreAddress) => (a.backend === "postgres" ? redactUrl(a.url) : a.dir);

/**
 * Copies every table and row of one run store into another, between SQLite and PostgreSQL in
 * any direction: both are migrated to this specsci's schema first, the destination must hold no
 * rows (or `replace`), and the whole copy is one transaction on the destination, checked table
 * by table (rows and content hash) before it commits. A failed check rolls it back and is
 * reported (`committed: false`); a crash leaves the destination as it was.
 */
export function copyStore(
  srcArg: string,
  dstArg: string,
  options: StoreCopyOptions = {},
): StoreCopyReport {
  const started = performance.now();
  const from = storeAddress(srcArg, "SRC");
  const to = storeAddress(dstArg, "DST");
  refuseSameStore(from, to);
  const src = openSide(from, "source");
  try {
    const dst = openSide(to, "destination");
    try {
      const { committed, tables } = new Copy(src, dst, options).run();
      return {
        source: describe(from),
        destination: describe(to),
        committed,
        ok: tables.every((t) => t.ok),
        tables,
        seconds: (performance.now() - started) / 1000,
      };
    } finally {
      dst.store.close();
    }
  } finally {
    src.store.close();
  }
}

function refuseSameStore(from: StoreAddress, to: StoreAddress): void {
  const same =
    from.backend === "postgres"
      ? to.backend === "postgres" && from.url === to.url
      : to.backend === "sqlite" && canonical(from.dir) === canonical(to.dir);
  if (same)
    throw new SpecsciError(`SRC and DST are the same store (${describe(from)})`, {
      hint: "copy into another workspace directory or another PostgreSQL database",
    });
}

const canonical = (dir: string) => (existsSync(dir) ? realpathSync(dir) : dir);

interface Side {
  store: Store;
  label: string;
  address: StoreAddress;
}

/** A store opened (and migrated) for a copy; a SOURCE workspace must already hold a store. */
function openSide(address: StoreAddress, role: "source" | "destination"): Side {
  if (address.backend === "postgres") {
    if (role === "source") refuseEmptyDatabase(address.url);
    return { store: Store.open("", { url: address.url }), label: describe(address), address };
  }
  if (role === "source" && !existsSync(join(address.dir, DB_FILE_NAME)))
    throw new SpecsciError(`SRC ${address.dir} holds no run store (no ${DB_FILE_NAME})`, {
      hint: "give the workspace directory `specsci run` wrote (.specsci by default), or a postgres:// URL",
    });
  // An empty URL is the workspace's SQLite file whatever SPECSCI_STORE_URL says: the command
  // line names both stores.
  return { store: Store.open(address.dir, { url: "" }), label: address.dir, address };
}

/** A source database specsci never wrote is refused, not migrated into an empty store. */
function refuseEmptyDatabase(url: string): void {
  const db = new PgDatabase(url);
  try {
    if (db.pragma("user_version", { simple: true }) === 0)
      throw new SpecsciError(`SRC ${redactUrl(url)} holds no run store (no specsci schema)`, {
        hint: "give the database `specsci run` wrote (store: or SPECSCI_STORE_URL), or a workspace directory",
      });
  } finally {
    db.close();
  }
}

/** One copy from `src` to `dst`: the tables, both transactions, the check. */
class Copy {
  private readonly tables: TableShape[];
  /** SQLite destination: blob files this copy created (removed again if it rolls back). */
  private readonly createdBlobs: string[] = [];
  private readonly sourceBlobs = new Set<string>();

  constructor(
    private readonly src: Side,
    private readonly dst: Side,
    private readonly options: StoreCopyOptions,
  ) {
    this.tables = sameTables(src, dst);
  }

  run(): { committed: boolean; tables: StoreTableCheck[] } {
    let checks: StoreTableCheck[] = [];
    let committed = false;
    try {
      readTransaction(this.src, () =>
        this.dst.store.db
          .transaction(() => {
            this.emptyDestination();
            this.options.progress?.(`copying ${this.src.label} to ${this.dst.label}`);
            const sourceHashes = this.copyTables();
            this.bumpIdentities();
            this.options.progress?.("checking each table's rows and content hash on both sides");
            checks = this.check(sourceHashes);
            // Throwing rolls the destination back: a copy that does not check out is not kept.
            if (!checks.every((c) => c.ok)) throw new RolledBack();
          })
          .immediate(),
      );
      committed = true;
    } catch (e) {
      this.removeCreatedBlobs();
      if (!(e instanceof RolledBack)) throw e;
    }
    if (committed) this.pruneDestinationBlobs();
    return { committed, tables: checks };
  }

  /** Refuses a destination holding rows, or (replace) deletes them, children first. */
  private emptyDestination(): void {
    // A SQLite workspace's blob files without rows are what an interrupted copy left: unreferenced,
    // reused by content (the check reads them back) and pruned after the commit.
    const held = this.tables
      .filter((t) => !(t.name === BLOBS && backendOf(this.dst.store.db) === "sqlite"))
      .map((t) => ({ table: t.name, rows: this.count(this.dst, t) }))
      .filter((t) => t.rows > 0);
    if (held.length === 0) return;
    if (!this.options.replace)
      throw new SpecsciError(
        `DST ${this.dst.label} is not empty (${held.map((h) => `${h.table}: ${rowCount(h.rows)}`).join(", ")}); store copy writes only into an empty store`,
        {
          hint: "copy into a new workspace directory or an empty PostgreSQL database, or pass --replace to delete everything in DST first (in the copy's own transaction: a failed copy leaves DST as it was)",
        },
      );
    const db = this.dst.store.db;
    for (const t of [...parentsFirst(this.copied())].reverse())
      if (!(t.name === BLOBS && backendOf(db) === "sqlite"))
        db.exec(`DELETE FROM ${quote(t.name)}`);
    for (const name of DERIVED_TABLES) db.exec(`DELETE FROM ${quote(name)}`);
  }

  private copied(): TableShape[] {
    return this.tables.filter((t) => !DERIVED_TABLES.has(t.name));
  }

  /** Every copied table, parents first, each in key order; the source's hashes on the way. */
  private copyTables(): Map<string, TableHash> {
    const hashes = new Map<string, TableHash>();
    for (const t of parentsFirst(this.copied())) {
      const total = this.count(this.src, t);
      const hash = new TableHash(t.columns);
      const progress = this.progressOf(t.name, total);
      for (const batch of readBatches(this.src, t)) {
        for (const row of batch) hash.add(row);
        this.write(t, batch);
        progress(hash.rows);
      }
      this.options.progress?.(`  ${t.name}: ${rowCount(hash.rows)}`);
      hashes.set(t.name, hash);
    }
    return hashes;
  }

  /** A reporter that writes a line at most every few seconds while a table copies. */
  private progressOf(table: string, total: number): (done: number) => void {
    let last = performance.now();
    return (done) => {
      const now = performance.now();
      if (now - last < PROGRESS_EVERY_MS) return;
      last = now;
      this.options.progress?.(`  ${table}: ${done} of ${total} rows`);
    };
  }

  private write(t: TableShape, rows: unknown[][]): void {
    try {
      if (t.name === BLOBS) this.writeBlobs(rows);
      else if (backendOf(this.dst.store.db) === "postgres") this.insertPostgres(t, rows);
      else this.insertSqlite(t, rows);
    } catch (e) {
      if (e instanceof SpecsciError) throw e;
      throw new SpecsciError(
        `store copy: writing table ${t.name} into ${this.dst.label} failed: ${(e as Error).message}`,
        { hint: "nothing was copied: the copy is one transaction on DST", cause: e },
      );
    }
  }

  private insertSqlite(t: TableShape, rows: unknown[][]): void {
    const insert = this.dst.store.db.prepare(
      `INSERT INTO ${quote(t.name)} (${t.columns.map(quote).join(", ")}) VALUES (${t.columns.map(() => "?").join(", ")})`,
    );
    for (const row of rows) insert.run(...row);
  }

  /**
   * Many rows per statement (a round trip each). OVERRIDING SYSTEM VALUE keeps the source's rowid
   * in a GENERATED ALWAYS identity column; the sequences are moved past them afterwards.
   */
  private insertPostgres(t: TableShape, rows: unknown[][]): void {
    for (const row of rows) refuseNul(t, row);
    const one = `(${t.columns.map(() => "?").join(", ")})`;
    this.dst.store.db
      .prepare(
        `INSERT INTO ${quote(t.name)} (${t.columns.map(quote).join(", ")}) OVERRIDING SYSTEM VALUE VALUES ${rows.map(() => one).join(", ")}`,
      )
      .run(...rows.flat());
  }

  /** Blobs by content: a row whose data is not what its hash names is refused, not renamed. */
  private writeBlobs(rows: unknown[][]): void {
    const blobs = this.dst.store.blobs;
    const sqlite = backendOf(this.dst.store.db) === "sqlite";
    for (const [hash, data] of rows as [string, Buffer][]) {
      this.sourceBlobs.add(hash);
      const existed = sqlite && blobs.has(hash);
      const written = blobs.put(data);
      if (sqlite && !existed) this.createdBlobs.push(written);
      if (written !== hash)
        throw new SpecsciError(
          `SRC ${this.src.label}: blob ${hash} holds content whose hash is ${written}`,
          {
            hint: "the source's blob is damaged: restore it from a backup, or delete it and the artifacts that name it",
          },
        );
    }
  }

  /** PostgreSQL: each identity's next value past the highest copied (SQLite takes max + 1 itself). */
  private bumpIdentities(): void {
    const db = this.dst.store.db;
    if (backendOf(db) !== "postgres") return;
    for (const { table, column } of identityColumns(db))
      db.prepare(
        `SELECT setval(pg_get_serial_sequence(?, ?), coalesce((SELECT max(${quote(column)}) FROM ${quote(table)}), 0) + 1, false)`,
      ).get(quote(table), column);
  }

  /** Rows and content hash of every table on both sides; derived tables are read from both. */
  private check(sourceHashes: Map<string, TableHash>): StoreTableCheck[] {
    return this.tables.map((t) => {
      const source = sourceHashes.get(t.name) ?? hashTable(this.src, t);
      const destination = hashTable(this.dst, t, t.name === BLOBS ? this.sourceBlobs : undefined);
      const check = {
        table: t.name,
        copied: !DERIVED_TABLES.has(t.name),
        source_rows: source.rows,
        destination_rows: destination.rows,
        source_hash: source.digest(),
        destination_hash: destination.digest(),
      };
      return {
        ...check,
        ok:
          check.source_rows === check.destination_rows &&
          check.source_hash === check.destination_hash,
      };
    });
  }

  private count(side: Side, t: TableShape): number {
    if (t.name === BLOBS && backendOf(side.store.db) === "sqlite")
      return blobFiles(side.store.blobs.dir).length;
    return side.store.db
      .prepare(`SELECT count(*) FROM ${quote(t.name)}`)
      .pluck()
      .get() as number;
  }

  private removeCreatedBlobs(): void {
    for (const hash of this.createdBlobs) removeBlob(this.dst.store.blobs.dir, hash);
  }

  /** After a commit, a SQLite destination's blob files are exactly the source's. */
  private pruneDestinationBlobs(): void {
    if (backendOf(this.dst.store.db) !== "sqlite") return;
    for (const hash of blobFiles(this.dst.store.blobs.dir))
      if (!this.sourceBlobs.has(hash)) removeBlob(this.dst.store.blobs.dir, hash);
  }
}

const rowCount = (n: number) => `${n} ${n === 1 ? "row" : "rows"}`;

/** Thrown inside the destination's transaction to roll back a copy that failed its check. */
class RolledBack extends Error {}

/**
 * The tables of the source, which the destination (same schema version) must have with the same
 * columns: a store changed by hand is refused before anything is written.
 */
function sameTables(src: Side, dst: Side): TableShape[] {
  const theirs = new Map(storeTables(dst.store.db).map((t) => [t.name, t]));
  const ours = storeTables(src.store.db);
  const differ = (a: string[], b: string[]) => [...a].sort().join() !== [...b].sort().join();
  for (const t of ours) {
    const other = theirs.get(t.name);
    if (!other || differ(t.columns, other.columns))
      throw new SpecsciError(
        `the stores' schemas differ at table ${t.name}: SRC has columns (${t.columns.join(", ")}), DST ${other ? `(${other.columns.join(", ")})` : "has no such table"}`,
        {
          hint: "both stores are at this specsci's schema version; a table changed by hand must be put back first",
        },
      );
    theirs.delete(t.name);
  }
  if (theirs.size > 0)
    throw new SpecsciError(
      `DST ${dst.label} has tables SRC lacks: ${[...theirs.keys()].join(", ")}`,
      {
        hint: "both stores are at this specsci's schema version; a table added by hand must be removed first",
      },
    );
  return ours;
}

/**
 * Runs `fn` in one read transaction on the source, so the copy sees one moment of it while a
 * driver may still write: SQLite's WAL snapshot, PostgreSQL's REPEATABLE READ.
 */
function readTransaction(src: Side, fn: () => void): void {
  const db = src.store.db;
  db.transaction(() => {
    if (backendOf(db) === "postgres")
      db.exec("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
    fn();
  })();
}

/** A table's rows (values in its columns' order) in key order, a batch at a time. */
function* readBatches(side: Side, t: TableShape, only?: Set<string>): Generator<unknown[][]> {
  const db = side.store.db;
  if (t.name === BLOBS && backendOf(db) === "sqlite") {
    yield* blobBatches(side, only);
    return;
  }
  const size = t.name === BLOBS ? BATCH_BLOBS : BATCH_ROWS;
  const select = `SELECT ${t.columns.map(quote).join(", ")} FROM ${quote(t.name)} ORDER BY ${t.key.map(quote).join(", ")}`;
  if (backendOf(db) === "sqlite") {
    yield* batched(db.prepare(select).raw().iterate() as Iterable<unknown[]>, size);
    return;
  }
  // postgres.ts reads a result whole: a cursor (inside the open transaction) streams it instead.
  db.exec(`DECLARE specsci_copy NO SCROLL CURSOR FOR ${select}`);
  const fetch = db.prepare(`FETCH ${size} FROM specsci_copy`).raw();
  for (;;) {
    const rows = fetch.all() as unknown[][];
    if (rows.length === 0) break;
    yield rows;
  }
  // Closed when read to the end; a copy that stops early ends the transaction, which closes it.
  db.exec("CLOSE specsci_copy");
}

function* batched<T>(rows: Iterable<T>, size: number): Generator<T[]> {
  let batch: T[] = [];
  for (const row of rows) {
    batch.push(row);
    if (batch.length === size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/** A SQLite workspace's blob files as (hash, data) rows, by hash; `only` those named. */
function* blobBatches(side: Side, only?: Set<string>): Generator<unknown[][]> {
  const hashes = blobFiles(side.store.blobs.dir).filter((h) => !only || only.has(h));
  for (const batch of batched(hashes, BATCH_BLOBS))
    yield batch.map((hash) => [hash, readFileSync(side.store.blobs.pathOf(hash))]);
}

/** The hashes of the blob files under `dir` (blobs/ab/cdef…), sorted; temporary files skipped. */
function blobFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const hashes: string[] = [];
  for (const prefix of readdirSync(dir).sort()) {
    if (!/^[0-9a-f]{2}$/.test(prefix)) continue;
    for (const rest of readdirSync(join(dir, prefix)).sort())
      if (/^[0-9a-f]{62}$/.test(rest)) hashes.push(prefix + rest);
  }
  return hashes;
}

/** Removes a blob file, and its prefix directory once that is empty. */
function removeBlob(dir: string, hash: string): void {
  const prefix = join(dir, hash.slice(0, 2));
  unlinkSync(join(prefix, hash.slice(2)));
  if (readdirSync(prefix).length === 0) rmdirSync(prefix);
}

function hashTable(side: Side, t: TableShape, only?: Set<string>): TableHash {
  const hash = new TableHash(t.columns);
  for (const batch of readBatches(side, t, only)) for (const row of batch) hash.add(row);
  return hash;
}

/**
 * PostgreSQL's text cannot hold a NUL character (libpq would cut the value there): such a row is
 * refused, named, rather than stored changed. (JSON's escaped \u0000 is six characters: fine.)
 */
function refuseNul(t: TableShape, row: unknown[]): void {
  const at = row.findIndex((v) => typeof v === "string" && v.includes("\u0000"));
  if (at < 0) return;
  const key = t.key.map((k) => `${k}=${JSON.stringify(row[t.columns.indexOf(k)])}`).join(", ");
  throw new SpecsciError(
    `table ${t.name}, row ${key}: column ${t.columns[at]} holds a NUL character, which PostgreSQL's text cannot store; nothing was copied`,
    {
      hint: "remove the NUL from that value in the SQLite store (or keep this workspace on SQLite), then copy again",
    },
  );
}
