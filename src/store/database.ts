/**
 * The part of a SQL connection the store uses, which both backends provide: better-sqlite3's
 * `Database` as it is (so the embedded default pays nothing for the abstraction: its methods are
 * called directly) and `PgDatabase` (postgres.ts), which gives PostgreSQL the same synchronous
 * surface. Statements take positional `?` parameters (or one object for `@name` ones).
 */
export interface RunResult {
  changes: number;
  lastInsertRowid: number | bigint;
}

export interface SqlStatement {
  run(...params: unknown[]): RunResult;
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  iterate(...params: unknown[]): IterableIterator<unknown>;
  /** Rows as their first column's value only. */
  pluck(toggle?: boolean): this;
  /** Rows as arrays of column values instead of objects. */
  raw(toggle?: boolean): this;
}

// biome-ignore lint/suspicious/noExplicitAny: the same generic signature as better-sqlite3's
type VariadicFunction = (...args: any[]) => unknown;
type ArgumentsOf<F extends VariadicFunction> = F extends (...args: infer A) => unknown ? A : never;

/** A function that runs `fn` in a transaction (a savepoint when one is open already). */
export interface SqlTransaction<F extends VariadicFunction> {
  (...params: ArgumentsOf<F>): ReturnType<F>;
  /** SQLite: take the write lock before the first read. PostgreSQL locks by row: the same call. */
  immediate(...params: ArgumentsOf<F>): ReturnType<F>;
}

export interface SqlDatabase {
  prepare(source: string): SqlStatement;
  exec(source: string): this;
  transaction<F extends VariadicFunction>(fn: F): SqlTransaction<F>;
  /** SQLite's PRAGMAs; PostgreSQL knows `user_version` (the schema version) only. */
  pragma(source: string, options?: { simple?: boolean }): unknown;
  close(): this;
  readonly open: boolean;
  readonly inTransaction: boolean;
}

export type Backend = "sqlite" | "postgres";

/** Marks a connection as PostgreSQL's; better-sqlite3's has no such property. */
export const POSTGRES = Symbol("postgres");

export function backendOf(db: SqlDatabase): Backend {
  return POSTGRES in db ? "postgres" : "sqlite";
}

/**
 * The statement written for this connection's backend: the few that differ between SQLite and
 * PostgreSQL are written twice, by hand, rather than translated by a general SQL rewriter.
 */
export function dialect<T>(db: SqlDatabase, sql: { sqlite: T; postgres: T }): T {
  return sql[backendOf(db)];
}

/** A list of any length as one bound parameter (a JSON array of strings): its elements as rows. */
export const jsonList = (db: SqlDatabase) =>
  dialect(db, {
    sqlite: "SELECT value FROM json_each(?)",
    postgres: "SELECT json_array_elements_text(?::json)",
  });
