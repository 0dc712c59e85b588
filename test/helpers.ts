import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { LlmClient } from "../src/llm/client.js";
import { type CacheMode, ConfigSchema } from "../src/llm/config.js";
import { specHash } from "../src/spec/hash.js";
import { checkSpecFile } from "../src/spec/io.js";
import { resolveSpecRef } from "../src/spec/library.js";
import { DB_FILE_NAME, Store } from "../src/store/db.js";
import { MIGRATIONS } from "../src/store/migrations.js";
import type { ModelArtifact } from "../src/train/models.js";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
export const BIN = join(ROOT, "bin", "specsci.js");

const cleanups: (() => void)[] = [];

export function tempDir(prefix = "specsci-test-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function cleanupTempDirs(): void {
  for (const c of cleanups.splice(0)) c();
}

/**
 * A workspace whose store is at an older schema `version` (its migrations up to it applied), with
 * one eval run `r`, for migration tests; close `db` before `Store.open(dir)` migrates it.
 */
export function storeAtVersion(version: number): { dir: string; db: Database.Database } {
  const dir = tempDir(`specsci-v${version}-store-`);
  const db = new Database(join(dir, DB_FILE_NAME));
  for (const m of MIGRATIONS.filter((x) => x.version <= version)) db.exec(m.sql);
  db.pragma(`user_version = ${version}`);
  db.prepare(
    "INSERT INTO runs (id, kind, created_at, updated_at) VALUES ('r', 'eval', 'now', 'now')",
  ).run();
  return { dir, db };
}

/** A store and client over a fresh workspace; `config` is the parsed form of a specsci.yaml. */
export function makeClient(config: Record<string, unknown> = {}, cacheMode?: CacheMode) {
  const dir = tempDir();
  const parsed = ConfigSchema.parse(config);
  // A config's store: (a PostgreSQL URL) is the store, as in the CLI.
  const store = Store.open(join(dir, "ws"), parsed.store ? { url: parsed.store } : {});
  const client = new LlmClient(
    cacheMode ? { store, config: parsed, cacheMode } : { store, config: parsed },
  );
  return { dir, store, client, config: parsed };
}

/** Fast retries so fault tests finish quickly. */
export const FAST_RETRIES = { max_attempts: 4, retry_base_ms: 5, retry_max_ms: 50, timeout_s: 2 };

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the real specsci binary. */
export function runCli(
  args: string[],
  opts: { cwd?: string; env?: Record<string, string | undefined>; input?: string } = {},
): Promise<CliResult> {
  return new Promise((resolve) => {
    // SPECSCI_PROF=<dir>: a CPU profile of every CLI run, to see where a slow test's time goes.
    const prof = process.env.SPECSCI_PROF
      ? ["--cpu-prof", `--cpu-prof-dir=${process.env.SPECSCI_PROF}`]
      : [];
    const child = spawn(process.execPath, [...prof, BIN, ...args], {
      cwd: opts.cwd ?? ROOT,
      env: { ...process.env, ...opts.env, FORCE_COLOR: "0" },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    child.stdin.end(opts.input ?? "");
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Rows in a table of a store another process is writing; 0 before the store exists or is migrated. */
export function countRows(db: string, table: "llm_calls" | "eval_samples" | "items"): number {
  if (!existsSync(db)) return 0;
  const conn = new Database(db, { readonly: true, fileMustExist: true });
  try {
    return (conn.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  } catch {
    return 0; // not migrated yet
  } finally {
    conn.close();
  }
}

/** A trained-model record as training registers it, for tests that plant one in the store. */
export function modelRecord(id: string, origin?: unknown): Record<string, unknown> {
  const [run, stage] = id.split("/");
  return {
    id,
    run,
    plan: `${run}.yaml`,
    base_model: "Qwen/Qwen3-8B",
    stage,
    stages: [],
    seed: 0,
    engine: "axolotl",
    hyperparameters: {},
    output_dir: `/runs/${id}`,
    adapter: true,
    configs: {},
    specsci: null,
    origin,
  };
}

/** A built-in spec as a build takes it: the spec, its hash and its name. */
export function librarySpec(name: string) {
  const spec = checkSpecFile(resolveSpecRef(name)).spec;
  return { spec, specHash: specHash(spec), specName: name };
}

/** A trained LoRA adapter's record, as `train run` registers one (for serving tests). */
export function adapterArtifact(id: string, base: string): ModelArtifact {
  return {
    id,
    run: id,
    plan: "p",
    base_model: base,
    stage: "aft",
    stages: [],
    seed: 0,
    engine: "axolotl",
    hyperparameters: { lora_r: 16 },
    output_dir: `/runs/${id}`,
    adapter: true,
    configs: {},
    specsci: {},
  };
}
