import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { loadExperiment } from "../../src/experiment/config.js";
import {
  DEFAULT_GGUF,
  resolveQuickstartModels,
  writeQuickstartExperiment,
} from "../../src/experiment/quickstart.js";
import { buildTinyModel } from "../../src/llm/local/tiny-model.js";
import { DEFAULT_MODELS } from "../../src/llm/models.js";
import { FakeHfServer } from "../fakes/hf-server.js";
import { cleanupTempDirs, tempDir } from "../helpers.js";

let hf: FakeHfServer;
const saved = { ...process.env };
beforeAll(async () => {
  hf = await new FakeHfServer().start();
});
afterEach(() => {
  for (const k of ["HF_ENDPOINT", "ANTHROPIC_API_KEY", "OPENAI_API_KEY"]) process.env[k] = saved[k];
});
afterAll(async () => {
  await hf.stop();
  cleanupTempDirs();
});

const DEFAULT_PATH = `/${DEFAULT_GGUF.replace(/^([^/]+\/[^/]+)\//, "$1/resolve/main/")}`;

describe("quickstart model resolution", () => {
  it("prefers --model, then --demo, then an API key", async () => {
    const cacheDir = tempDir();
    process.env.ANTHROPIC_API_KEY = "sk-ant-test";
    expect(await resolveQuickstartModels({ model: "vllm/q", cacheDir })).toMatchObject({
      model: "vllm/q",
      judge: "vllm/q",
      source: "--model",
      local: false,
      selfJudged: true,
    });
    expect(await resolveQuickstartModels({ demo: true, cacheDir })).toMatchObject({
      model: "local/builtin:tiny",
      judge: "local/builtin:tiny-judge",
      synthetic: true,
    });
    expect(await resolveQuickstartModels({ cacheDir })).toMatchObject({
      model: DEFAULT_MODELS.anthropic.target,
      judge: DEFAULT_MODELS.anthropic.judge,
      source: "ANTHROPIC_API_KEY",
      selfJudged: false,
    });
    expect(await resolveQuickstartModels({ cacheDir, judge: "openai/gpt-5.4" })).toMatchObject({
      model: "anthropic/claude-haiku-4-5",
      judge: "openai/gpt-5.4",
      source: "ANTHROPIC_API_KEY",
    });
    process.env.ANTHROPIC_API_KEY = "";
    process.env.OPENAI_API_KEY = "sk-test";
    expect(await resolveQuickstartModels({ cacheDir })).toMatchObject({
      model: DEFAULT_MODELS.openai.target,
      judge: DEFAULT_MODELS.openai.judge,
      source: "OPENAI_API_KEY",
    });
  });

  it("takes specsci.yaml's defaults.target and defaults.judge before any key", async () => {
    const cacheDir = tempDir();
    process.env.ANTHROPIC_API_KEY = "sk-ant-test";
    const defaults = { target: "vllm/mine", judge: "vllm/judge" };
    expect(await resolveQuickstartModels({ cacheDir, defaults })).toMatchObject({
      model: "vllm/mine",
      judge: "vllm/judge",
      source: "defaults.target",
      selfJudged: false,
    });
    // --model without --judge: the configured judge, so the model does not judge itself.
    expect(
      await resolveQuickstartModels({
        cacheDir,
        model: "vllm/q",
        defaults: { judge: "vllm/judge" },
      }),
    ).toMatchObject({ model: "vllm/q", judge: "vllm/judge", selfJudged: false });
  });

  it("downloads the default GGUF with progress once, then finds it (or another) in the cache", async () => {
    process.env.ANTHROPIC_API_KEY = "";
    process.env.OPENAI_API_KEY = "";
    process.env.HF_ENDPOINT = hf.url;
    const cacheDir = tempDir();
    const body = buildTinyModel();
    hf.files.set(DEFAULT_PATH, { body });
    const progress: number[] = [];
    const got = await resolveQuickstartModels({
      cacheDir,
      onDownloadProgress: (received) => progress.push(received),
    });
    expect(got).toMatchObject({
      model: `local/hf:${DEFAULT_GGUF}`,
      source: "download",
      local: true,
    });
    expect(progress.at(-1)).toBe(body.length);
    const gets = hf.log.filter((l) => l.method === "GET" && l.path === DEFAULT_PATH).length;
    expect(await resolveQuickstartModels({ cacheDir })).toMatchObject({
      model: `local/hf:${DEFAULT_GGUF}`,
      source: "cached GGUF",
    });
    expect(hf.log.filter((l) => l.method === "GET" && l.path === DEFAULT_PATH).length).toBe(gets);

    // Without the default, any cached .gguf will do; built-in models do not count.
    const other = tempDir();
    mkdirSync(join(other, "builtin"), { recursive: true });
    writeFileSync(join(other, "builtin", "specsci-tiny.gguf"), body);
    mkdirSync(join(other, "mine"), { recursive: true });
    writeFileSync(join(other, "mine", "model.gguf"), body);
    expect(await resolveQuickstartModels({ cacheDir: other })).toMatchObject({
      model: `local/${join(other, "mine", "model.gguf")}`,
      source: "cached GGUF",
    });
  });

  it("offline with nothing cached: one error listing every option", async () => {
    process.env.ANTHROPIC_API_KEY = "";
    process.env.OPENAI_API_KEY = "";
    process.env.HF_ENDPOINT = "http://127.0.0.1:9";
    await expect(resolveQuickstartModels({ cacheDir: tempDir() })).rejects.toMatchObject({
      message: expect.stringMatching(/the default model could not be downloaded .*cannot reach/),
      hint: expect.stringMatching(/--model .*API_KEY.*\.gguf.*internet.*--demo/),
    });
  });

  it("writes a valid experiment for the chosen model, keeping the bundled file's comments", () => {
    const dir = tempDir();
    const path = writeQuickstartExperiment(dir, {
      model: "local/hf:o/r/m.gguf",
      judge: "local/hf:o/r/m.gguf",
      source: "cached GGUF",
      synthetic: false,
      local: true,
      selfJudged: true,
    });
    const text = readFileSync(path, "utf8");
    expect(text).toMatch(/^# Written by `specsci quickstart` .*\(model: cached GGUF\)/);
    expect(text).toContain("# Arms: how each spec reaches the model.");
    const { experiment } = loadExperiment(path);
    expect(experiment.models).toEqual(["local/hf:o/r/m.gguf"]);
    expect(experiment.judge.model).toBe("local/hf:o/r/m.gguf");
    expect(experiment.evals[0]).toMatchObject({ epochs: 1, max_tokens: 1024 });
    expect(existsSync(`${path}.tmp-${process.pid}`)).toBe(false);
  });
});
