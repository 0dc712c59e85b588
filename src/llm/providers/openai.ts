import { createRequire } from "node:module";
import type OpenAI from "openai";
import type { toFile } from "openai";
import type {
  ChatCompletion,
  ChatCompletionCreateParamsNonStreaming,
} from "openai/resources/chat/completions/completions";
import { abortedByTimeout, classifySdkError, ModelCallError } from "../errors.js";
import { providerFetch } from "../http.js";
import {
  type ChatRequest,
  LOGPROB_TOKENS_KEPT,
  type ProviderModel,
  type ProviderResult,
  reportedUsage,
  type StopReason,
  type TokenLogprob,
} from "../types.js";

export const OPENAI_KEY_ENV = "OPENAI_API_KEY";

/** Settings of the OpenAI API itself or of one OpenAI-compatible endpoint. */
export interface OpenAISettings {
  /** Undefined for endpoints that need no key (a local vLLM, Ollama or llama.cpp server). */
  apiKey: string | undefined;
  keyEnv: string | undefined;
  baseURL?: string | undefined;
  maxTokensField: "max_tokens" | "max_completion_tokens";
  /** For a served trained model: which weights answer (a retrained model under the same name differs). */
  weights?: string | undefined;
}

/** The SDK, loaded with the first client rather than when the CLI starts (~0.1 s of every command). */
export const openaiSdk = () =>
  createRequire(import.meta.url)("openai") as { default: typeof OpenAI; toFile: typeof toFile };

export function openaiClient(s: OpenAISettings): OpenAI {
  // The SDK insists on a key; keyless local servers ignore whatever is sent.
  return new (openaiSdk().default)({
    apiKey: s.apiKey ?? "no-key",
    baseURL: s.baseURL,
    maxRetries: 0,
    fetch: providerFetch,
    logLevel: "off",
  });
}

export function toOpenAIParams(
  model: string,
  req: ChatRequest,
  maxTokensField: OpenAISettings["maxTokensField"],
): ChatCompletionCreateParamsNonStreaming {
  const p = req.params;
  const params: ChatCompletionCreateParamsNonStreaming = {
    model,
    messages: req.messages.map((m) => ({ role: m.role, content: m.content })),
  };
  params[maxTokensField] = p.max_tokens;
  if (p.temperature !== undefined) params.temperature = p.temperature;
  if (p.top_p !== undefined) params.top_p = p.top_p;
  if (p.stop?.length) params.stop = p.stop;
  if (p.seed !== undefined) params.seed = p.seed;
  if (p.reasoning?.effort !== undefined) params.reasoning_effort = p.reasoning.effort;
  if (p.top_logprobs !== undefined) {
    params.logprobs = true;
    params.top_logprobs = p.top_logprobs;
  }
  return params;
}

const FINISH_REASONS: Record<string, Exclude<StopReason, "error">> = {
  stop: "end",
  tool_calls: "end",
  function_call: "end",
  length: "max_tokens",
  content_filter: "refusal",
};

/** Translates a chat completion; throws `malformed_response` if it is not one. */
export function fromChatCompletion(c: ChatCompletion, modelId: string): ProviderResult {
  const choice = c?.choices?.[0];
  if (!choice || typeof choice !== "object" || !choice.message) {
    throw new ModelCallError("malformed_response", `${modelId}: response has no choices`);
  }
  const msg = choice.message as ChatCompletion.Choice["message"] & {
    reasoning_content?: string | null;
    reasoning?: string | null;
  };
  const raw = choice.finish_reason ?? null;
  let stopReason: Exclude<StopReason, "error"> | undefined =
    raw === null ? "end" : FINISH_REASONS[raw];
  if (!stopReason) {
    throw new ModelCallError("malformed_response", `${modelId}: unknown finish reason "${raw}"`);
  }
  if (msg.refusal) stopReason = "refusal";
  // Some compatible servers send no usage (or no details): those counts stay unknown.
  const u = c.usage;
  const cached = u?.prompt_tokens_details?.cached_tokens;
  const result: ProviderResult = {
    text: msg.content ?? "",
    stopReason,
    providerStopReason: raw,
    usage: reportedUsage({
      // OpenAI counts cached prompt tokens inside prompt_tokens; we keep them apart (priced apart).
      input_tokens: u?.prompt_tokens === undefined ? undefined : u.prompt_tokens - (cached ?? 0),
      output_tokens: u?.completion_tokens,
      reasoning_tokens: u?.completion_tokens_details?.reasoning_tokens,
      cache_read_tokens: cached,
    }),
  };
  // Compatible servers (vLLM, SGLang, Together, DeepSeek) return reasoning under one of these names.
  const reasoning = msg.reasoning_content ?? msg.reasoning;
  if (reasoning) result.reasoning = reasoning;
  if (msg.refusal) result.refusal = msg.refusal;
  const logprobs = tokenLogprobs(choice.logprobs);
  if (logprobs) result.logprobs = logprobs;
  return result;
}

/** The answer's first tokens from `choices[0].logprobs.content`; none when the server sent none. */
function tokenLogprobs(
  lp: ChatCompletion.Choice["logprobs"] | undefined,
): TokenLogprob[] | undefined {
  const content = lp?.content;
  if (!Array.isArray(content) || content.length === 0) return undefined;
  return content.slice(0, LOGPROB_TOKENS_KEPT).map((t) => ({
    token: t.token,
    logprob: t.logprob,
    top: (t.top_logprobs ?? []).map((a) => ({ token: a.token, logprob: a.logprob })),
  }));
}

export class OpenAIModel implements ProviderModel {
  readonly identity: Record<string, string>;
  /** The SDK aborts a request at the timeout it is given, with its own timer. */
  readonly timesOut = true;
  constructor(
    readonly id: string,
    private readonly model: string,
    private readonly client: OpenAI,
    private readonly settings: OpenAISettings,
  ) {
    this.identity = settings.weights
      ? { base_url: client.baseURL, weights: settings.weights }
      : { base_url: client.baseURL };
  }

  async complete(
    req: ChatRequest,
    signal: AbortSignal,
    timeoutMs: number,
  ): Promise<ProviderResult> {
    const params = toOpenAIParams(this.model, req, this.settings.maxTokensField);
    try {
      const completion = await this.client.chat.completions.create(params, {
        signal,
        timeout: timeoutMs,
      });
      return fromChatCompletion(completion, this.id);
    } catch (e) {
      throw classifySdkError(e, {
        model: this.id,
        keyEnv: this.settings.keyEnv,
        timedOut: abortedByTimeout(signal),
        baseURL: this.client.baseURL,
      });
    }
  }
}
