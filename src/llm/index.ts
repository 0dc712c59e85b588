export { ANTHROPIC_BATCH_LIMITS, AnthropicBatchBackend } from "./batch/anthropic.js";
export { OPENAI_BATCH_LIMITS, OpenAIBatchBackend } from "./batch/openai.js";
export { BatchRunner, type BatchRunOptions } from "./batch/runner.js";
export type { BatchBackend, BatchItem, BatchItemResult, BatchState } from "./batch/types.js";
export { cacheKey, ResponseCache } from "./cache.js";
export { callMany } from "./call-many.js";
export { LlmClient, type LlmClientOptions } from "./client.js";
export {
  CacheMode,
  type Config,
  ConfigSchema,
  defaultConfig,
  type EndpointConfig,
  LLM_CONFIG_SECTIONS,
  type LocalConfig,
  loadConfig,
  type PriceConfig,
  type ProviderConfig,
  parseConfig,
  RESERVED_PROVIDERS,
} from "./config.js";
export { ENDPOINT_PRESETS } from "./endpoints.js";
export { ModelCallError } from "./errors.js";
export { type LimiterOptions, ThroughputLimiter } from "./limiter.js";
export { downloadHfFile, parseHfRef } from "./local/hf-download.js";
export { buildTinyModel, TINY_CHAT_REPLY } from "./local/tiny-model.js";
export { ManagedModel } from "./managed.js";
export { isBuiltinModel, isLocalModel, type ModelRef, parseModelId } from "./model-id.js";
export { PRICE_TABLE, PriceBook } from "./prices.js";
export { registerFakeModel } from "./providers/fake.js";
export { BUILTIN_TINY } from "./providers/local.js";
export { ProviderRegistry } from "./registry.js";
export type * from "./types.js";
export { type AnswerAttempt, type Check, generateValidated, NoValidAnswer } from "./validated.js";
