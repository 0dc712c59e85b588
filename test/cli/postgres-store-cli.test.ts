/**
 * The CLI on a PostgreSQL run store (SPECSCI_STORE_URL): an experiment runs, resumes from the
 * store and reports its status, with nothing written to a SQLite file and no password printed.
 * (A small experiment on the loopback fake: `quickstart --demo` is the same `run` over the local
 * model, and costs a minute of the suite's ten.)
 */
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { SCHEMA_VERSION } from "../../src/store/migrations.js";
import { PgDatabase } from "../../src/store/postgres.js";
import { FakeLlmServer } from "../fakes/llm-server.js";
import { cleanupTempDirs, runCli, tempDir } from "../helpers.js";
import { describePostgres, usePostgres } from "../postgres-server.js";

afterAll(cleanupTempDirs);

/** Two arms × two scenarios × two epochs: eight samples, each with one judge's verdict. */
const EXPERIMENT = `name: pg-cli
specs: { values: value-augmented }
arms:
  - { name: none, kind: baseline }
  - { name: values, kind: prompted, spec: values }
models: [loop/agent]
evals:
  - { name: am, task: agentic-misalignment, conditions: [coercion_explicit-america_replacement, exfiltration_none-none_replacement], epochs: 2 }
judge: { model: loop/judge }
`;
const SAMPLES = 8;

describePostgres("specsci on a PostgreSQL run store", () => {
  const server = usePostgres();

  it("runs an experiment, resumes it from the store and shows its status", async () => {
    const model = await new FakeLlmServer({ record: false }).start();
    try {
      const url = server().database().replace("postgres@", "postgres:pw-never-shown-42@");
      const cwd = tempDir();
      const env = { SPECSCI_STORE_URL: url, SPECSCI_WORKSPACE: join(cwd, "ws") };
      writeFileSync(
        join(cwd, "specsci.yaml"),
        `endpoints: { loop: { base_url: "${model.url}/v1" } }\n`,
      );
      writeFileSync(join(cwd, "experiment.yaml"), EXPERIMENT);
      const first = await runCli(["run", "experiment.yaml"], { cwd, env });
      expect(first.code, first.stderr).toBe(0);
      const again = await runCli(["run", "experiment.yaml"], { cwd, env });
      expect(again.code, again.stderr).toBe(0);
      const status = await runCli(["status", "experiment.yaml"], { cwd, env });
      expect(status.code).toBe(0);
      expect(status.stdout).toContain("2/2 stage(s) done");
      const usage = await runCli(["usage"], { cwd, env });
      expect(usage.code).toBe(0);
      const info = await runCli(["store", "info", "--json"], { cwd, env });
      expect(info.code, info.stderr).toBe(0);
      // One answer and one judge's verdict per sample, all from the first run: the second
      // resumed from the store and called nothing.
      expect(JSON.parse(info.stdout)).toMatchObject({
        database: url.replace(":pw-never-shown-42@", ":***@"),
        schema_version: SCHEMA_VERSION,
        model_calls: 2 * SAMPLES,
      });
      expect(JSON.parse(info.stdout).size_bytes).toBeGreaterThan(0);
      const check = await runCli(["store", "check"], { cwd, env });
      expect(check.stdout).toBe(
        `ok: ${url.replace(":pw-never-shown-42@", ":***@")} is consistent\n`,
      );
      const db = new PgDatabase(url);
      expect(db.prepare("SELECT count(*) FROM eval_samples").pluck().get()).toBe(SAMPLES);
      db.close();
      expect(existsSync(join(cwd, "ws", "store.db"))).toBe(false);
      for (const out of [first, again, status, usage, info, check])
        expect(out.stdout + out.stderr).not.toContain("pw-never");
    } finally {
      await model.stop();
    }
  }, 120_000);

  it("takes the store from specsci.yaml's store: (no password there), SPECSCI_STORE_URL winning", async () => {
    const url = server().database();
    const cwd = tempDir();
    writeFileSync(join(cwd, "specsci.yaml"), `store: "${url}"\n`);
    const env = { SPECSCI_WORKSPACE: join(cwd, "ws"), SPECSCI_STORE_URL: undefined };
    const info = await runCli(["store", "info", "--json"], { cwd, env });
    expect(info.code, info.stderr).toBe(0);
    expect(JSON.parse(info.stdout)).toMatchObject({ database: url });
    expect(existsSync(join(cwd, "ws", "store.db"))).toBe(false);
    // The variable wins: a database that does not exist is named, so it was the one tried.
    const missing = url.replace(/\/t\d+\?/, "/no_such_db?");
    const r = await runCli(["usage"], { cwd, env: { ...env, SPECSCI_STORE_URL: missing } });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("no_such_db");
  }, 120_000);

  it("names the server it cannot reach, without the password, and exits non-zero", async () => {
    const url = server().database().replace("postgres@", "postgres:pw-never-shown-42@");
    const missing = url.replace(/\/t\d+\?/, "/no_such_db?");
    const r = await runCli(["usage"], {
      cwd: tempDir(),
      env: { SPECSCI_STORE_URL: missing },
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(
      /cannot connect to the run store postgresql:\/\/postgres:\*\*\*@\/no_such_db/,
    );
    expect(r.stderr).toContain("SPECSCI_STORE_URL");
    expect(r.stderr).not.toContain("pw-never");
  });
});
