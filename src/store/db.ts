import { mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { envSetting } from "../core/env.js";
import { SpecsciError } from "../core/errors.js";
import { AnnotationTables } from "./annotations.js";
import { Artifacts } from "./artifacts.js";
import { BlobStore, DatabaseBlobStore } from "./blobs.js";
import { Checkpointer } from "./checkpointer.js";
import { type Backend, backendOf, type SqlDatabase } from "./database.js";
import { EvalTables } from "./eval-tables.js";
import { GroupCommit } from "./group-commit.js";
import { ItemTables } from "./item-tables.js";
import { LlmTables } from "./llm-tables.js";
import { RunLocks } from "./locks.js";
import { MIGRATIONS, postgresSql, SCHEMA_VERSION } from "./migrations.js";
import { isPostgresUrl, PgDatabase } from "./postgres.js";
import { Runs } from "./runs.js";
import { redactUrl } from "./store-url.js";
import { Texts } from "./texts.js";
import { TrainTables } from "./train-tables.js";

export const DB_FILE_NAME = "store.db";

/** Where a store lives when it is not the workspace's SQLite file. */
export interface StoreLocation {
  /** A PostgreSQL server (`postgres://…`); unset, SPECSCI_STORE_URL, else the SQLite file. */
  url?: string | undefined;
}

/**
 * The run store of one workspace: a SQLite database (WAL, so readers never block the writer and
 * a kill -9 loses at most uncommitted transactions) plus content-addressed blobs beside it; or,
 * for a team, a PostgreSQL database (`store: postgres://…` or SPECSCI_STORE_URL) with the same
 * schema and its blobs as rows.
 */
export class Store {
  readonly db: SqlDatabase;
  readonly blobs: BlobStore;
  readonly runs: Runs;
  readonly texts: Texts;
  readonly artifacts: Artifacts;
  readonly llm: LlmTables;
  readonly evals: EvalTables;
  /** The finished items of every resumable job (MSM corpora, AFT chat sets, reasoning analyses). */
  readonly items: ItemTables;
  readonly train: TrainTables;
  readonly annotations: AnnotationTables;
  /** One driver per experiment (locks.ts). */
  readonly locks: RunLocks;
  private readonly groupCommit: GroupCommit;
  /** Checkpoints off this thread, from the first grouped write of a SQLite writer on. */
  private checkpointer: Checkpointer | undefined;

  private constructor(
    readonly dir: string,
    db: SqlDatabase,
  ) {
    this.db = db;
    this.blobs =
      backendOf(db) === "postgres" ? new DatabaseBlobStore(db) : new BlobStore(join(dir, "blobs"));
    this.runs = new Runs(db);
    this.texts = new Texts(db);
    this.artifacts = new Artifacts(db, this.blobs);
    this.llm = new LlmTables(db, this.texts);
    this.evals = new EvalTables(db, this.texts);
    this.items = new ItemTables(db);
    this.train = new TrainTables(db);
    this.annotations = new AnnotationTables(db);
    this.locks = new RunLocks(db, join(dir, DB_FILE_NAME));
    this.groupCommit = new GroupCommit(db, (writes) => this.evals.indexingAnswersOnce(writes));
  }

  static open(dir: string, location: StoreLocation = {}): Store {
    const url = location.url ?? envSetting("SPECSCI_STORE_URL");
    if (url) return Store.openPostgres(dir, url);
    try {
      mkdirSync(dir, { recursive: true });
    } catch (e) {
      throw new SpecsciError(`cannot create workspace directory ${dir}: ${(e as Error).message}`, {
        hint: "pass --workspace DIR or set SPECSCI_WORKSPACE to a writable directory",
      });
    }
    const file = join(dir, DB_FILE_NAME);
    let db: Database.Database;
    try {
      db = new Database(file);
      db.pragma("journal_mode = WAL");
      // NORMAL is crash-safe in WAL mode: a killed process never corrupts the database; only an
      // OS crash or power loss can drop the last transactions.
      db.pragma("synchronous = NORMAL");
      db.pragma("busy_timeout = 10000");
      db.pragma("foreign_keys = ON");
      migrate(db, file);
    } catch (e) {
      if (e instanceof SpecsciError) throw e;
      const damaged = damagedStoreError(e, file);
      if (damaged) throw damaged;
      throw new SpecsciError(`cannot open run store ${file}: ${(e as Error).message}`, {
        hint: "if the file is damaged, move it aside; `specsci store check` reports problems",
        cause: e,
      });
    }
    return new Store(dir, db);
  }

  private static openPostgres(dir: string, url: string): Store {
    if (!isPostgresUrl(url))
      throw new SpecsciError(`run store URL ${redactUrl(url)} is not a PostgreSQL URL`, {
        hint: "set SPECSCI_STORE_URL to postgres://USER:PASSWORD@HOST:PORT/DATABASE, or unset it for the workspace's SQLite file",
      });
    const db = new PgDatabase(url);
    try {
      migrate(db, redactUrl(url));
    } catch (e) {
      db.close();
      throw e;
    }
    return new Store(dir, db);
  }

  /**
   * A read-only connection to an existing, migrated store (the dashboard's): it reads the WAL
   * beside a running writer without ever taking its lock. Call `Store.open` first to migrate.
   */
  static openReadOnly(dir: string, location: StoreLocation = {}): Store {
    const url = location.url ?? envSetting("SPECSCI_STORE_URL");
    if (url) return Store.openPostgresReadOnly(dir, url);
    const file = join(dir, DB_FILE_NAME);
    let db: Database.Database;
    try {
      db = new Database(file, { readonly: true, fileMustExist: true });
      db.pragma("busy_timeout = 10000");
    } catch (e) {
      const damaged = damagedStoreError(e, file);
      if (damaged) throw damaged;
      throw new SpecsciError(`cannot open run store ${file}: ${(e as Error).message}`, {
        hint: "pass --workspace DIR or set SPECSCI_WORKSPACE to the workspace `specsci run` wrote",
        cause: e,
      });
    }
    const version = db.pragma("user_version", { simple: true }) as number;
    if (version !== SCHEMA_VERSION) {
      db.close();
      throw new Error(
        `run store ${file}: schema ${version}, expected ${SCHEMA_VERSION} (open it with Store.open first)`,
      );
    }
    return new Store(dir, db);
  }

  /** On PostgreSQL, a session whose transactions the server keeps read-only. */
  private static openPostgresReadOnly(dir: string, url: string): Store {
    const store = Store.openPostgres(dir, url);
    store.db.exec("SET default_transaction_read_only = on");
    return store;
  }

  /** Runs `fn` in one transaction: all of its writes land, or none do. */
  tx<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  /**
   * Runs `write` in a transaction shared with the other writes queued in this event-loop turn;
   * resolves once they are committed. For hot paths with many concurrent writers.
   */
  txGrouped(write: () => void): Promise<void> {
    if (!this.checkpointer && this.backend === "sqlite") {
      this.checkpointer = new Checkpointer(this.file);
      this.db.pragma(`wal_autocheckpoint = ${BACKSTOP_CHECKPOINT_PAGES}`);
    }
    return this.groupCommit.enqueue(write);
  }

  schemaVersion(): number {
    return this.db.pragma("user_version", { simple: true }) as number;
  }

  get backend(): Backend {
    return backendOf(this.db);
  }

  /** The database's size on disk: the SQLite file's, or the PostgreSQL database's. */
  sizeBytes(): number {
    if (this.backend === "sqlite") return statSync(this.file).size;
    return this.db.prepare("SELECT pg_database_size(current_database())").pluck().get() as number;
  }

  /** Where the store is, as messages name it: its file, or its server's URL without a password. */
  get file(): string {
    return this.db instanceof PgDatabase ? redactUrl(this.db.url) : join(this.dir, DB_FILE_NAME);
  }

  /**
   * SQLite's own integrity and foreign-key checks; empty when the store is consistent. A
   * PostgreSQL server checks every foreign key as it is written and keeps its own pages sound.
   */
  check(): string[] {
    if (backendOf(this.db) === "postgres") return [];
    const problems: string[] = [];
    const integrity = this.db.pragma("integrity_check") as { integrity_check: string }[];
    for (const row of integrity)
      if (row.integrity_check !== "ok") problems.push(row.integrity_check);
    const fk = this.db.pragma("foreign_key_check") as { table: string; rowid: number }[];
    for (const row of fk) problems.push(`foreign key violation in ${row.table} row ${row.rowid}`);
    return problems;
  }

  close(): void {
    if (!this.db.open) return;
    this.groupCommit.flush();
    this.checkpointer?.stop();
    this.db.close();
  }
}

/**
 * The writer's own autocheckpoint while a Checkpointer runs (SQLite's default is 1,000 pages):
 * 64 MB of WAL, reached only if the worker falls behind.
 */
const BACKSTOP_CHECKPOINT_PAGES = 16_384;

/** The advisory lock key migrations take on PostgreSQL (any fixed number: "specsci1"). */
const MIGRATION_LOCK = 0x7370656373636931n;

/** SQLite's codes for a file whose pages (or header) are not a sound database. */
const DAMAGED_CODES = /^SQLITE_(CORRUPT|NOTADB)/;

/**
 * The user's view of an error SQLite raised on reading a damaged store (random bytes in its
 * pages, a truncated copy, another file under its name): what is damaged and how to recover,
 * instead of an internal error. Undefined for every other error. Used wherever the store is
 * opened or queried: `Store.open` and the CLI's error boundary, which every query passes.
 */
export function damagedStoreError(e: unknown, file: string): SpecsciError | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  if (!(e instanceof Database.SqliteError) || typeof code !== "string" || !DAMAGED_CODES.test(code))
    return undefined;
  return damagedStore(file, `${e.message} (${code})`, e);
}

/** A damaged store, named with SQLite's own words; specsci leaves the file as it is. */
export function damagedStore(file: string, problem: string, cause?: unknown): SpecsciError {
  const q = (path: string) => `'${path.replaceAll("'", "'\\''")}'`;
  const recovered = `${file}.recovered`;
  return new SpecsciError(`the run store ${file} is damaged: ${problem}`, {
    hint:
      `specsci has not changed it. Salvage what SQLite can still read with \`sqlite3 ${q(file)} .recover | sqlite3 ${q(recovered)}\` (sqlite.org's sqlite3, 3.29 or later: some distributions build it without .recover), ` +
      `then move the damaged file aside (\`mv ${q(file)} ${q(`${file}.damaged`)}\`, with its -wal and -shm files) and put the recovered one in its place (\`mv ${q(recovered)} ${q(file)}\`); ` +
      "or move the workspace aside and start afresh (cached responses are then recomputed)",
    ...(cause === undefined ? {} : { cause }),
  });
}

/** Brings the schema to SCHEMA_VERSION; `where` names the store in messages. */
function migrate(db: SqlDatabase, where: string): void {
  const postgres = backendOf(db) === "postgres";
  const current = db.pragma("user_version", { simple: true }) as number;
  if (current > SCHEMA_VERSION) {
    throw new SpecsciError(
      `run store ${where} has schema version ${current}, newer than this specsci understands (${SCHEMA_VERSION})`,
      { hint: "upgrade specsci, or point --workspace at another directory" },
    );
  }
  for (const m of MIGRATIONS) {
    if (m.version <= current) continue;
    db.transaction(() => {
      // PostgreSQL: one migrating driver at a time (a lock held until this commit), as SQLite's
      // IMMEDIATE write lock does.
      if (postgres) db.prepare("SELECT pg_advisory_xact_lock(?)").get(MIGRATION_LOCK);
      // Re-read under the write lock: another process may have migrated while we waited.
      if ((db.pragma("user_version", { simple: true }) as number) >= m.version) return;
      db.exec(postgres ? postgresSql(m) : m.sql);
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
  }
}
