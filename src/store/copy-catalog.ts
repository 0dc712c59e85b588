import { backendOf, type SqlDatabase } from "./database.js";

/**
 * What `store copy` needs to know of a store's tables, read from each backend's own catalog
 * (sqlite_schema's pragmas; PostgreSQL's information_schema and pg_index) rather than listed by
 * hand, so a table or column a later migration adds is copied without touching this file.
 */
export interface TableShape {
  name: string;
  /** The columns a copy writes: generated ones (verdict, answer_search) are computed, not copied. */
  columns: string[];
  /** The primary key, the order rows are read and written in. */
  key: string[];
  /** Tables this one's foreign keys point at: written first. */
  parents: string[];
}

/**
 * The tables the store reads by SQLite's implicit rowid (insertion order; the FTS index is keyed
 * by eval_samples' rowid): PostgreSQL gives them an explicit `rowid` identity column (migrations.ts,
 * ROWID). A copy keeps these rowids on both backends. copy.test.ts checks this list against a
 * PostgreSQL store's catalog.
 */
export const ROWID_TABLES = new Set(["batch_items", "eval_samples", "items"]);

/** Kept by triggers on another table (migration 10): checked after a copy, never written. */
export const DERIVED_TABLES = new Set(["reasoning_label_index"]);

/**
 * Who drives an experiment on this store now (migration 15): a lock, not data. A copy neither
 * carries nor checks it, so a copied store never names a driver that runs elsewhere.
 */
const NOT_COPIED = new Set(["run_locks"]);

/** PostgreSQL's blobs are this table; SQLite's are files beside the database, read as one. */
export const BLOBS = "blobs";

/** The SQL of an identifier. */
export const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** The store's tables on this connection, blobs included, without the backend's own bookkeeping. */
export function storeTables(db: SqlDatabase): TableShape[] {
  const names = (backendOf(db) === "postgres" ? postgresTables(db) : sqliteTables(db)).filter(
    (name) => !NOT_COPIED.has(name),
  );
  const shapes = names.map((name) =>
    backendOf(db) === "postgres" ? postgresShape(db, name) : sqliteShape(db, name),
  );
  if (backendOf(db) === "sqlite")
    shapes.push({ name: BLOBS, columns: ["hash", "data"], key: ["hash"], parents: [] });
  return shapes.sort((a, b) => a.name.localeCompare(b.name));
}

/** Ordinary tables only: not FTS5's virtual table and its shadow tables, not sqlite_sequence. */
function sqliteTables(db: SqlDatabase): string[] {
  return db
    .prepare(
      "SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
    )
    .pluck()
    .all() as string[];
}

function sqliteShape(db: SqlDatabase, name: string): TableShape {
  // hidden: 0 an ordinary column, 2 and 3 generated ones (virtual, stored).
  const columns = db
    .prepare("SELECT name FROM pragma_table_xinfo(?) WHERE hidden = 0 ORDER BY cid")
    .pluck()
    .all(name) as string[];
  const key = db
    .prepare("SELECT name FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk")
    .pluck()
    .all(name) as string[];
  const parents = db
    .prepare('SELECT DISTINCT "table" FROM pragma_foreign_key_list(?)')
    .pluck()
    .all(name) as string[];
  if (ROWID_TABLES.has(name)) columns.unshift("rowid");
  return { name, columns, key: key.length > 0 ? key : ["rowid"], parents };
}

/** The store's schema's tables; specsci_schema (the version) is migrations' own. */
function postgresTables(db: SqlDatabase): string[] {
  return db
    .prepare(
      `SELECT table_name FROM information_schema.tables
       WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> 'specsci_schema'`,
    )
    .pluck()
    .all() as string[];
}

function postgresShape(db: SqlDatabase, name: string): TableShape {
  const columns = db
    .prepare(
      `SELECT column_name FROM information_schema.columns
       WHERE table_schema = current_schema() AND table_name = ? AND is_generated = 'NEVER'
       ORDER BY ordinal_position`,
    )
    .pluck()
    .all(name) as string[];
  const key = db
    .prepare(
      `SELECT a.attname FROM pg_index i
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
       WHERE i.indrelid = to_regclass(quote_ident(?)) AND i.indisprimary
       ORDER BY array_position(i.indkey::int2[], a.attnum)`,
    )
    .pluck()
    .all(name) as string[];
  const parents = db
    .prepare(
      `SELECT DISTINCT p.relname FROM pg_constraint c JOIN pg_class p ON p.oid = c.confrelid
       WHERE c.contype = 'f' AND c.conrelid = to_regclass(quote_ident(?))`,
    )
    .pluck()
    .all(name) as string[];
  return { name, columns, key, parents };
}

/** The tables in an order that writes every parent before its children (foreign keys). */
export function parentsFirst(tables: TableShape[]): TableShape[] {
  const byName = new Map(tables.map((t) => [t.name, t]));
  const done = new Set<string>();
  const out: TableShape[] = [];
  const visit = (t: TableShape, path: string[]) => {
    if (done.has(t.name)) return;
    if (path.includes(t.name))
      throw new Error(`foreign keys form a cycle: ${[...path, t.name].join(" → ")}`);
    for (const p of t.parents) {
      const parent = byName.get(p);
      if (parent && p !== t.name) visit(parent, [...path, t.name]);
    }
    done.add(t.name);
    out.push(t);
  };
  for (const t of tables) visit(t, []);
  return out;
}

/** Identity columns of a PostgreSQL store (llm_calls.id, annotations.id, the rowid columns). */
export function identityColumns(db: SqlDatabase): { table: string; column: string }[] {
  return db
    .prepare(
      `SELECT table_name AS "table", column_name AS "column" FROM information_schema.columns
       WHERE table_schema = current_schema() AND is_identity = 'YES' ORDER BY table_name`,
    )
    .all() as { table: string; column: string }[];
}
