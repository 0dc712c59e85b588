import { execFileSync, spawnSync } from "node:child_process";
import { randomInt } from "node:crypto";
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * A real PostgreSQL server for the store's tests and the benchmarks: initdb and pg_ctl in a
 * temporary directory, listening on a unix socket there only (no TCP), on a random port number
 * (the socket's name), stopped by `stop`. Each test takes a fresh database from `database()`.
 * The test run starts one (test/global-setup.ts) and its test files, each in its own process,
 * make their databases on it through its `address`.
 */
export interface PostgresServer extends PostgresDatabases {
  readonly address: PostgresAddress;
  stop(): void;
}

/** Where a server listens: plain data, handed from vitest's global setup to the test files. */
export interface PostgresAddress {
  /** The directory of psql (and initdb, pg_ctl). */
  bin: string;
  /** The unix socket's directory. */
  socketDir: string;
  port: number;
}

export interface DatabaseOptions {
  /** An ICU locale (e.g. en-US) for the database's collation, as users' servers often have. */
  icuLocale?: string;
}

/** Databases on one server, made by one process. */
export interface PostgresDatabases {
  /** A new, empty database's URL. */
  database(options?: DatabaseOptions): string;
  /** Drops every database `database()` made (its connections closed by force). */
  dropAll(): void;
}

/** Set to 1 where PostgreSQL is not installed: its tests are then skipped, and say so. */
export const NO_POSTGRES = process.env.SPECSCI_TEST_NO_POSTGRES === "1";

/** The directory of initdb and pg_ctl: pg_config's, else the newest under /usr/lib/postgresql. */
export function postgresBin(): string | undefined {
  const fromConfig = spawnSync("pg_config", ["--bindir"], { encoding: "utf8" });
  const candidates = [fromConfig.status === 0 ? fromConfig.stdout.trim() : ""];
  const debian = "/usr/lib/postgresql";
  if (existsSync(debian))
    for (const v of readdirSync(debian).sort((a, b) => Number(b) - Number(a)))
      candidates.push(join(debian, v, "bin"));
  return candidates.find((dir) => dir && existsSync(join(dir, "initdb")));
}

/**
 * Databases on the server at `address`. Their names are unique across the processes sharing the
 * server (a random part: test files run in several processes at once, and pids are reused).
 */
export function postgresDatabases({ bin, socketDir, port }: PostgresAddress): PostgresDatabases {
  // Digits only (t and a number, as the tests' URLs are matched): 10 random, then a count.
  const prefix = `t${randomInt(1e9, 1e10)}`;
  const made: string[] = [];
  const admin = (sql: string) =>
    execFileSync(
      join(bin, "psql"),
      ["-h", socketDir, "-p", String(port), "-U", "postgres", "-d", "postgres", "-qAtc", sql],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
  return {
    database(options = {}) {
      const name = `${prefix}${made.length + 1}`;
      // template0: a locale other than the template's needs it (template1 may hold its own).
      const locale = options.icuLocale
        ? ` TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE '${options.icuLocale}'`
        : "";
      admin(`CREATE DATABASE ${name}${locale}`);
      made.push(name);
      return `postgresql://postgres@/${name}?host=${encodeURIComponent(socketDir)}&port=${port}`;
    },
    dropAll() {
      for (const name of made.splice(0)) admin(`DROP DATABASE ${name} WITH (FORCE)`);
    },
  };
}

export interface ServerOptions {
  /** PostgreSQL's default is 100; a server shared by every test worker needs more. */
  maxConnections?: number;
}

export function startPostgres(options: ServerOptions = {}): PostgresServer {
  const bin = postgresBin();
  if (!bin)
    throw new Error(
      "PostgreSQL's initdb was not found (pg_config --bindir, /usr/lib/postgresql/*/bin): install the server (Debian: apt-get install postgresql libpq-dev), or set SPECSCI_TEST_NO_POSTGRES=1 to skip the PostgreSQL store tests",
    );
  const dir = mkdtempSync(join(tmpdir(), "specsci-pg-"));
  const data = join(dir, "data");
  // initdb refuses to run as root (CI runs as root): the server then runs as Debian's postgres user.
  const asRoot = process.getuid?.() === 0;
  const as = (cmd: string, args: string[]) =>
    asRoot ? ["runuser", ["-u", "postgres", "--", cmd, ...args]] : [cmd, args];
  if (asRoot) {
    chmodSync(dir, 0o755);
    const id = execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim();
    chownSync(dir, Number(id), -1);
  }
  const run = (cmd: string, args: string[]) => {
    const [file, argv] = as(join(bin, cmd), args) as [string, string[]];
    execFileSync(file, argv, { stdio: ["ignore", "pipe", "pipe"], cwd: dir });
  };
  // Text compares by bytes (as SQLite), so a store's migration 18 has nothing to change; a test
  // of another collation makes its database with one (`database({ icuLocale })`).
  run("initdb", [
    ...["-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"],
    "--lc-collate=C",
  ]);
  const connections = options.maxConnections ? ` -c max_connections=${options.maxConnections}` : "";
  const port = 20000 + Math.floor(Math.random() * 40000);
  run("pg_ctl", [
    "-D",
    data,
    "-w",
    "-l",
    join(dir, "log"),
    "-o",
    `-k ${dir} -c listen_addresses='' -p ${port} -c fsync=off${connections}`,
    "start",
  ]);
  const address = { bin, socketDir: dir, port };
  return {
    address,
    ...postgresDatabases(address),
    stop() {
      try {
        run("pg_ctl", ["-D", data, "-m", "immediate", "stop"]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
