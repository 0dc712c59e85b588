/**
 * The model layer's settings in `specsci.yaml`: defaults for model calls (and the models each
 * role uses), the cache mode, per-provider throughput limits and keys, named OpenAI-compatible
 * endpoints, price overrides and batch settings. Today they are the whole file: `ConfigSchema`
 * composes these sections, and core reads the file against it (core/config.ts), so adding a
 * provider setting touches only this module. A layer above that adds sections of its own
 * composes them with `LLM_CONFIG_SECTIONS` the same way.
 */
import { z } from "zod";
import { loadConfigFile, parseConfigText } from "../core/config.js";
import { ModelIdSetting } from "../core/model-ids.js";

const envVarName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be the NAME of an environment variable, not its value");

const positiveInt = z.number().int().positive();

const limitsShape = {
  /** Most requests in flight at once (adaptive slow-down never goes above this). */
  max_in_flight: positiveInt.optional(),
  requests_per_minute: z.number().positive().optional(),
  /** Input + output tokens per minute. */
  tokens_per_minute: z.number().positive().optional(),
};

const ProviderConfig = z.strictObject({
  ...limitsShape,
  base_url: z.url().optional(),
  api_key_env: envVarName.optional(),
});

const EndpointConfig = z.strictObject({
  ...limitsShape,
  /** One server, or several replicas of the same served model acting as one (replicas.ts). */
  base_url: z.union([z.url(), z.array(z.url()).min(1)]),
  /** Unset means the endpoint needs no key (a local vLLM or llama.cpp server). */
  api_key_env: envVarName.optional(),
  /** Whether the server offers the OpenAI Files + Batch API. */
  batch: z.boolean().optional(),
  /** Name of the output-length field the server understands. */
  max_tokens_field: z.enum(["max_tokens", "max_completion_tokens"]).optional(),
  /** The model names the server serves: an id naming another gets a "did you mean" warning. */
  models: z.array(z.string().min(1)).optional(),
});

const LocalConfig = z.strictObject({
  ...limitsShape,
  /** CPU threads for llama.cpp. Always explicit: its own default oversubscribes small machines. */
  threads: positiveInt.optional(),
  context_size: positiveInt.optional(),
  /** Where GGUF files downloaded from Hugging Face are kept. */
  model_cache_dir: z.string().optional(),
});

const PriceConfig = z.strictObject({
  /** USD per million input tokens. */
  input: z.number().nonnegative(),
  /** USD per million output tokens (reasoning tokens are billed as output). */
  output: z.number().nonnegative(),
  cache_read: z.number().nonnegative().optional(),
  cache_write: z.number().nonnegative().optional(),
  /** Multiplier for batch requests (0.5 = half price). */
  batch_discount: z.number().positive().max(1).optional(),
});

/** Provider names with their own adapters; endpoints cannot take them. */
export const RESERVED_PROVIDERS = ["anthropic", "openai", "local", "fake"];

export const CacheMode = z.enum(["on", "read-only", "off", "replay"]);
export type CacheMode = z.infer<typeof CacheMode>;

/** How one served base model is spread over GPUs (the engines' own parallelism; train/parallel.ts). */
const ServingParallelConfig = z.strictObject({
  tensor_parallel: positiveInt.optional(),
  pipeline_parallel: positiveInt.optional(),
  data_parallel: positiveInt.optional(),
});

/**
 * Serving trained models on GPUs (`train serve`, and `run` when it starts servers): the GPUs to
 * plan for where they are not on this machine (a cluster's nodes), and per base model the layout
 * that overrides the automatic choice.
 */
/** Serving as Slurm jobs (`train serve --slurm`, `training.serve.slurm` in an experiment). */
const SlurmServingConfig = z.strictObject({
  partition: z.string().min(1).optional(),
  account: z.string().min(1).optional(),
  /** The job's time limit, as sbatch takes it. */
  time: z.string().min(1).default("04:00:00"),
  /** How the job asks for GPUs: `--gres=gpu:N` (older clusters) or `--gpus-per-node=N`. */
  gpu_request: z.enum(["gres", "gpus-per-node"]).default("gres"),
  /** More `#SBATCH` options, written as given (e.g. `--constraint=h100`). */
  sbatch_options: z.array(z.string().min(1)).default([]),
  /** Shell lines run before the server (e.g. `module load cuda`, activating an environment). */
  setup: z.array(z.string()).default([]),
  /** Seconds between checks of a job's state. */
  poll_s: z.number().positive().default(10),
});

const ServingConfig = z.strictObject({
  slurm: SlurmServingConfig.prefault({}),
  gpus_per_node: positiveInt.optional(),
  gpu_memory_gib: z.number().positive().optional(),
  nodes: positiveInt.default(1),
  /** By the base model's id as the trained model names it (or the served path of a full model). */
  models: z.record(z.string(), ServingParallelConfig).default({}),
});

/**
 * A PostgreSQL run store shared by a team (`postgres://user@host:port/db`); SPECSCI_STORE_URL
 * wins. Its password is a secret, so it comes from the environment (PGPASSWORD, or libpq's
 * ~/.pgpass), never from this file.
 */
const StoreSetting = z
  .string()
  .regex(/^postgres(ql)?:\/\//, "a PostgreSQL URL (postgres://user@host:port/db)")
  .refine(
    (url) => !/^[a-z+.-]+:\/\/[^:/@?#]*:[^@/?#]*@/i.test(url) && !/[?&]password=/i.test(url),
    {
      message:
        "holds a password: leave it out and set PGPASSWORD (or a ~/.pgpass line), so no secret is written in specsci.yaml",
    },
  );

export const LLM_CONFIG_SECTIONS = {
  defaults: z
    .strictObject({
      /** Output budget when a caller gives none. Documented; never hidden. */
      max_tokens: positiveInt.default(4096),
      /** Per-attempt timeout: no single request may hang longer than this. */
      timeout_s: z.number().positive().default(600),
      max_attempts: positiveInt.default(6),
      retry_base_ms: z.number().nonnegative().default(1000),
      retry_max_ms: z.number().nonnegative().default(60_000),
      /**
       * Models for the roles a command fills when it is not told one (the README's Model ids
       * section lists specsci's own): the eval judge, the quickstart's model, the reasoning
       * labeller, and the MSM/AFT generator and spec transforms' writer.
       */
      judge: ModelIdSetting.optional(),
      target: ModelIdSetting.optional(),
      labeller: ModelIdSetting.optional(),
      generator: ModelIdSetting.optional(),
    })
    .prefault({}),
  cache: CacheMode.default("on"),
  providers: z
    .strictObject({
      anthropic: ProviderConfig.optional(),
      openai: ProviderConfig.optional(),
      local: LocalConfig.optional(),
      fake: z.strictObject(limitsShape).optional(),
    })
    .prefault({}),
  endpoints: z
    .record(
      z
        .string()
        .regex(/^[a-z0-9][a-z0-9_-]*$/, "endpoint names are lower-case")
        .refine((name) => !RESERVED_PROVIDERS.includes(name), {
          message: `this name belongs to a built-in provider (${RESERVED_PROVIDERS.join(", ")}); choose another`,
        }),
      EndpointConfig,
    )
    .default({}),
  prices: z.record(z.string(), PriceConfig).default({}),
  serving: ServingConfig.prefault({}),
  batch: z
    .strictObject({
      poll_interval_s: z.number().positive().default(30),
      /** Give up waiting on a provider batch after this long (items are then retried). */
      timeout_h: z.number().positive().default(48),
      /** Rounds of resubmission for expired or errored items. */
      max_rounds: positiveInt.default(3),
      max_requests_per_batch: positiveInt.optional(),
      max_bytes_per_batch: positiveInt.optional(),
    })
    .prefault({}),
  store: StoreSetting.optional(),
};

/** Everything `specsci.yaml` may hold. */
export const ConfigSchema = z.strictObject(LLM_CONFIG_SECTIONS);

export type Config = z.infer<typeof ConfigSchema>;
export type ProviderConfig = z.infer<typeof ProviderConfig>;
export type EndpointConfig = z.infer<typeof EndpointConfig>;

/** An endpoint's base URLs: its one server, or each of its replicas. */
export const endpointUrls = (e: Pick<EndpointConfig, "base_url">): string[] =>
  typeof e.base_url === "string" ? [e.base_url] : e.base_url;
export type LocalConfig = z.infer<typeof LocalConfig>;
export type PriceConfig = z.infer<typeof PriceConfig>;
export type ServingConfig = z.infer<typeof ServingConfig>;
export type ServingParallelConfig = z.infer<typeof ServingParallelConfig>;
export type SlurmServingConfig = z.infer<typeof SlurmServingConfig>;

export function defaultConfig(): Config {
  return ConfigSchema.parse({});
}

/** Parses and validates config text; errors name the file, line, column and setting. */
export function parseConfig(text: string, file: string): Config {
  return parseConfigText(ConfigSchema, text, file);
}

/** The workspace's specsci.yaml (an explicit path, SPECSCI_CONFIG or ./specsci.yaml), or defaults. */
export function loadConfig(path?: string): { config: Config; path: string | undefined } {
  return loadConfigFile(ConfigSchema, path);
}
