import type { PriceConfig } from "../core/config.js";
import type { Usage } from "./types.js";

/**
 * List prices in USD per million tokens, as published by the providers (snapshot 2026-11; the
 * config's `prices:` overrides or extends it). A model that is not listed has an unknown cost,
 * reported as such, never as zero. Keys match the model name exactly or as a prefix of a dated
 * snapshot name (`claude-sonnet-4-5` matches `claude-sonnet-4-5-20250929`).
 */
export const PRICE_TABLE: Readonly<Record<string, PriceConfig>> = {
  "anthropic/claude-opus-4-5": {
    input: 5,
    output: 25,
    cache_read: 0.5,
    cache_write: 6.25,
    batch_discount: 0.5,
  },
  "anthropic/claude-opus-4-1": {
    input: 15,
    output: 75,
    cache_read: 1.5,
    cache_write: 18.75,
    batch_discount: 0.5,
  },
  "anthropic/claude-opus-4": {
    input: 15,
    output: 75,
    cache_read: 1.5,
    cache_write: 18.75,
    batch_discount: 0.5,
  },
  "anthropic/claude-sonnet-4-5": {
    input: 3,
    output: 15,
    cache_read: 0.3,
    cache_write: 3.75,
    batch_discount: 0.5,
  },
  "anthropic/claude-sonnet-4": {
    input: 3,
    output: 15,
    cache_read: 0.3,
    cache_write: 3.75,
    batch_discount: 0.5,
  },
  "anthropic/claude-3-7-sonnet": {
    input: 3,
    output: 15,
    cache_read: 0.3,
    cache_write: 3.75,
    batch_discount: 0.5,
  },
  "anthropic/claude-haiku-4-5": {
    input: 1,
    output: 5,
    cache_read: 0.1,
    cache_write: 1.25,
    batch_discount: 0.5,
  },
  "anthropic/claude-3-5-haiku": {
    input: 0.8,
    output: 4,
    cache_read: 0.08,
    cache_write: 1,
    batch_discount: 0.5,
  },
  "openai/gpt-5": { input: 1.25, output: 10, cache_read: 0.125, batch_discount: 0.5 },
  "openai/gpt-5-mini": { input: 0.25, output: 2, cache_read: 0.025, batch_discount: 0.5 },
  "openai/gpt-5-nano": { input: 0.05, output: 0.4, cache_read: 0.005, batch_discount: 0.5 },
  "openai/gpt-4.1": { input: 2, output: 8, cache_read: 0.5, batch_discount: 0.5 },
  "openai/gpt-4.1-mini": { input: 0.4, output: 1.6, cache_read: 0.1, batch_discount: 0.5 },
  "openai/gpt-4.1-nano": { input: 0.1, output: 0.4, cache_read: 0.025, batch_discount: 0.5 },
  "openai/gpt-4o": { input: 2.5, output: 10, cache_read: 1.25, batch_discount: 0.5 },
  "openai/gpt-4o-mini": { input: 0.15, output: 0.6, cache_read: 0.075, batch_discount: 0.5 },
  "openai/o3": { input: 2, output: 8, cache_read: 0.5, batch_discount: 0.5 },
  "openai/o4-mini": { input: 1.1, output: 4.4, cache_read: 0.275, batch_discount: 0.5 },
};

/** Providers whose calls cost nothing per token (compute is the user's own). */
const FREE_PROVIDERS = new Set(["local", "fake"]);

export class PriceBook {
  private readonly table: Record<string, PriceConfig>;
  private readonly keysLongestFirst: string[];

  constructor(overrides: Record<string, PriceConfig> = {}) {
    this.table = { ...PRICE_TABLE, ...overrides };
    this.keysLongestFirst = Object.keys(this.table).sort((a, b) => b.length - a.length);
  }

  priceOf(modelId: string): PriceConfig | undefined {
    const exact = this.table[modelId];
    if (exact) return exact;
    const key = this.keysLongestFirst.find((k) => modelId.startsWith(`${k}-`));
    return key ? this.table[key] : undefined;
  }

  /** USD for one call, or null when the model's price is unknown. */
  cost(modelId: string, usage: Usage, opts: { batch?: boolean } = {}): number | null {
    if (FREE_PROVIDERS.has(modelId.slice(0, modelId.indexOf("/")))) return 0;
    const p = this.priceOf(modelId);
    if (!p) return null;
    const cacheRead = usage.cache_read_tokens ?? 0;
    const cacheWrite = usage.cache_write_tokens ?? 0;
    const usd =
      (usage.input_tokens * p.input +
        cacheRead * (p.cache_read ?? p.input) +
        cacheWrite * (p.cache_write ?? p.input) +
        usage.output_tokens * p.output) /
      1_000_000;
    return opts.batch ? usd * (p.batch_discount ?? 1) : usd;
  }
}
