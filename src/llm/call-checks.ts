/** The checks every call passes, online or batched: the request's shape, and the answer's. */
import { ModelCallError } from "./errors.js";
import type { ChatRequest, ProviderResult } from "./types.js";

const ROLES: ReadonlySet<string> = new Set(["system", "user", "assistant"]);

/** Fills in the documented default output budget and checks the request's shape. */
export function normalizeRequest(
  request: ChatRequest,
  modelId: string,
  defaultMaxTokens: number,
): ChatRequest {
  const params = { ...request.params };
  if (params.max_tokens === undefined) params.max_tokens = defaultMaxTokens;
  if (!Number.isInteger(params.max_tokens) || params.max_tokens < 1) {
    throw new ModelCallError("bad_request", `${modelId}: max_tokens must be a positive integer`, {
      retryable: false,
    });
  }
  if (!Array.isArray(request.messages) || request.messages.length === 0) {
    throw new ModelCallError("bad_request", `${modelId}: a request needs at least one message`, {
      retryable: false,
    });
  }
  for (const m of request.messages) {
    if (!ROLES.has(m.role) || typeof m.content !== "string") {
      throw new ModelCallError(
        "bad_request",
        `${modelId}: messages need a role (system, user, assistant) and string content`,
        {
          retryable: false,
        },
      );
    }
  }
  const sampleIndex = request.sampleIndex ?? 0;
  if (!Number.isInteger(sampleIndex) || sampleIndex < 0) {
    throw new ModelCallError(
      "bad_request",
      `${modelId}: sampleIndex must be a non-negative integer`,
      { retryable: false },
    );
  }
  return { messages: request.messages, params, sampleIndex };
}

/**
 * An answer with no text, no reasoning and no refusal signal is not an answer: it is retried and,
 * if it persists, recorded as a failure, never passed on as an empty (benign-looking) reply.
 */
export function checkResult(result: ProviderResult, modelId: string): void {
  if (result.text === "" && !result.reasoning && result.stopReason === "end") {
    throw new ModelCallError("empty_response", `${modelId}: the model returned an empty answer`);
  }
}
