import { afterEach, describe, expect, it } from "vitest";
import { AnthropicBatchBackend } from "./batch/anthropic.js";
import { OpenAIBatchBackend } from "./batch/openai.js";
import { ConfigSchema } from "./config.js";
import { ProviderRegistry } from "./registry.js";

const KEY = "sk-test-registry-0123456789";
const saved = { a: process.env.ANTHROPIC_API_KEY, o: process.env.OPENAI_API_KEY };
afterEach(() => {
  for (const [name, value] of [
    ["ANTHROPIC_API_KEY", saved.a],
    ["OPENAI_API_KEY", saved.o],
  ] as const)
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
});

describe("batch as a capability the registry hands out", () => {
  const registry = () => {
    process.env.ANTHROPIC_API_KEY = KEY;
    process.env.OPENAI_API_KEY = KEY;
    const config = ConfigSchema.parse({
      endpoints: {
        withbatch: { base_url: "http://127.0.0.1:9/v1", batch: true },
        plain: { base_url: "http://127.0.0.1:9/v1" },
      },
    });
    return new ProviderRegistry(config);
  };

  it("gives the providers with a batch API a backend capped at their own and the set limits", () => {
    const r = registry();
    const anthropic = r.resolve("anthropic/claude-haiku-4-5").batch?.({ maxRequests: 7 });
    expect(anthropic).toBeInstanceOf(AnthropicBatchBackend);
    expect(anthropic?.maxRequests).toBe(7);
    expect(r.resolve("openai/gpt-4.1-mini").batch?.({})).toBeInstanceOf(OpenAIBatchBackend);
    expect(r.resolve("withbatch/m").batch?.({})).toBeInstanceOf(OpenAIBatchBackend);
  });

  it("gives none to models whose provider has no batch API", () => {
    const r = registry();
    for (const id of ["plain/m", "fake/echo", "local/tiny"])
      expect(r.resolve(id).batch, id).toBeUndefined();
  });
});
