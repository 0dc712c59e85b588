/**
 * The run stores a benchmark measures: SQLite, then PostgreSQL on a server of its own
 * (test/postgres-process.ts: a unix socket, fsync off) when PostgreSQL is installed; where it is
 * not, the benchmark says it skipped it. BENCH_BACKENDS=sqlite or =postgres runs one.
 */
import { postgresBin, startPostgres } from "../test/postgres-process.js";

export interface BenchBackend {
  name: "SQLite" | "PostgreSQL";
  /** The store's URL; undefined for the workspace's SQLite file. */
  url: string | undefined;
}

export async function onBackends(run: (backend: BenchBackend) => Promise<void>): Promise<void> {
  const only = process.env.BENCH_BACKENDS;
  if (only !== "postgres") await run({ name: "SQLite", url: undefined });
  if (only === "sqlite") return;
  if (!postgresBin()) {
    process.stdout.write(
      "\nPostgreSQL: skipped (initdb not found: install Debian's postgresql to measure it)\n",
    );
    return;
  }
  const server = startPostgres();
  try {
    await run({ name: "PostgreSQL", url: server.database() });
  } finally {
    server.stop();
  }
}
