import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { answerFor, FakeLlmServer } from "../fakes/llm-server.js";
import { BIN, cleanupTempDirs, countRows, runCli, tempDir } from "../helpers.js";

const N = 3000;
const IN_FLIGHT = 16;
let server: FakeLlmServer;

beforeAll(async () => {
  // A little latency so the run takes long enough to be killed in the middle.
  server = await new FakeLlmServer({ latencyMs: 2, record: false }).start();
});
afterAll(async () => {
  await server.stop();
  cleanupTempDirs();
});

describe("crash and restart", () => {
  it("a run killed with SIGKILL part-way and restarted does every call exactly once", async () => {
    const cwd = tempDir("specsci-crash-");
    writeFileSync(
      join(cwd, "specsci.yaml"),
      `endpoints: { loop: { base_url: "${server.url}/v1", max_in_flight: ${IN_FLIGHT} } }\n`,
    );
    const lines = Array.from({ length: N }, (_, i) =>
      JSON.stringify({ id: `r${i}`, prompt: `crash prompt ${i}` }),
    );
    writeFileSync(join(cwd, "reqs.jsonl"), `${lines.join("\n")}\n`);
    const args = ["llm", "run", "reqs.jsonl", "-m", "loop/m", "-o", "out.jsonl", "--run", "crash"];
    const db = join(cwd, ".specsci", "store.db");

    const child = spawn(process.execPath, [BIN, ...args], { cwd, stdio: "ignore" });
    const closed = new Promise((r) => child.once("close", r));
    while (countRows(db, "llm_calls") < N / 3) await new Promise((r) => setTimeout(r, 20));
    child.kill("SIGKILL");
    await closed;
    const atKill = countRows(db, "llm_calls");
    expect(atKill).toBeGreaterThan(0);
    expect(atKill).toBeLessThan(N);
    expect(existsSync(join(cwd, "out.jsonl"))).toBe(false); // the output is written whole or not at all

    const restart = await runCli(args, { cwd });
    expect(restart.code, restart.stderr).toBe(0);

    // Every request has exactly one answer, the right one, in order.
    const out = readFileSync(join(cwd, "out.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(out).toHaveLength(N);
    for (const [i, row] of out.entries()) {
      expect(row.id).toBe(`r${i}`);
      expect(row.ok).toBe(true);
      expect(row.text).toBe(answerFor([{ role: "user", content: `crash prompt ${i}` }]));
    }
    // The store holds exactly one answered model call per request, and no failures.
    const conn = new Database(db, { readonly: true });
    const perKey = conn
      .prepare(
        "SELECT cache_key, count(*) AS n FROM llm_calls WHERE source = 'api' GROUP BY cache_key",
      )
      .all() as { n: number }[];
    const failed = (
      conn.prepare("SELECT count(*) AS n FROM llm_calls WHERE status = 'failed'").get() as {
        n: number;
      }
    ).n;
    const cached = (conn.prepare("SELECT count(*) AS n FROM llm_cache").get() as { n: number }).n;
    conn.close();
    expect(perKey).toHaveLength(N);
    expect(perKey.every((r) => r.n === 1)).toBe(true);
    expect(failed).toBe(0);
    expect(cached).toBe(N);
    // The provider answered each prompt once, except the few in flight at the kill, answered again.
    const served = [...server.served.values()];
    expect(served.length).toBe(N);
    const repeats = served.filter((n) => n > 1).length;
    expect(repeats).toBeLessThanOrEqual(IN_FLIGHT);
    expect(served.every((n) => n <= 2)).toBe(true);
  });
});
