/**
 * The providers a workspace can call, as `specsci models list` shows them: where each one's
 * requests go, which environment variable holds its key and whether that key is set, and whether
 * it takes batch jobs. Read from the configuration and the environment; no call is made.
 */
import { envVar } from "../core/env.js";
import { readSecret } from "../core/secrets.js";
import { type Config, endpointUrls } from "./config.js";
import { ENDPOINT_PRESETS, resolveEndpoint } from "./endpoints.js";
import { ANTHROPIC_KEY_ENV } from "./providers/anthropic.js";
import { OPENAI_KEY_ENV } from "./providers/openai.js";

/**
 * Where the official SDKs send requests when neither `specsci.yaml` (`providers.<name>.base_url`)
 * nor the SDK's own environment variable says otherwise: the SDKs read the variable themselves.
 */
export const SDK_BASE_URLS = {
  anthropic: { env: "ANTHROPIC_BASE_URL", url: "https://api.anthropic.com" },
  openai: { env: "OPENAI_BASE_URL", url: "https://api.openai.com/v1" },
} as const;

export interface ListedProvider {
  provider: string;
  base_url: string;
  /** The variable holding its key, or "-" when it needs none. */
  key_env: string;
  key: "set" | "missing" | "not needed";
  batch: boolean;
}

const keyStatus = (env: string | undefined): ListedProvider["key"] =>
  env ? (readSecret(env) ? "set" : "missing") : "not needed";

/** The SDK providers, then the endpoints (presets and configured ones), then the local engine. */
export function listProviders(config: Config): ListedProvider[] {
  const sdk = (provider: "anthropic" | "openai", defaultKeyEnv: string): ListedProvider => {
    const own = config.providers[provider];
    const keyEnv = own?.api_key_env ?? defaultKeyEnv;
    const { env, url } = SDK_BASE_URLS[provider];
    return {
      provider,
      base_url: own?.base_url ?? envVar(env) ?? url,
      key_env: keyEnv,
      key: keyStatus(keyEnv),
      batch: true,
    };
  };
  const endpoints = [
    ...new Set([...Object.keys(ENDPOINT_PRESETS), ...Object.keys(config.endpoints)]),
  ]
    .map((name) => [name, resolveEndpoint(name, config.endpoints)] as const)
    .filter((e): e is [string, NonNullable<(typeof e)[1]>] => e[1] !== undefined)
    .map(([name, e]) => ({
      provider: name,
      base_url: endpointUrls(e).join(", "),
      key_env: e.api_key_env ?? "-",
      key: keyStatus(e.api_key_env),
      batch: e.batch === true,
    }));
  return [
    sdk("anthropic", ANTHROPIC_KEY_ENV),
    sdk("openai", OPENAI_KEY_ENV),
    ...endpoints,
    {
      provider: "local",
      base_url: "(in process, llama.cpp)",
      key_env: "-",
      key: "not needed",
      batch: false,
    },
  ];
}
