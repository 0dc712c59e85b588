import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeLlmServer } from "../fakes/llm-server.js";
import { type CliResult, cleanupTempDirs, runCli, tempDir } from "../helpers.js";

const ANTHROPIC_KEY = "sk-ant-api03-PLANTEDSECRET-aaaaaaaaaaaaaaaa";
const OPENAI_KEY = "sk-proj-PLANTEDSECRET-bbbbbbbbbbbbbbbb";
const WRONG_KEY = "sk-ant-api03-PLANTEDWRONGKEY-cccccccccccc";
let server: FakeLlmServer;

beforeAll(async () => {
  server = await new FakeLlmServer({ anthropicKey: ANTHROPIC_KEY, openaiKey: OPENAI_KEY }).start();
});
afterAll(async () => {
  await server.stop();
  cleanupTempDirs();
});

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

describe("API keys are written nowhere", () => {
  it("leaves no trace of planted keys in any file a run writes, or in its output", async () => {
    const cwd = tempDir("specsci-secrets-");
    writeFileSync(
      join(cwd, "specsci.yaml"),
      [
        "defaults: { max_attempts: 2, retry_base_ms: 1 }",
        `providers: { anthropic: { base_url: "${server.url}" }, openai: { base_url: "${server.url}/v1" } }`,
        `endpoints: { compat: { base_url: "${server.url}/v1", api_key_env: OPENAI_API_KEY, batch: true } }`,
        "batch: { poll_interval_s: 0.01 }",
      ].join("\n"),
    );
    writeFileSync(
      join(cwd, "reqs.jsonl"),
      ["a", "b", "[[fault=500 times=1]]", "[[fault=400echo]]"]
        .map((p, i) => JSON.stringify({ id: i, prompt: p }))
        .join("\n"),
    );
    const env = {
      ANTHROPIC_API_KEY: ANTHROPIC_KEY,
      OPENAI_API_KEY: OPENAI_KEY,
      SPECSCI_MODEL_CACHE: join(cwd, "models"),
    };
    const runs: CliResult[] = [];
    const run = async (args: string[], extraEnv: Record<string, string> = {}) => {
      const r = await runCli(args, { cwd, env: { ...env, ...extraEnv } });
      runs.push(r);
      return r;
    };
    expect((await run(["models", "test", "anthropic/claude-haiku-4-5"])).code).toBe(0);
    expect((await run(["models", "test", "openai/gpt-4.1-mini", "-v"])).code).toBe(0);
    const runFile = async (model: string, out: string, ...extra: string[]) =>
      (await run(["llm", "run", "reqs.jsonl", "-m", model, "-o", out, ...extra])).code;
    // The last request gets a 400 whose message echoes the key: the run ends with a recorded failure.
    expect(await runFile("anthropic/claude-haiku-4-5", "out1.jsonl")).toBe(3);
    expect(readFileSync(join(cwd, "out1.jsonl"), "utf8")).toContain(
      "credentials Bearer [REDACTED]",
    );
    expect(await runFile("openai/gpt-4.1-mini", "out2.jsonl", "--batch")).toBe(0);
    expect(await runFile("compat/m", "out3.jsonl")).toBe(3);
    expect((await run(["quickstart", "-m", "anthropic/claude-haiku-4-5"])).code).toBe(0);
    // A wrong key: the fake server echoes it back in its 401 message.
    const bad = await run(
      ["models", "test", "anthropic/claude-haiku-4-5", "-p", "with a wrong key"],
      { ANTHROPIC_API_KEY: WRONG_KEY },
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/rejected the API key .*check ANTHROPIC_API_KEY/);
    expect(
      (
        await run(["llm", "run", "reqs.jsonl", "-m", "anthropic/claude-opus-4-5"], {
          ANTHROPIC_API_KEY: WRONG_KEY,
        })
      ).code,
    ).toBe(3);
    for (const args of [
      ["usage"],
      ["--json", "usage"],
      ["batch", "list"],
      ["store", "info"],
      ["models", "list"],
      ["--json", "models", "list"],
    ]) {
      expect((await run(args)).code).toBe(0);
    }

    const files = filesUnder(cwd);
    expect(files.some((f) => f.endsWith("store.db"))).toBe(true);
    expect(files.some((f) => f.endsWith("store.db-wal") || f.endsWith("store.db"))).toBe(true);
    for (const f of files) {
      const bytes = readFileSync(f);
      for (const secret of [
        ANTHROPIC_KEY,
        OPENAI_KEY,
        WRONG_KEY,
        "PLANTEDSECRET",
        "PLANTEDWRONGKEY",
      ]) {
        expect(bytes.includes(secret), `${secret} found in ${f}`).toBe(false);
      }
    }
    for (const r of runs) {
      for (const secret of ["PLANTEDSECRET", "PLANTEDWRONGKEY"]) {
        expect(r.stdout).not.toContain(secret);
        expect(r.stderr).not.toContain(secret);
      }
    }
    // The keys did reach the server, so the runs really used them.
    expect(server.requests.some((q) => q.headers.authorization === `Bearer ${ANTHROPIC_KEY}`)).toBe(
      true,
    );
  });
});
