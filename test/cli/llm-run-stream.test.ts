import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { answerFor, FakeLlmServer } from "../fakes/llm-server.js";
import { BIN, cleanupTempDirs, countRows, runCli, tempDir } from "../helpers.js";

let server: FakeLlmServer;

beforeAll(async () => {
  server = await new FakeLlmServer({ latencyMs: 1, record: false }).start();
});
afterAll(async () => {
  await server.stop();
  cleanupTempDirs();
});

function workspace(lines: string[]): string {
  const cwd = tempDir("specsci-llm-stream-");
  writeFileSync(
    join(cwd, "specsci.yaml"),
    `endpoints: { loop: { base_url: "${server.url}/v1", max_in_flight: 8 } }\n`,
  );
  writeFileSync(join(cwd, "reqs.jsonl"), `${lines.join("\n")}\n`);
  return cwd;
}

const rowsOf = (text: string) =>
  text
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>);

/**
 * A results file without what says how this run got each answer (from the API or the cache, at
 * what cost to this run — nothing, from the cache — and how fast): the answers themselves stay.
 */
const answersOf = (text: string) =>
  text
    .replace(/"cost_usd":(null|[\d.e-]+),"source":"(api|cache)"/g, '"cost_usd":_,"source":_')
    .replace(/"latency_ms":[\d.]+/g, '"latency_ms":_');

describe("llm run streams its results", () => {
  it("writes results in input order when an early request finishes last", async () => {
    // The first request is refused twice with a Retry-After, so every other answer comes before it.
    const lines = [
      JSON.stringify({ id: "slow", prompt: "[[fault=429 times=2 retry_after=0.3]] slow one" }),
      ...Array.from({ length: 200 }, (_, i) =>
        JSON.stringify({ id: `q${i}`, prompt: `fast ${i}` }),
      ),
    ];
    const cwd = workspace(lines);
    const r = await runCli(["llm", "run", "reqs.jsonl", "-m", "loop/m", "-o", "out.jsonl"], {
      cwd,
    });
    expect(r.code, r.stderr).toBe(0);
    const rows = rowsOf(readFileSync(join(cwd, "out.jsonl"), "utf8"));
    expect(rows.map((row) => row.id)).toEqual([
      "slow",
      ...Array.from({ length: 200 }, (_, i) => `q${i}`),
    ]);
    expect(rows[0]).toMatchObject({ ok: true });
    expect(rows[200]).toMatchObject({
      ok: true,
      text: answerFor([{ role: "user", content: "fast 199" }]),
    });
    expect(existsSync(join(cwd, "out.jsonl.partial"))).toBe(false);

    // The same order on standard output, streamed.
    const again = await runCli(["llm", "run", "reqs.jsonl", "-m", "loop/m"], { cwd });
    expect(rowsOf(again.stdout).map((row) => row.id)).toEqual(rows.map((row) => row.id));
  });

  it("killed with SIGKILL mid-run leaves no output file, and the resumed run writes the same answers as an unbroken one", async () => {
    const N = 2000;
    const lines = Array.from({ length: N }, (_, i) =>
      JSON.stringify({ id: `r${i}`, prompt: `stream prompt ${i}` }),
    );
    const args = ["llm", "run", "reqs.jsonl", "-m", "loop/m", "-o", "out.jsonl", "--run", "s"];
    const cwd = workspace(lines);
    const db = join(cwd, ".specsci", "store.db");
    const partial = join(cwd, "out.jsonl.partial");
    const child = spawn(process.execPath, [BIN, ...args], { cwd, stdio: "ignore" });
    const closed = new Promise((r) => child.once("close", r));
    while (countRows(db, "llm_calls") < N / 3) await new Promise((r) => setTimeout(r, 20));
    // The results were being written as they came, into the partial file only.
    expect(existsSync(partial)).toBe(true);
    child.kill("SIGKILL");
    await closed;
    expect(countRows(db, "llm_calls")).toBeLessThan(N);
    expect(existsSync(join(cwd, "out.jsonl"))).toBe(false);
    expect(readFileSync(partial, "utf8").split("\n").length).toBeGreaterThan(1);

    const resumed = await runCli(args, { cwd });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(new RegExp(`${N}/${N} ok, 0 failed, [1-9]\\d* from cache`));
    expect(existsSync(partial)).toBe(false);
    const written = readFileSync(join(cwd, "out.jsonl"), "utf8");

    const unbroken = workspace(lines);
    const ref = await runCli(args, { cwd: unbroken });
    expect(ref.code, ref.stderr).toBe(0);
    const reference = readFileSync(join(unbroken, "out.jsonl"), "utf8");
    expect(rowsOf(reference)).toHaveLength(N);
    expect(answersOf(written)).toBe(answersOf(reference));
  });
});
