import { createRequire } from "node:module";
import type Anthropic from "@anthropic-ai/sdk";
import type {
  Message,
  MessageCreateParamsNonStreaming,
} from "@anthropic-ai/sdk/resources/messages/messages";
import { log } from "../../core/log.js";
import { abortedByTimeout, classifySdkError, ModelCallError } from "../errors.js";
import { providerFetch } from "../http.js";
import { ANTHROPIC_ADAPTIVE_THINKING } from "../models.js";
import {
  type CallWarning,
  type ChatRequest,
  type ProviderModel,
  type ProviderResult,
  reportedUsage,
  type SamplingParams,
  type StopReason,
  unsupportedSetting,
} from "../types.js";

export const ANTHROPIC_KEY_ENV = "ANTHROPIC_API_KEY";

export interface AnthropicSettings {
  apiKey: string;
  keyEnv: string;
  baseURL?: string | undefined;
}

export function anthropicClient(s: AnthropicSettings): Anthropic {
  // Loaded with the first client, not when the CLI starts (it costs every command ~0.2 s).
  const { default: AnthropicSdk } = createRequire(import.meta.url)("@anthropic-ai/sdk") as {
    default: typeof Anthropic;
  };
  // Retries are ours (they must feed the shared limiter), so the SDK's own are off.
  return new AnthropicSdk({
    apiKey: s.apiKey,
    baseURL: s.baseURL,
    maxRetries: 0,
    fetch: providerFetch,
    logLevel: "off",
  });
}

/** Translates our request into Messages API parameters. Only leading system messages are allowed. */
export function toAnthropicParams(
  model: string,
  modelId: string,
  req: ChatRequest,
): MessageCreateParamsNonStreaming {
  const system: string[] = [];
  const messages: { role: "user" | "assistant"; content: string }[] = [];
  for (const m of req.messages) {
    if (m.role === "system") {
      if (messages.length > 0) {
        throw new ModelCallError(
          "bad_request",
          `${modelId}: Anthropic models accept system messages only before the conversation starts`,
        );
      }
      system.push(m.content);
    } else {
      messages.push({ role: m.role, content: m.content });
    }
  }
  const p = req.params;
  // SDK 1.x no longer types temperature/top_p: the API version it pins rejects sampling
  // parameters. temperature 1 is the API's own default, so it is simply not sent; any other value
  // is sent as asked, so a model that rejects it fails loudly (HTTP 400, the server's message)
  // instead of being silently sampled differently.
  const params: MessageCreateParamsNonStreaming & { temperature?: number; top_p?: number } = {
    model,
    max_tokens: p.max_tokens,
    messages,
  };
  if (system.length) params.system = system.join("\n\n");
  if (p.temperature !== undefined && p.temperature !== 1) params.temperature = p.temperature;
  if (p.top_p !== undefined) params.top_p = p.top_p;
  if (p.stop?.length) params.stop_sequences = p.stop;
  if (p.reasoning?.budget_tokens !== undefined) {
    params.thinking = { type: "enabled", budget_tokens: p.reasoning.budget_tokens };
  }
  return params;
}

const STOP_REASONS: Record<string, Exclude<StopReason, "error">> = {
  end_turn: "end",
  stop_sequence: "end",
  tool_use: "end",
  pause_turn: "end",
  max_tokens: "max_tokens",
  model_context_window_exceeded: "max_tokens",
  refusal: "refusal",
};

/** Translates a Messages API response; throws `malformed_response` if it is not one. */
export function fromAnthropicMessage(msg: Message, modelId: string): ProviderResult {
  if (!msg || !Array.isArray(msg.content) || !msg.usage) {
    throw new ModelCallError(
      "malformed_response",
      `${modelId}: response is not an Anthropic message`,
    );
  }
  const text: string[] = [];
  const reasoning: string[] = [];
  for (const block of msg.content) {
    if (block.type === "text") text.push(block.text);
    else if (block.type === "thinking") reasoning.push(block.thinking);
    else if (block.type === "redacted_thinking") reasoning.push("[redacted thinking]");
  }
  const raw = msg.stop_reason ?? null;
  const stopReason = raw === null ? "end" : STOP_REASONS[raw];
  if (!stopReason) {
    throw new ModelCallError("malformed_response", `${modelId}: unknown stop reason "${raw}"`);
  }
  const result: ProviderResult = {
    text: text.join(""),
    stopReason,
    providerStopReason: raw,
    usage: reportedUsage({
      input_tokens: msg.usage.input_tokens,
      output_tokens: msg.usage.output_tokens,
      cache_read_tokens: msg.usage.cache_read_input_tokens,
      cache_write_tokens: msg.usage.cache_creation_input_tokens,
    }),
  };
  if (reasoning.length) result.reasoning = reasoning.join("\n");
  return result;
}

/** What the Messages API has no parameter for; the answer comes without it, and says so. */
export function anthropicDroppedSettings(p: SamplingParams): CallWarning[] {
  const dropped: CallWarning[] = [];
  if (p.seed !== undefined)
    dropped.push(
      unsupportedSetting("seed", "Anthropic's API takes no seed: a rerun samples the answer anew"),
    );
  if (p.top_logprobs !== undefined)
    dropped.push(
      unsupportedSetting("top_logprobs", "Anthropic's API returns no log-probabilities"),
    );
  return dropped;
}

export class AnthropicModel implements ProviderModel {
  readonly droppedSettings = anthropicDroppedSettings;
  readonly identity: Record<string, string>;
  /** The SDK aborts a request at the timeout it is given, with its own timer. */
  readonly timesOut = true;
  /** The SDK's per-call thinking warning, said once per model instead. */
  private warnedThinking = false;
  constructor(
    readonly id: string,
    private readonly model: string,
    private readonly client: Anthropic,
    private readonly settings: AnthropicSettings,
  ) {
    this.identity = { base_url: client.baseURL };
  }

  async complete(
    req: ChatRequest,
    signal: AbortSignal,
    timeoutMs: number,
  ): Promise<ProviderResult> {
    const params = toAnthropicParams(this.model, this.id, req);
    if (params.thinking?.type === "enabled" && !this.warnedThinking) {
      this.warnedThinking = ANTHROPIC_ADAPTIVE_THINKING.includes(this.model);
      if (this.warnedThinking)
        log.warn(
          `${this.id}: extended thinking with a token budget is deprecated on this model (Anthropic recommends adaptive thinking)`,
        );
    }
    try {
      // Posted directly rather than through `messages.create`, which console.warns on every call
      // to a deprecated model; the client warns once per run instead (models.ts).
      const msg = await this.client.post<Message>("/v1/messages", {
        body: params,
        signal,
        timeout: timeoutMs,
      });
      return fromAnthropicMessage(msg, this.id);
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
