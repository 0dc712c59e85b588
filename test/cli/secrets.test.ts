import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeHfServer } from "../fakes/hf-server.js";
import { FakeLlmServer } from "../fakes/llm-server.js";
import { FakeTogetherServer } from "../fakes/together-server.js";
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

/** Runs the CLI in `cwd`, keeping every result for the final check. */
function recordingRunner(cwd: string, env: Record<string, string>) {
  const runs: CliResult[] = [];
  const run = async (args: string[], extraEnv: Record<string, string> = {}) => {
    const r = await runCli(args, { cwd, env: { ...env, ...extraEnv } });
    runs.push(r);
    return r;
  };
  return { run, runs };
}

/** No file under `dir` and no output of `runs` holds any of `secrets`. */
function expectNoTrace(dir: string, runs: CliResult[], secrets: string[]): void {
  for (const f of filesUnder(dir)) {
    const bytes = readFileSync(f);
    for (const secret of secrets)
      expect(bytes.includes(secret), `${secret} found in ${f}`).toBe(false);
  }
  for (const r of runs)
    for (const secret of secrets) {
      expect(r.stdout, `${secret} on stdout`).not.toContain(secret);
      expect(r.stderr, `${secret} on stderr`).not.toContain(secret);
    }
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
    const { run, runs } = recordingRunner(cwd, env);
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
    expectNoTrace(cwd, runs, [
      ANTHROPIC_KEY,
      OPENAI_KEY,
      WRONG_KEY,
      "PLANTEDSECRET",
      "PLANTEDWRONGKEY",
    ]);
    // The keys did reach the server, so the runs really used them.
    expect(server.requests.some((q) => q.headers.authorization === `Bearer ${ANTHROPIC_KEY}`)).toBe(
      true,
    );
  });

  it("keeps every other provider's key out too: endpoint presets, Hugging Face and Together training", async () => {
    const keys = {
      TOGETHER_API_KEY: "tgp-PLANTEDTOGETHER-dddddddddddddddd",
      OPENROUTER_API_KEY: "sk-or-PLANTEDROUTER-eeeeeeeeeeeeeeee",
      FIREWORKS_API_KEY: "fw-PLANTEDFIREWORKS-ffffffffffffffff",
      HF_TOKEN: "hf_PLANTEDHFTOKEN-gggggggggggggggg",
    };
    const wrongTogether = "tgp-PLANTEDWRONGTOGETHER-hhhhhhhhhhhh";
    // Each preset endpoint is its own server, so each accepts only its own key.
    const presets = await Promise.all(
      (["together", "openrouter", "fireworks"] as const).map(async (name) => ({
        name,
        server: await new FakeLlmServer({
          openaiKey: keys[`${name.toUpperCase()}_API_KEY` as keyof typeof keys],
        }).start(),
      })),
    );
    const together = await new FakeTogetherServer(keys.TOGETHER_API_KEY, {
      echoKey: true,
      pollsToFinish: 1,
    }).start();
    const hf = await new FakeHfServer().start();
    hf.files.set("/o/gated/resolve/main/m.gguf", {
      body: Buffer.from("not a real model"),
      token: keys.HF_TOKEN,
    });
    try {
      const cwd = tempDir("specsci-secrets-");
      writeFileSync(
        join(cwd, "specsci.yaml"),
        [
          "defaults: { max_attempts: 2, retry_base_ms: 1 }",
          "endpoints:",
          ...presets.map((p) => `  ${p.name}: { base_url: "${p.server.url}/v1" }`),
        ].join("\n"),
      );
      writeFileSync(
        join(cwd, "reqs.jsonl"),
        ["a", "[[fault=400echo]]"].map((p, i) => JSON.stringify({ id: i, prompt: p })).join("\n"),
      );
      // A small corpus, as `msm generate` writes it, for hosted training.
      const corpus = join(cwd, "corpus");
      mkdirSync(join(corpus, "exports"), { recursive: true });
      writeFileSync(
        join(corpus, "manifest.json"),
        JSON.stringify({ format: "specsci-msm-corpus/1" }),
      );
      writeFileSync(join(corpus, "dataset.jsonl"), '{"text":"a document","token_count":3}\n');
      writeFileSync(join(corpus, "exports", "text.jsonl"), '{"text":"a document"}\n');
      const plan = (name: string) =>
        `name: ${name}\nbase_model: Qwen/Qwen3-8B\nengine: together\nstages:\n  - { name: msm, kind: midtraining, data: corpus }\n`;
      writeFileSync(join(cwd, "hosted.yaml"), plan("hosted"));
      writeFileSync(join(cwd, "failing.yaml"), plan("hosted-fail"));

      const env = {
        ...keys,
        TOGETHER_BASE_URL: together.url,
        HF_ENDPOINT: hf.url,
        SPECSCI_MODEL_CACHE: join(cwd, "models"),
      };
      const { run, runs } = recordingRunner(cwd, env);
      for (const p of presets) {
        const r = await run([
          "llm",
          "run",
          "reqs.jsonl",
          "-m",
          `${p.name}/m`,
          "-o",
          `${p.name}.jsonl`,
        ]);
        // The second request's 400 echoes the key it came with: a recorded, scrubbed failure.
        expect(r.code, r.stderr).toBe(3);
        expect(readFileSync(join(cwd, `${p.name}.jsonl`), "utf8")).toContain("Bearer [REDACTED]");
        expect(p.server.requests.some((q) => q.headers.authorization?.includes("PLANTED"))).toBe(
          true,
        );
      }
      // Hosted training: the job record echoes the key; then a job that fails with an event that
      // echoes it; then a wrong key, which the 401 echoes.
      const trained = await run(["train", "run", "hosted.yaml"]);
      expect(trained.code, trained.stderr).toBe(0);
      expect((await run(["train", "run", "failing.yaml"])).code).toBe(1);
      const wrong = await run(["train", "run", "failing.yaml"], {
        TOGETHER_API_KEY: wrongTogether,
      });
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toContain("HTTP 401");
      expect((await run(["--json", "train", "list"])).code).toBe(0);
      // A gated Hugging Face download with HF_TOKEN (the file is no model, so loading it fails).
      await run(["models", "test", "local/hf:o/gated/m.gguf"]);
      expect(hf.log.some((q) => q.auth === `Bearer ${keys.HF_TOKEN}`)).toBe(true);

      expectNoTrace(cwd, runs, [
        ...Object.values(keys),
        wrongTogether,
        "PLANTEDTOGETHER",
        "PLANTEDROUTER",
        "PLANTEDFIREWORKS",
        "PLANTEDHFTOKEN",
        "PLANTEDWRONGTOGETHER",
      ]);
    } finally {
      await Promise.all([...presets.map((p) => p.server.stop()), together.stop(), hf.stop()]);
    }
  });
});
