import type { EndpointConfig } from "./config.js";

/**
 * Well-known OpenAI-compatible endpoints, usable without configuration. `specsci.yaml` may
 * override any field or add endpoints of its own under `endpoints:`.
 */
export const ENDPOINT_PRESETS: Readonly<Record<string, EndpointConfig>> = {
  together: { base_url: "https://api.together.ai/v1", api_key_env: "TOGETHER_API_KEY" },
  openrouter: { base_url: "https://openrouter.ai/api/v1", api_key_env: "OPENROUTER_API_KEY" },
  fireworks: {
    base_url: "https://api.fireworks.ai/inference/v1",
    api_key_env: "FIREWORKS_API_KEY",
  },
  ollama: { base_url: "http://127.0.0.1:11434/v1" },
  vllm: { base_url: "http://127.0.0.1:8000/v1", batch: false },
  sglang: { base_url: "http://127.0.0.1:30000/v1" },
  llamacpp: { base_url: "http://127.0.0.1:8080/v1" },
};

export function resolveEndpoint(
  name: string,
  configured: Record<string, EndpointConfig>,
): EndpointConfig | undefined {
  const preset = ENDPOINT_PRESETS[name];
  const own = configured[name];
  if (!preset && !own) return undefined;
  return { ...(preset ?? {}), ...(own ?? {}) } as EndpointConfig;
}
