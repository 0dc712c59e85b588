import { execFileSync, spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { TestProject } from "vitest/node";
import { NO_POSTGRES, type PostgresServer, startPostgres } from "./postgres-process.js";
import "./postgres-server.js"; // the type of what is provided

/**
 * CLI tests run the real `specsci` binary, which runs the compiled dist/: build it once, with
 * the dashboard's app (dist/view/app), which the view tests serve. The run's one PostgreSQL
 * server starts meanwhile (initdb and the server's start take 1–2 s); the test files make their
 * databases on it (postgres-server.ts), and it stops after them.
 */
export default async function setup(project: TestProject): Promise<() => void> {
  const root = join(dirname(fileURLToPath(import.meta.url)), "..");
  const node = (script: string, args: string[]) =>
    [process.execPath, [join(root, script), ...args]] as const;
  const [tsc, tscArgs] = node("node_modules/typescript/bin/tsc", ["-p", "tsconfig.build.json"]);
  const compiling = new Promise<void>((resolve, reject) => {
    const child = spawn(tsc, tscArgs, { cwd: root, stdio: "inherit" });
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`tsc -p tsconfig.build.json exited with ${code}`)),
    );
  });
  let server: PostgresServer | undefined;
  if (NO_POSTGRES) project.provide("postgres", null);
  else
    try {
      // Every worker's test files share it: 100 connections a worker, as each file had its own.
      server = startPostgres({
        maxConnections: Math.min(1000, 100 * Math.max(2, project.config.maxWorkers)),
      });
      project.provide("postgres", server.address);
    } catch (e) {
      // Not thrown here: the tests that need PostgreSQL fail with it, the others run.
      project.provide("postgres", { error: (e as Error).message });
    }
  try {
    await compiling;
    const [vite, viteArgs] = node("node_modules/vite/bin/vite.js", [
      "build",
      "--config",
      "src/view/web/vite.config.ts",
    ]);
    execFileSync(vite, viteArgs, { cwd: root, stdio: "inherit" });
  } catch (e) {
    server?.stop();
    throw e;
  }
  return () => server?.stop();
}
