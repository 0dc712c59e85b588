import { describe, expect, it } from "vitest";
import { DEFAULT_MODELS } from "./models.js";
import { PRICE_ALIASES, PRICE_TABLE, PriceBook } from "./prices.js";

describe("PriceBook", () => {
  const book = new PriceBook({ "together/Qwen/Qwen3-8B": { input: 0.2, output: 0.2 } });

  it("prices input, output and cache tokens per million", () => {
    const usd = book.cost("anthropic/claude-sonnet-4-6", {
      input_tokens: 1_000_000,
      output_tokens: 100_000,
      cache_read_tokens: 1_000_000,
    });
    expect(usd).toBeCloseTo(3 + 1.5 + 0.3, 10);
  });

  it("prices dated snapshots listed as aliases and applies the batch discount", () => {
    const usage = { input_tokens: 2_000_000, output_tokens: 0 };
    expect(book.cost("anthropic/claude-haiku-4-5-20251001", usage)).toBeCloseTo(2, 10);
    expect(book.cost("anthropic/claude-haiku-4-5-20251001", usage, { batch: true })).toBeCloseTo(
      1,
      10,
    );
    for (const [alias, model] of Object.entries(PRICE_ALIASES)) {
      expect(PRICE_TABLE[model], alias).toBeDefined();
      expect(book.priceOf(alias)).toEqual(PRICE_TABLE[model]);
    }
  });

  it("matches names exactly: a typo or an unlisted suffix is unknown, not a neighbour's price", () => {
    const usage = { input_tokens: 10, output_tokens: 10 };
    expect(book.cost("openai/gpt-4.1-mni", usage)).toBeNull();
    expect(book.cost("openai/gpt-4.1-mini-2099-01-01", usage)).toBeNull();
    expect(book.cost("anthropic/claude-sonnet-4-5-latest", usage)).toBeNull();
    expect(book.knows("openai/gpt-4.1-mni")).toBe(false);
    expect(book.knows("openai/gpt-4.1-mini")).toBe(true);
  });

  it("says unknown (null), never zero, for a model it has no price for", () => {
    expect(
      book.cost("anthropic/claude-unreleased", { input_tokens: 10, output_tokens: 10 }),
    ).toBeNull();
    expect(book.cost("vllm/my-model", { input_tokens: 10, output_tokens: 10 })).toBeNull();
  });

  it("takes config overrides and charges nothing for local and fake models", () => {
    expect(
      book.cost("together/Qwen/Qwen3-8B", { input_tokens: 1_000_000, output_tokens: 1_000_000 }),
    ).toBeCloseTo(0.4, 10);
    expect(book.cost("local/builtin:tiny", { input_tokens: 10, output_tokens: 10 })).toBe(0);
    expect(book.knows("local/builtin:tiny")).toBe(true);
  });

  it("has a price for every default model", () => {
    for (const row of Object.values(DEFAULT_MODELS))
      for (const id of Object.values(row)) expect(book.priceOf(id), id).toBeDefined();
  });
});
