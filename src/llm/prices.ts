import type { PriceConfig } from "./config.js";
import type { Usage } from "./types.js";

const anthropic = (input: number, output: number, cacheRead = input / 10): PriceConfig => ({
  input,
  output,
  cache_read: cacheRead,
  cache_write: input * 1.25,
  batch_discount: 0.5,
});
const openai = (input: number, output: number, cacheRead: number): PriceConfig => ({
  input,
  output,
  cache_read: cacheRead,
  batch_discount: 0.5,
});

/**
 * List prices in USD per million tokens, as published by the providers (read 2026-12; the
 * config's `prices:` overrides or extends it). Anthropic cache writes are the 5-minute rate.
 * Names match exactly: a model that is not listed, under its name or an alias below, has an
 * unknown cost, reported as such, never as zero. Left out, to stay unknown rather than guessed:
 * Claude Haiku 5.5 (priced by prompt length, below and above 100k tokens, which one rate cannot
 * say), and models whose full price list we could not confirm (Claude Fable, Mythos, Opus 4.7 and
 * 4.8; GPT-5.6). OpenAI's rates are those for prompts under about 270k tokens.
 */
export const PRICE_TABLE: Readonly<Record<string, PriceConfig>> = {
  "anthropic/claude-opus-5-5": anthropic(4, 20, 0.2),
  // Cache reads as on Anthropic's model page ($0.20); some resellers report a cut to $0.10 from
  // 2026-10-07 that we could not confirm there.
  "anthropic/claude-sonnet-5-5": anthropic(2, 10, 0.2),
  "anthropic/claude-sonnet-5": anthropic(2, 10, 0.2),
  "anthropic/claude-opus-5": anthropic(5, 25),
  "anthropic/claude-opus-4-6": anthropic(5, 25),
  "anthropic/claude-sonnet-4-6": anthropic(3, 15),
  "anthropic/claude-opus-4-5": anthropic(5, 25),
  "anthropic/claude-opus-4-1": anthropic(15, 75),
  "anthropic/claude-opus-4": anthropic(15, 75),
  "anthropic/claude-sonnet-4-5": anthropic(3, 15),
  "anthropic/claude-sonnet-4": anthropic(3, 15),
  "anthropic/claude-3-7-sonnet": anthropic(3, 15),
  "anthropic/claude-haiku-4-5": anthropic(1, 5),
  "anthropic/claude-3-5-haiku": anthropic(0.8, 4),
  "openai/gpt-5.4": openai(2.5, 15, 0.25),
  "openai/gpt-5.4-mini": openai(0.75, 4.5, 0.075),
  "openai/gpt-5.4-nano": openai(0.2, 1.25, 0.02),
  "openai/gpt-5.2": openai(1.75, 14, 0.175),
  "openai/gpt-5.1": openai(1.25, 10, 0.125),
  "openai/gpt-5": openai(1.25, 10, 0.125),
  "openai/gpt-5-mini": openai(0.25, 2, 0.025),
  "openai/gpt-5-nano": openai(0.05, 0.4, 0.005),
  "openai/gpt-4.1": openai(2, 8, 0.5),
  "openai/gpt-4.1-mini": openai(0.4, 1.6, 0.1),
  "openai/gpt-4.1-nano": openai(0.1, 0.4, 0.025),
  "openai/gpt-4o": openai(2.5, 10, 1.25),
  "openai/gpt-4o-mini": openai(0.15, 0.6, 0.075),
  "openai/o3": openai(2, 8, 0.5),
  "openai/o4-mini": openai(1.1, 4.4, 0.275),
};

/**
 * Other names that the providers bill at a listed model's price: dated snapshots of the same
 * model. Listed one by one, so that a typo is never priced as the model it resembles.
 */
export const PRICE_ALIASES: Readonly<Record<string, string>> = {
  "anthropic/claude-opus-4-5-20251101": "anthropic/claude-opus-4-5",
  "anthropic/claude-opus-4-1-20250805": "anthropic/claude-opus-4-1",
  "anthropic/claude-opus-4-20250514": "anthropic/claude-opus-4",
  "anthropic/claude-sonnet-4-5-20250929": "anthropic/claude-sonnet-4-5",
  "anthropic/claude-sonnet-4-20250514": "anthropic/claude-sonnet-4",
  "anthropic/claude-3-7-sonnet-20250219": "anthropic/claude-3-7-sonnet",
  "anthropic/claude-haiku-4-5-20251001": "anthropic/claude-haiku-4-5",
  "anthropic/claude-3-5-haiku-20241022": "anthropic/claude-3-5-haiku",
  "openai/gpt-5.4-mini-2026-03-17": "openai/gpt-5.4-mini",
  "openai/gpt-5.4-nano-2026-03-17": "openai/gpt-5.4-nano",
  "openai/gpt-5.2-2025-12-11": "openai/gpt-5.2",
  "openai/gpt-5.1-2025-11-13": "openai/gpt-5.1",
  "openai/gpt-5-2025-08-07": "openai/gpt-5",
  "openai/gpt-5-mini-2025-08-07": "openai/gpt-5-mini",
  "openai/gpt-5-nano-2025-08-07": "openai/gpt-5-nano",
  "openai/gpt-4.1-2025-04-14": "openai/gpt-4.1",
  "openai/gpt-4.1-mini-2025-04-14": "openai/gpt-4.1-mini",
  "openai/gpt-4.1-nano-2025-04-14": "openai/gpt-4.1-nano",
  "openai/gpt-4o-2024-08-06": "openai/gpt-4o",
  "openai/gpt-4o-2024-11-20": "openai/gpt-4o",
  "openai/gpt-4o-mini-2024-07-18": "openai/gpt-4o-mini",
  "openai/o3-2025-04-16": "openai/o3",
  "openai/o4-mini-2025-04-16": "openai/o4-mini",
};

/** Providers whose calls cost nothing per token (compute is the user's own). */
const FREE_PROVIDERS = new Set(["local", "fake"]);

export class PriceBook {
  private readonly table: Record<string, PriceConfig>;

  constructor(overrides: Record<string, PriceConfig> = {}) {
    this.table = { ...PRICE_TABLE, ...overrides };
  }

  /** The price of exactly this model (a configured price first, then an alias's), if known. */
  priceOf(modelId: string): PriceConfig | undefined {
    const alias = PRICE_ALIASES[modelId];
    return this.table[modelId] ?? (alias ? this.table[alias] : undefined);
  }

  /** Whether calls to this model have a cost we can tell: free, or listed. */
  knows(modelId: string): boolean {
    return isFree(modelId) || this.priceOf(modelId) !== undefined;
  }

  /** USD for one call, or null when the model's price is unknown. */
  cost(modelId: string, usage: Usage, opts: { batch?: boolean } = {}): number | null {
    if (isFree(modelId)) return 0;
    const p = this.priceOf(modelId);
    if (!p) return null;
    if (usage.input_tokens === undefined || usage.output_tokens === undefined) {
      // Tokens the provider did not report cost what they cost: unknown, unless nothing is charged.
      const charged = [p.input, p.output, p.cache_read ?? 0, p.cache_write ?? 0].some((x) => x > 0);
      return charged ? null : 0;
    }
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

const isFree = (modelId: string) => FREE_PROVIDERS.has(modelId.slice(0, modelId.indexOf("/")));
