/** Specsci's stored answers and usage in Inspect's message, output and usage forms. */
type Json = Record<string, unknown>;

export interface StoredOutput {
  model: string;
  text: string;
  reasoning: string | null;
  refusal: string | null;
  stop_reason: "end" | "max_tokens" | "refusal";
  /** Counts the provider did not report are absent (see llm/types.ts Usage). */
  usage: {
    input_tokens?: number;
    output_tokens?: number;
    reasoning_tokens?: number;
    cache_read_tokens?: number;
    cache_write_tokens?: number;
  };
  latency_ms: number;
  /** USD of the call; null where the model's price is not known (absent in older stores). */
  cost_usd?: number | null;
  provider_stop_reason?: string | null;
  /** Where the answer came from: the provider, the response cache or a batch. */
  source?: string;
  cache_key?: string;
  /** The first answer tokens' log-probabilities, stored compactly (`top` as [token, logprob]). */
  logprobs?: { token: string; logprob: number; top: [string, number][] }[];
}

export const STOP: Record<StoredOutput["stop_reason"], string> = {
  end: "stop",
  max_tokens: "max_tokens",
  refusal: "content_filter",
};

type SizedUsage = StoredOutput["usage"] & { input_tokens: number; output_tokens: number };
export const sized = (u: StoredOutput["usage"]): u is SizedUsage =>
  u.input_tokens !== undefined && u.output_tokens !== undefined;

/** Token counts and cost as the store keeps them for calls (cache reads and writes apart). */
export interface CallTokens {
  inputTokens: number;
  outputTokens: number;
  reasoningTokens: number;
  cacheReadTokens?: number;
  cacheWriteTokens?: number;
  /** USD; null or absent where the price is not known. */
  costUsd?: number | null;
}

/**
 * Inspect's ModelUsage. Its `input_tokens` leaves cache reads and writes apart as specsci's does,
 * and its total counts them (as its own providers do); counts and cost not known stay absent.
 */
export function usage(u: SizedUsage | CallTokens): Json {
  const t: CallTokens =
    "input_tokens" in u
      ? {
          inputTokens: u.input_tokens,
          outputTokens: u.output_tokens,
          reasoningTokens: u.reasoning_tokens ?? 0,
          cacheReadTokens: u.cache_read_tokens,
          cacheWriteTokens: u.cache_write_tokens,
        }
      : u;
  const read = t.cacheReadTokens;
  const write = t.cacheWriteTokens;
  return {
    input_tokens: t.inputTokens,
    output_tokens: t.outputTokens,
    total_tokens: t.inputTokens + t.outputTokens + (read ?? 0) + (write ?? 0),
    reasoning_tokens: t.reasoningTokens,
    ...(read !== undefined ? { input_tokens_cache_read: read } : {}),
    ...(write !== undefined ? { input_tokens_cache_write: write } : {}),
    ...(t.costUsd !== undefined && t.costUsd !== null ? { total_cost: t.costUsd } : {}),
  };
}

/** A call that used no tokens. */
export const NO_TOKENS = {
  inputTokens: 0,
  outputTokens: 0,
  reasoningTokens: 0,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
} as const;

/** Calls' usage summed by a key of each call (calls with no key are left out). */
export function usageByKey<C extends CallTokens>(
  calls: readonly C[],
  keyOf: (c: C) => string | undefined,
): Record<string, Json> {
  const sums = new Map<string, Required<CallTokens>>();
  for (const c of calls) {
    const key = keyOf(c);
    if (key === undefined) continue;
    const s = sums.get(key) ?? { ...NO_TOKENS, costUsd: 0 };
    s.inputTokens += c.inputTokens;
    s.outputTokens += c.outputTokens;
    s.reasoningTokens += c.reasoningTokens;
    s.cacheReadTokens += c.cacheReadTokens ?? 0;
    s.cacheWriteTokens += c.cacheWriteTokens ?? 0;
    // One call of unknown price makes the sum unknown.
    s.costUsd = s.costUsd === null || c.costUsd == null ? null : s.costUsd + c.costUsd;
    sums.set(key, s);
  }
  return Object.fromEntries([...sums].map(([k, s]) => [k, usage(s)]));
}

/**
 * What specsci recorded of the answer's call that ModelOutput has no field for, as its metadata
 * (absent where none was recorded).
 */
export function outputMetadata(o: StoredOutput): Json | undefined {
  const m: Json = {
    ...(o.source !== undefined ? { source: o.source } : {}),
    ...(o.cache_key !== undefined ? { cache_key: o.cache_key } : {}),
    ...(o.provider_stop_reason ? { provider_stop_reason: o.provider_stop_reason } : {}),
    ...(o.refusal ? { refusal: o.refusal } : {}),
  };
  return Object.keys(m).length ? m : undefined;
}

/** Stored log-probabilities in Inspect's form (`choices[].logprobs.content`). */
export function inspectLogprobs(lp: NonNullable<StoredOutput["logprobs"]>): Json {
  return {
    content: lp.map((t) => ({
      token: t.token,
      logprob: t.logprob,
      bytes: null,
      top_logprobs: t.top.map(([token, logprob]) => ({ token, logprob, bytes: null })),
    })),
  };
}

/** `2026-11-27T02:08:45.123Z` → `2026-11-27T02:08:45+00:00` (Inspect's own form). */
export function inspectTime(iso: string): string {
  return `${iso.slice(0, 19)}+00:00`;
}

export function assistantMessage(o: Pick<StoredOutput, "model" | "text" | "reasoning">): Json {
  const content = o.reasoning
    ? [
        { type: "reasoning", reasoning: o.reasoning, redacted: false },
        { type: "text", text: o.text },
      ]
    : o.text;
  return { role: "assistant", content, source: "generate", model: o.model };
}
