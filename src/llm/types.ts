/**
 * The model access contract. Providers translate to and from these types; caching, limits,
 * retries, batching and accounting are layered on top once, in `client.ts`.
 */

export type Role = "system" | "user" | "assistant";

export interface ChatMessage {
  role: Role;
  content: string;
}

/**
 * Sampling parameters, named as the provider APIs and Inspect name them. Every one that is set is
 * part of the cache key. Unset parameters take the provider's default, except `max_tokens`, which
 * is always explicit: callers that omit it get `defaults.max_tokens` from the config (4096), and
 * a response cut off by it says so with stop reason `max_tokens`.
 */
export interface SamplingParams {
  max_tokens: number;
  temperature?: number;
  top_p?: number;
  stop?: string[];
  /** Passed to providers that accept a seed (OpenAI, compatible servers, local); Anthropic has none. */
  seed?: number;
  /** Native reasoning: a token budget (Anthropic extended thinking) or an effort (OpenAI). */
  reasoning?: { budget_tokens?: number; effort?: "low" | "medium" | "high" };
  /**
   * Ask for the log-probabilities of the answer's tokens with this many alternatives each (OpenAI
   * and compatible servers: vLLM, llama.cpp, SGLang; at most 20 on OpenAI). Providers without them
   * (Anthropic, local, fake) answer without `logprobs`.
   */
  top_logprobs?: number;
}

export interface ChatRequest {
  messages: ChatMessage[];
  params: SamplingParams;
  /**
   * Which of N repeated samples of the same prompt this is. Part of the cache key, so N samples
   * are N distinct cache entries and a re-run replays each of them exactly. Default 0.
   */
  sampleIndex?: number;
}

/**
 * Why generation stopped, normalized across providers:
 * - `end`: the model finished (end of turn or a stop sequence);
 * - `max_tokens`: cut off by the output budget (or the context window): the text is incomplete;
 * - `refusal`: the provider reported a refusal (Anthropic `refusal`, OpenAI `refusal`/content filter);
 * - `error`: the call failed; there is no text at all.
 */
export type StopReason = "end" | "max_tokens" | "refusal" | "error";

/**
 * Tokens as the provider reported them. A count the provider did not report is absent, never 0:
 * a call of unknown size has an unknown cost (see PriceBook.cost), not a free one.
 */
export interface Usage {
  /** Prompt tokens billed at the input price (cache reads and writes apart). */
  input_tokens?: number;
  output_tokens?: number;
  /** Part of output_tokens spent on native reasoning, where the provider reports it. */
  reasoning_tokens?: number;
  cache_read_tokens?: number;
  cache_write_tokens?: number;
}

/**
 * A setting of the request that the provider did not apply (the AI SDK's call warnings): the
 * answer is the model's, but not made the way the request asked (Anthropic takes no seed).
 */
export interface CallWarning {
  type: "unsupported-setting";
  setting: keyof SamplingParams;
  details: string;
}

/** One answer token's log-probability and the most likely tokens at its position. */
export interface TokenLogprob {
  token: string;
  logprob: number;
  top: { token: string; logprob: number }[];
}

/**
 * How many of the answer's first tokens keep their log-probabilities. Choice tasks read the
 * token that carries the answer, which comes first or after a short lead-in ("Answer: (B)",
 * `<answer>B</answer>`); keeping every token would store the top alternatives of each token of a
 * long answer in the cache and in every sample record.
 */
export const LOGPROB_TOKENS_KEPT = 16;

export const unsupportedSetting = (
  setting: keyof SamplingParams,
  details: string,
): CallWarning => ({ type: "unsupported-setting", setting, details });

/** Usage with only the counts a provider reported (numbers; its nulls and absences dropped). */
export function reportedUsage(counts: { [K in keyof Usage]: number | null | undefined }): Usage {
  const usage: Usage = {};
  for (const [k, v] of Object.entries(counts))
    if (typeof v === "number") usage[k as keyof Usage] = v;
  return usage;
}

/** What a provider adapter returns for one successful attempt. */
export interface ProviderResult {
  text: string;
  /** The model's native reasoning (thinking blocks, `reasoning_content`), kept apart from text. */
  reasoning?: string;
  /** The provider's refusal message, when it gives one. */
  refusal?: string;
  stopReason: Exclude<StopReason, "error">;
  /** The provider's own stop reason, verbatim. */
  providerStopReason: string | null;
  usage: Usage;
  /**
   * The first `LOGPROB_TOKENS_KEPT` answer tokens' log-probabilities, when `top_logprobs` was
   * asked for and the provider gives them; absent otherwise.
   */
  logprobs?: TokenLogprob[];
  /** The replica of an endpoint that answered (replicas.ts); not cached, recorded with the call. */
  replica?: string;
}

/** A successful call as every caller sees it. */
export interface Completion extends ProviderResult {
  ok: true;
  model: string;
  /** USD for this call; 0 when replayed from the cache; null when the model has no known price. */
  costUsd: number | null;
  latencyMs: number;
  /** Where the answer came from: the provider now, the response cache, or a provider batch. */
  source: "api" | "cache" | "batch";
  attempts: number;
  cacheKey: string;
  /** Settings of the request the provider dropped; absent when it applied them all. */
  warnings?: CallWarning[];
}

export type ErrorKind =
  | "rate_limit"
  | "overloaded"
  | "server"
  | "timeout"
  | "connection"
  | "malformed_response"
  | "empty_response"
  | "auth"
  | "bad_request"
  | "not_found"
  | "config"
  | "model_load"
  | "cache_miss"
  | "batch_expired"
  | "batch_canceled"
  | "aborted"
  | "unknown";

export interface FailureInfo {
  kind: ErrorKind;
  message: string;
  httpStatus?: number;
  retryable: boolean;
}

/** A call that finally failed. It has no text: a failure can never be read as an answer. */
export interface CallFailure {
  ok: false;
  model: string;
  stopReason: "error";
  error: FailureInfo;
  latencyMs: number;
  attempts: number;
  cacheKey: string;
}

export type ChatOutcome = Completion | CallFailure;

/** Who a call is for, so usage and cost can be accounted per run and stage. */
export interface CallContext {
  runId?: string;
  stage?: string;
  /** The eval sample (and epoch) the call is made for, recorded with the call. */
  sampleId?: string;
  epoch?: number;
}

export interface CallOptions {
  signal?: AbortSignal;
  context?: CallContext;
}

/** The one interface every part of specsci uses to talk to a model. */
export interface ChatModel {
  /** `provider/model`, e.g. `anthropic/claude-sonnet-4-6`, `vllm/Qwen/Qwen3-8B`, `local/hf:…`. */
  readonly id: string;
  /** Resolves with the completion, or rejects with a `ModelCallError` once retries are spent. */
  generate(request: ChatRequest, options?: CallOptions): Promise<Completion>;
  /**
   * Like `generate`, but a failure is returned (and recorded) instead of thrown. An abort through
   * `options.signal` is not a failure: the call rejects with the signal's reason, unrecorded.
   */
  call(request: ChatRequest, options?: CallOptions): Promise<ChatOutcome>;
}

/** A single-attempt adapter to one provider's API. No retries, no cache: the layer adds those. */
export interface ProviderModel {
  readonly id: string;
  /** Part of the cache key: the identity of what answers (e.g. the base URL of an endpoint). */
  readonly identity: Record<string, string>;
  complete(request: ChatRequest, signal: AbortSignal, timeoutMs: number): Promise<ProviderResult>;
  /**
   * True when `complete` itself aborts the attempt at `timeoutMs` and says so (the SDKs run a timer
   * of their own for every request and fail with a timeout error): the layer then sets none, so an
   * attempt has one timer. Otherwise the layer's `signal` aborts at `timeoutMs`.
   */
  readonly timesOut?: boolean;
  /**
   * The parameters this provider cannot send. Declared apart from `complete` so that an answer
   * replayed from the cache or collected from a batch carries the same warnings as a live one.
   */
  droppedSettings?(params: SamplingParams): CallWarning[];
}

/**
 * A completion as stored and exported: plain JSON, snake_case like the provider APIs; given the
 * request file's line, it leads with the line's id and sample and `ok` (a line of `llm run`).
 */
export function completionRecord(
  c: Completion,
  line?: { id: string; sample: number },
): Record<string, unknown> {
  // Built member by member, not by spreading objects into a literal: a spread makes a slow
  // dictionary-mode object, and this runs for every line of `llm run`'s output (resultLine was
  // 10 µs a line with spreads, 1.6 µs like this). The members' order is the output's.
  const r: Record<string, unknown> = line
    ? { id: line.id, sample: line.sample, model: c.model, ok: true }
    : { model: c.model };
  r.text = c.text;
  r.reasoning = c.reasoning ?? null;
  r.refusal = c.refusal ?? null;
  r.stop_reason = c.stopReason;
  r.provider_stop_reason = c.providerStopReason;
  r.usage = c.usage;
  r.cost_usd = c.costUsd;
  r.source = c.source;
  r.cache_key = c.cacheKey;
  r.latency_ms = c.latencyMs;
  if (c.logprobs) r.logprobs = compactLogprobs(c.logprobs);
  if (c.warnings?.length) r.warnings = c.warnings;
  return r;
}

/** Log-probabilities as stored: each token with its alternatives as `[token, logprob]` pairs. */
function compactLogprobs(lp: TokenLogprob[]): unknown[] {
  return lp.slice(0, LOGPROB_TOKENS_KEPT).map((t) => ({
    token: t.token,
    logprob: t.logprob,
    top: t.top.map((a) => [a.token, a.logprob]),
  }));
}
