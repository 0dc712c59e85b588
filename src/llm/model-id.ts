import { SpecsciError } from "../core/errors.js";

export interface ModelRef {
  /** `anthropic`, `openai`, `local`, `fake`, or a named OpenAI-compatible endpoint. */
  provider: string;
  /** Everything after the first slash: the provider's own model name (may contain slashes). */
  name: string;
  id: string;
}

/** Splits `provider/model` at the first slash. */
export function parseModelId(id: string): ModelRef {
  const slash = id.indexOf("/");
  if (slash <= 0 || slash === id.length - 1) {
    throw new SpecsciError(`model id "${id}" is not of the form provider/model`, {
      hint: "e.g. anthropic/claude-sonnet-4-5, openai/gpt-4.1-mini, together/Qwen/Qwen3-8B, local/hf:owner/repo/file.gguf",
    });
  }
  return { provider: id.slice(0, slash), name: id.slice(slash + 1), id };
}
