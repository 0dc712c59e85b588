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

export function usage(
  u:
    | SizedUsage
    | { inputTokens: number; outputTokens: number; reasoningTokens: number; costUsd?: number },
): Json {
  const input = "input_tokens" in u ? u.input_tokens : u.inputTokens;
  const output = "output_tokens" in u ? u.output_tokens : u.outputTokens;
  const reasoning =
    "reasoning_tokens" in u
      ? (u.reasoning_tokens ?? 0)
      : "reasoningTokens" in u
        ? u.reasoningTokens
        : 0;
  return {
    input_tokens: input,
    output_tokens: output,
    total_tokens: input + output,
    reasoning_tokens: reasoning,
  };
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

export function assistantMessage(o: StoredOutput): Json {
  const content = o.reasoning
    ? [
        { type: "reasoning", reasoning: o.reasoning, redacted: false },
        { type: "text", text: o.text },
      ]
    : o.text;
  return { role: "assistant", content, source: "generate", model: o.model };
}
