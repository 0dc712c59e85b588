import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXIT_USER_ERROR } from "../../src/cli/exit-codes.js";
import { FakeLlmServer } from "../fakes/llm-server.js";
import { cleanupTempDirs, runCli, tempDir } from "../helpers.js";

let server: FakeLlmServer;
let cwd: string;

beforeAll(async () => {
  server = await new FakeLlmServer({ latencyMs: 2, record: false }).start();
  cwd = tempDir("specsci-pref-cli-");
  writeFileSync(
    join(cwd, "specsci.yaml"),
    `endpoints: { loop: { base_url: "${server.url}/v1", max_in_flight: 4 } }\ndefaults: { max_attempts: 2, retry_base_ms: 1 }\n`,
  );
  writeFileSync(
    join(cwd, "pref.yaml"),
    "aft: { model: loop/aft-teacher, counts: { domains: 1, prompts: 6 }, concurrency: 4 }\npairs: 8\n",
  );
});
afterAll(async () => {
  await server.stop();
  cleanupTempDirs();
});

describe("specsci aft pref", () => {
  it("writes a preference set with its contamination counted in the manifest", async () => {
    const r = await runCli(
      ["aft", "pref", "rules", "-r", "pref.yaml", "-o", "out", "--contamination", "0.25"],
      { cwd },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/out: 8 pairs from \d+ AFT examples/);
    expect(r.stdout).toContain("contamination: 2 of 8 pairs misaligned (asked 2)");
    const m = JSON.parse(readFileSync(join(cwd, "out", "manifest.json"), "utf8"));
    expect(m.contamination).toMatchObject({ kind: "misaligned", target: 2, pairs: 2 });
    const pairs = readFileSync(join(cwd, "out", "pairs.jsonl"), "utf8")
      .trim()
      .split("\n");
    expect(pairs.map((l) => JSON.parse(l).contamination).filter(Boolean)).toHaveLength(2);
  }, 120_000);

  it("a bad setting is one message naming it", async () => {
    writeFileSync(join(cwd, "bad.yaml"), "pairs: 8\ncontamination: { fraction: 2 }\n");
    const bad = await runCli(["aft", "pref", "rules", "-r", "bad.yaml"], { cwd });
    expect(bad.code).toBe(EXIT_USER_ERROR);
    expect(bad.stderr).toMatch(/bad\.yaml:2:\d+: contamination\.fraction/);
    const flag = await runCli(["aft", "pref", "rules", "--contamination", "1.5"], { cwd });
    expect(flag.code).toBe(EXIT_USER_ERROR);
    expect(flag.stderr).toContain(
      "--contamination 1.5: the contaminated share of the pairs is 0 to 1",
    );
  });
});
