import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * A real PostgreSQL server for the store's tests and the benchmarks: initdb and pg_ctl in a
 * temporary directory, listening on a unix socket there only (no TCP), on a random port number
 * (the socket's name), stopped by `stop`. Each test takes a fresh database from `database()`.
 */
export interface PostgresServer {
  /** A new, empty database's URL. */
  database(): string;
  stop(): void;
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

export function startPostgres(): PostgresServer {
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
  run("initdb", ["-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"]);
  const port = 20000 + Math.floor(Math.random() * 40000);
  run("pg_ctl", [
    "-D",
    data,
    "-w",
    "-l",
    join(dir, "log"),
    "-o",
    `-k ${dir} -c listen_addresses='' -p ${port} -c fsync=off`,
    "start",
  ]);
  let made = 0;
  const admin = (sql: string) =>
    execFileSync(
      join(bin, "psql"),
      ["-h", dir, "-p", String(port), "-U", "postgres", "-qAtc", sql],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
  return {
    database() {
      const name = `t${++made}`;
      admin(`CREATE DATABASE ${name}`);
      return `postgresql://postgres@/${name}?host=${encodeURIComponent(dir)}&port=${port}`;
    },
    stop() {
      try {
        run("pg_ctl", ["-D", data, "-m", "immediate", "stop"]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
