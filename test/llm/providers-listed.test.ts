import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConfigSchema, defaultConfig } from "../../src/llm/config.js";
import { listProviders } from "../../src/llm/providers-listed.js";

const VARS = [
  "ANTHROPIC_API_KEY",
  "ANTHROPIC_BASE_URL",
  "OPENAI_API_KEY",
  "OPENAI_BASE_URL",
  "TOGETHER_API_KEY",
  "MY_LAB_KEY",
];
let saved: Record<string, string | undefined>;
beforeEach(() => {
  saved = Object.fromEntries(VARS.map((v) => [v, process.env[v]]));
  for (const v of VARS) delete process.env[v];
});
afterEach(() => {
  for (const [v, value] of Object.entries(saved))
    if (value === undefined) delete process.env[v];
    else process.env[v] = value;
});

describe("listProviders", () => {
  it("lists the SDK providers at their SDKs' default URLs, then the endpoint presets, then local", () => {
    const rows = listProviders(defaultConfig());
    expect(rows.map((r) => r.provider)).toEqual([
      "anthropic",
      "openai",
      "together",
      "openrouter",
      "fireworks",
      "ollama",
      "vllm",
      "sglang",
      "llamacpp",
      "local",
    ]);
    expect(rows[0]).toEqual({
      provider: "anthropic",
      base_url: "https://api.anthropic.com",
      key_env: "ANTHROPIC_API_KEY",
      key: "missing",
      batch: true,
    });
    expect(rows[1]).toMatchObject({ base_url: "https://api.openai.com/v1", key: "missing" });
    expect(rows.find((r) => r.provider === "ollama")).toEqual({
      provider: "ollama",
      base_url: "http://127.0.0.1:11434/v1",
      key_env: "-",
      key: "not needed",
      batch: false,
    });
    expect(rows.at(-1)).toMatchObject({ provider: "local", key: "not needed", batch: false });
  });

  it("takes the URL from the SDK's environment variable, and specsci.yaml's over both", () => {
    process.env.ANTHROPIC_BASE_URL = "http://127.0.0.1:9/anthropic";
    process.env.OPENAI_BASE_URL = "http://127.0.0.1:9/openai";
    process.env.OPENAI_API_KEY = "sk-test-0123456789";
    const config = ConfigSchema.parse({
      providers: { openai: { base_url: "http://127.0.0.1:7/v1", api_key_env: "MY_LAB_KEY" } },
    });
    const [anthropic, openai] = listProviders(config);
    expect(anthropic?.base_url).toBe("http://127.0.0.1:9/anthropic");
    // The configured key variable is the one checked, not the SDK's default one.
    expect(openai).toMatchObject({
      base_url: "http://127.0.0.1:7/v1",
      key_env: "MY_LAB_KEY",
      key: "missing",
    });
  });

  it("merges configured endpoints over the presets, adds new ones, and says which keys are set", () => {
    process.env.TOGETHER_API_KEY = "tok-test-0123456789";
    const config = ConfigSchema.parse({
      endpoints: {
        vllm: { base_url: "http://gpu-node:8000/v1", batch: true },
        lab: { base_url: "http://lab:1/v1", api_key_env: "MY_LAB_KEY" },
      },
    });
    const rows = listProviders(config);
    expect(rows.find((r) => r.provider === "together")).toMatchObject({ key: "set" });
    expect(rows.find((r) => r.provider === "vllm")).toMatchObject({
      base_url: "http://gpu-node:8000/v1",
      batch: true,
    });
    expect(rows.at(-2)).toEqual({
      provider: "lab",
      base_url: "http://lab:1/v1",
      key_env: "MY_LAB_KEY",
      key: "missing",
      batch: false,
    });
  });
});
