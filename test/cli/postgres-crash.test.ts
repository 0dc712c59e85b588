/**
 * A driver on a PostgreSQL run store killed with kill -9 mid-run: a second driver of the same
 * experiment is refused while it runs (the experiment's advisory lock names the holder), the
 * server frees the lock when the killed driver's connection dies, and the re-run finishes with
 * every sample exactly once and a consistent call log.
 */
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { PgDatabase } from "../../src/store/postgres.js";
import { FakeLlmServer } from "../fakes/llm-server.js";
import { BIN, cleanupTempDirs, runCli, tempDir } from "../helpers.js";
import { describePostgres, usePostgres } from "../postgres-server.js";

afterAll(cleanupTempDirs);

const EXPERIMENT = `name: pg-crash
specs: { rules: rules }
arms:
  - { name: baseline, kind: baseline }
  - { name: rules, kind: prompted, spec: rules }
models: [loop/agent]
evals:
  - { name: am, task: agentic-misalignment, conditions: [leaking_none-none_replacement, coercion_explicit-america_replacement], epochs: 2 }
judge: { model: loop/judge }
`;
const SAMPLES = 8;

/** One number from the store, or 0 before it is migrated. */
function scalar(url: string, sql: string): number {
  const db = new PgDatabase(url);
  try {
    return db.prepare(sql).pluck().get() as number;
  } catch {
    return 0;
  } finally {
    db.close();
  }
}

describePostgres("a driver killed with kill -9 on PostgreSQL", () => {
  const server = usePostgres();

  it("refuses a second driver while it runs, and resumes after kill -9 with 0 lost or duplicated samples", async () => {
    const slow = await new FakeLlmServer({ latencyMs: 20, record: false }).start();
    try {
      const url = server().database();
      const cwd = tempDir("specsci-pg-crash-");
      const env = { SPECSCI_STORE_URL: url, SPECSCI_WORKSPACE: join(cwd, "ws") };
      writeFileSync(
        join(cwd, "specsci.yaml"),
        `endpoints: { loop: { base_url: "${slow.url}/v1", max_in_flight: 1 } }\n`,
      );
      writeFileSync(join(cwd, "experiment.yaml"), EXPERIMENT);
      const child = spawn(process.execPath, [BIN, "run", "experiment.yaml"], {
        cwd,
        stdio: "ignore",
        env: { ...process.env, ...env },
      });
      const closed = new Promise((r) => child.once("close", r));
      const samples = () => scalar(url, "SELECT count(*) FROM eval_samples");
      // Mid-way: once a sample is stored, the server holds its answers, so the driver stays
      // under way (its lock held) until it is killed.
      while (samples() < 1) await new Promise((r) => setTimeout(r, 10));
      slow.options.latencyMs = 20_000;

      const second = await runCli(["run", "experiment.yaml"], { cwd, env });
      expect(second.code, second.stderr).toBe(1);
      expect(second.stderr).toContain(
        `experiment "pg-crash" is already being run by pid ${child.pid} on `,
      );
      expect(second.stderr).toContain("(`specsci run experiment.yaml`)");
      expect(second.stderr).toMatch(/wait for that run to finish, or stop it/);

      child.kill("SIGKILL");
      await closed;
      const atKill = samples();
      expect(atKill).toBeGreaterThan(0);
      expect(atKill).toBeLessThan(SAMPLES);

      slow.options.latencyMs = 1;
      const again = await runCli(["run", "experiment.yaml"], { cwd, env });
      expect(again.code, again.stderr).toBe(0);
      expect(scalar(url, "SELECT count(*) FROM eval_samples WHERE status = 'done'")).toBe(SAMPLES);
      // The call log: no call row without its cached response, no call paid for twice, no failure.
      expect(
        scalar(
          url,
          "SELECT count(*) FROM llm_calls c LEFT JOIN llm_cache k ON k.key = c.cache_key WHERE k.key IS NULL",
        ),
      ).toBe(0);
      expect(
        scalar(
          url,
          "SELECT count(*) FROM (SELECT cache_key FROM llm_calls WHERE source = 'api' GROUP BY cache_key HAVING count(*) > 1) d",
        ),
      ).toBe(0);
      expect(scalar(url, "SELECT count(*) FROM llm_calls WHERE status = 'failed'")).toBe(0);
      expect(scalar(url, "SELECT count(*) FROM run_locks")).toBe(0);
    } finally {
      await slow.stop();
    }
  }, 60_000);
});
