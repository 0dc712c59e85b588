import type Anthropic from "@anthropic-ai/sdk";
import type OpenAI from "openai";
import { SpecsciError } from "../core/errors.js";
import { readSecret } from "../core/secrets.js";
import { AnthropicBatchBackend } from "./batch/anthropic.js";
import { OpenAIBatchBackend } from "./batch/openai.js";
import type { BatchCapability } from "./batch/types.js";
import { type Config, endpointUrls, RESERVED_PROVIDERS } from "./config.js";
import { ENDPOINT_PRESETS, resolveEndpoint } from "./endpoints.js";
import type { LimiterOptions } from "./limiter.js";
import type { DownloadProgress } from "./local/hf-download.js";
import { parseModelId } from "./model-id.js";
import {
  ANTHROPIC_KEY_ENV,
  AnthropicModel,
  type AnthropicSettings,
  anthropicClient,
} from "./providers/anthropic.js";
import { FakeModel } from "./providers/fake.js";
import { defaultModelCacheDir, LocalModel } from "./providers/local.js";
import {
  OPENAI_KEY_ENV,
  OpenAIModel,
  type OpenAISettings,
  openaiClient,
} from "./providers/openai.js";
import { ReplicaSet } from "./replicas.js";
import type { ProviderModel } from "./types.js";

export const BUILTIN_PROVIDERS = RESERVED_PROVIDERS;

const DEFAULT_IN_FLIGHT: Record<string, number> = {
  anthropic: 32,
  openai: 64,
  local: 1,
  fake: 256,
};
const DEFAULT_ENDPOINT_IN_FLIGHT = 32;

export interface ResolvedModel {
  provider: string;
  /** The provider's own model name. */
  name: string;
  model: ProviderModel;
  limits: LimiterOptions;
  /** Present when the provider offers this model a batch API. */
  batch?: BatchCapability;
}

/**
 * Turns a model id into a provider adapter plus its limits. Keys are read from the environment
 * here, and a missing key fails now, naming the variable, rather than on the first request.
 */
export class ProviderRegistry {
  private readonly anthropicClients = new Map<string, Anthropic>();
  private readonly openaiClients = new Map<string, OpenAI>();

  constructor(
    private readonly config: Config,
    private readonly options: {
      onDownloadProgress?: DownloadProgress;
      /** Where a served model answers (see served.ts); consulted before `endpoints:`. */
      served?: (id: string) => { base_url: string; model: string; weights?: string } | undefined;
    } = {},
  ) {}

  /** Every provider name a model id may start with. */
  knownProviders(): string[] {
    return [
      ...BUILTIN_PROVIDERS,
      ...new Set([...Object.keys(ENDPOINT_PRESETS), ...Object.keys(this.config.endpoints)]),
    ];
  }

  resolve(id: string): ResolvedModel {
    const ref = parseModelId(id);
    const cfg = this.config.providers;
    switch (ref.provider) {
      case "anthropic": {
        const keyEnv = cfg.anthropic?.api_key_env ?? ANTHROPIC_KEY_ENV;
        const settings: AnthropicSettings = {
          apiKey: requireKey(keyEnv, id),
          keyEnv,
          baseURL: cfg.anthropic?.base_url,
        };
        const client = this.cached(this.anthropicClients, settings, () =>
          anthropicClient(settings),
        );
        return {
          provider: "anthropic",
          name: ref.name,
          model: new AnthropicModel(id, ref.name, client, settings),
          limits: limitsFrom(cfg.anthropic, DEFAULT_IN_FLIGHT.anthropic),
          batch: (limits) => new AnthropicBatchBackend(client, id, ref.name, limits),
        };
      }
      case "openai": {
        const keyEnv = cfg.openai?.api_key_env ?? OPENAI_KEY_ENV;
        const settings: OpenAISettings = {
          apiKey: requireKey(keyEnv, id),
          keyEnv,
          baseURL: cfg.openai?.base_url,
          maxTokensField: "max_completion_tokens",
        };
        const client = this.cached(this.openaiClients, settings, () => openaiClient(settings));
        return {
          provider: "openai",
          name: ref.name,
          model: new OpenAIModel(id, ref.name, client, settings),
          limits: limitsFrom(cfg.openai, DEFAULT_IN_FLIGHT.openai),
          batch: openaiBatch(client, id, ref.name, settings),
        };
      }
      case "local": {
        const local = cfg.local;
        const sequences = local?.max_in_flight ?? DEFAULT_IN_FLIGHT.local ?? 1;
        return {
          provider: "local",
          name: ref.name,
          model: new LocalModel(id, ref.name, {
            threads: local?.threads,
            contextSize: local?.context_size,
            sequences,
            modelCacheDir: local?.model_cache_dir ?? defaultModelCacheDir(),
            onDownloadProgress: this.options.onDownloadProgress,
          }),
          limits: limitsFrom(local, sequences),
        };
      }
      case "fake":
        return {
          provider: "fake",
          name: ref.name,
          model: new FakeModel(id, ref.name),
          limits: limitsFrom(cfg.fake, DEFAULT_IN_FLIGHT.fake),
        };
      default: {
        const served = this.options.served?.(id);
        const endpoint = served
          ? { ...resolveEndpoint(ref.provider, this.config.endpoints), base_url: served.base_url }
          : resolveEndpoint(ref.provider, this.config.endpoints);
        if (!endpoint) {
          throw new SpecsciError(`unknown provider "${ref.provider}" in model id ${id}`, {
            hint: `use one of ${this.knownProviders().join(", ")}, or add it under endpoints: in specsci.yaml`,
          });
        }
        const keyEnv = endpoint.api_key_env;
        const apiKey = keyEnv ? requireKey(keyEnv, id) : undefined;
        const onUrl = (baseURL: string) => {
          const settings: OpenAISettings = {
            apiKey,
            keyEnv,
            baseURL,
            maxTokensField: endpoint.max_tokens_field ?? "max_tokens",
            ...(served?.weights ? { weights: served.weights } : {}),
          };
          const client = this.cached(this.openaiClients, settings, () => openaiClient(settings));
          return {
            settings,
            client,
            model: new OpenAIModel(id, served?.model ?? ref.name, client, settings),
          };
        };
        const urls = endpointUrls(endpoint);
        const made = urls.map(onUrl);
        const first = made[0] as ReturnType<typeof onUrl>;
        // Replicas act as one model: one limiter and one cache identity, balanced per attempt.
        const resolved: ResolvedModel = {
          provider: ref.provider,
          name: ref.name,
          model:
            made.length > 1
              ? new ReplicaSet(
                  id,
                  made.map((m, i) => ({ url: urls[i] as string, model: m.model })),
                )
              : first.model,
          limits: limitsFrom(endpoint, DEFAULT_ENDPOINT_IN_FLIGHT),
        };
        if (endpoint.batch)
          resolved.batch = openaiBatch(first.client, id, ref.name, first.settings);
        return resolved;
      }
    }
  }

  /** One SDK client per (key env var, base URL): connections are shared by the models on it. */
  private cached<C>(
    map: Map<string, C>,
    s: { keyEnv?: string | undefined; baseURL?: string | undefined },
    make: () => C,
  ): C {
    const k = `${s.keyEnv ?? ""}|${s.baseURL ?? ""}`;
    let c = map.get(k);
    if (!c) {
      c = make();
      map.set(k, c);
    }
    return c;
  }
}

/** The OpenAI Batch API, spoken by OpenAI and by the endpoints whose servers offer it. */
function openaiBatch(
  client: OpenAI,
  id: string,
  name: string,
  settings: OpenAISettings,
): BatchCapability {
  return (limits) => new OpenAIBatchBackend(client, id, name, settings.maxTokensField, limits);
}

function requireKey(envVar: string, modelId: string): string {
  const key = readSecret(envVar);
  if (!key) {
    throw new SpecsciError(`${modelId} needs an API key, but ${envVar} is not set`, {
      hint: `export ${envVar}=... or put it in a .env file in this directory`,
    });
  }
  return key;
}

function limitsFrom(
  cfg:
    | {
        max_in_flight?: number | undefined;
        requests_per_minute?: number | undefined;
        tokens_per_minute?: number | undefined;
      }
    | undefined,
  defaultInFlight = 32,
): LimiterOptions {
  return {
    maxInFlight: cfg?.max_in_flight ?? defaultInFlight,
    requestsPerMinute: cfg?.requests_per_minute,
    tokensPerMinute: cfg?.tokens_per_minute,
  };
}
