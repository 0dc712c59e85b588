import { describe, expect, it } from "vitest";
import { defaultConfig } from "./config.js";
import {
  ANTHROPIC_ADAPTIVE_THINKING,
  ANTHROPIC_DEPRECATED,
  ANTHROPIC_MODEL_NAMES,
  DEFAULT_MODELS,
  defaultModel,
  deprecationNotice,
  ModelNotices,
  OPENAI_MODEL_NAMES,
  unknownModelNotice,
} from "./models.js";

const config = defaultConfig();

describe("model catalog", () => {
  it("reads the Anthropic SDK's own deprecation tables", () => {
    expect(ANTHROPIC_DEPRECATED["claude-sonnet-4-5"]).toBe("November 30th, 2026");
    expect(ANTHROPIC_ADAPTIVE_THINKING).toContain("claude-opus-4-6");
  });

  it("defaults every role to a model its SDK lists and no provider has deprecated", () => {
    for (const [provider, row] of Object.entries(DEFAULT_MODELS)) {
      const names: readonly string[] =
        provider === "anthropic" ? ANTHROPIC_MODEL_NAMES : OPENAI_MODEL_NAMES;
      for (const id of Object.values(row)) {
        expect(id.startsWith(`${provider}/`), id).toBe(true);
        expect(names, id).toContain(id.slice(provider.length + 1));
        expect(deprecationNotice(id), id).toBeUndefined();
      }
    }
  });

  it("lets specsci.yaml's defaults: override each role", () => {
    expect(defaultModel("judge", config)).toBe(DEFAULT_MODELS.anthropic.judge);
    expect(defaultModel("judge", config, "openai")).toBe(DEFAULT_MODELS.openai.judge);
    const custom = { defaults: { ...config.defaults, judge: "vllm/judge" } };
    expect(defaultModel("judge", custom)).toBe("vllm/judge");
    expect(defaultModel("judge", custom, "openai")).toBe("vllm/judge");
    expect(defaultModel("generator", custom)).toBe(DEFAULT_MODELS.anthropic.generator);
  });

  it("says when a deprecated model reached or reaches end of life", () => {
    const after = new Date("2026-12-06T12:00:00Z");
    expect(deprecationNotice("anthropic/claude-sonnet-4-5", after)).toMatch(
      /claude-sonnet-4-5 is deprecated: it reached end of life on November 30th, 2026, so its calls may fail/,
    );
    expect(deprecationNotice("anthropic/claude-opus-4-5-20251101", after)).toMatch(
      /reaches end of life on January 22nd, 2027/,
    );
    expect(deprecationNotice("openai/gpt-4.1-mini", after)).toMatch(/January 14th, 2027/);
    expect(deprecationNotice("vllm/claude-sonnet-4-5", after)).toBeUndefined();
  });

  it("suggests the closest listed name for a typo, and stays quiet for listed names", () => {
    expect(unknownModelNotice("openai/gpt-4.1-mni", config)).toMatch(
      /openai\/gpt-4.1-mni is not in the OpenAI SDK's model list; did you mean openai\/gpt-4.1-mini\?/,
    );
    expect(unknownModelNotice("anthropic/claude-sonet-4-6", config)).toMatch(
      /did you mean anthropic\/claude-sonnet-4-6\?/,
    );
    expect(unknownModelNotice("anthropic/claude-haiku-4-5", config)).toBeUndefined();
    // Nothing close: no guess, but still the warning.
    expect(unknownModelNotice("anthropic/my-own-fine-tune", config)).toMatch(
      /is not in the Anthropic SDK's model list \(calls go ahead/,
    );
    // Endpoints are checked only against a configured list.
    expect(unknownModelNotice("vllm/anything", config)).toBeUndefined();
    const withList = {
      endpoints: { vllm: { base_url: "http://127.0.0.1:8000/v1", models: ["Qwen/Qwen3-8B"] } },
    };
    expect(unknownModelNotice("vllm/Qwen/Qwen3-8b", withList)).toMatch(
      /not in the models listed for endpoint vllm in specsci.yaml; did you mean vllm\/Qwen\/Qwen3-8B\?/,
    );
  });

  it("warns once per model, however often it is asked", () => {
    const said: string[] = [];
    const notices = new ModelNotices(config, (m) => said.push(m));
    for (let i = 0; i < 3; i++) {
      notices.check("anthropic/claude-sonnet-4-5");
      notices.check("openai/gpt-4.1-mni");
      notices.check("anthropic/claude-sonnet-4-6");
    }
    expect(said).toHaveLength(2);
    expect(said[0]).toMatch(/claude-sonnet-4-5 is deprecated/);
    expect(said[1]).toMatch(/did you mean openai\/gpt-4.1-mini/);
  });
});
