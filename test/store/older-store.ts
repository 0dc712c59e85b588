/**
 * Stores as an older specsci left them, on either backend, for migration tests: `storeAtVersionOn`
 * applies the migrations up to a version (each in its backend's SQL); the test writes the rows
 * an older specsci would have through `db`, then `open()` opens the store, which migrates them.
 */
import { join } from "node:path";
import Database from "better-sqlite3";
import type { SqlDatabase } from "../../src/store/database.js";
import { DB_FILE_NAME, Store } from "../../src/store/db.js";
import { MIGRATIONS, postgresSql } from "../../src/store/migrations.js";
import { PgDatabase } from "../../src/store/postgres.js";
import { tempDir } from "../helpers.js";

/** The specsci.yaml of a test's store: `{}` for the workspace's SQLite file, or `store: URL`. */
export type StoreConfig = { store?: string };

/** A store on this backend at schema `version`; `open()` closes `db` and opens the store. */
export function storeAtVersionOn(store: StoreConfig, version: number) {
  const dir = tempDir(`specsci-v${version}-store-`);
  const url = store.store;
  const db: SqlDatabase = url ? new PgDatabase(url) : new Database(join(dir, DB_FILE_NAME));
  for (const m of MIGRATIONS.filter((x) => x.version <= version))
    db.exec(url ? postgresSql(m) : m.sql);
  db.pragma(`user_version = ${version}`);
  const open = () => {
    db.close();
    return Store.open(dir, url ? { url } : {});
  };
  return { db, open };
}
