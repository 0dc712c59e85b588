/**
 * llm's public surface: the client a script calls models through, its configuration, model ids
 * and defaults, the `ChatModel` contract's types, validated answers, request files and served
 * models. Providers, cache, limiter, retries and batch backends are layered inside the client
 * and stay internal; the fake provider and the tiny test model are in `specsci/test`.
 */
export { callMany } from "./call-many.js";
export { LlmClient, type LlmClientOptions } from "./client.js";
export {
  CacheMode,
  type Config,
  ConfigSchema,
  defaultConfig,
  type EndpointConfig,
  type LocalConfig,
  loadConfig,
  type PriceConfig,
  type ProviderConfig,
  parseConfig,
} from "./config.js";
export { DEFAULT_MODELS, type ModelRole } from "./default-models.js";
export { ENDPOINT_PRESETS, resolveEndpoint } from "./endpoints.js";
export { ModelCallError } from "./errors.js";
export { isBuiltinModel, isLocalModel, type ModelRef, parseModelId } from "./model-id.js";
export { defaultModel } from "./models.js";
export { PRICE_TABLE } from "./prices.js";
export { BUILTIN_TINY, defaultModelCacheDir } from "./providers/local.js";
export { type ListedProvider, listProviders, SDK_BASE_URLS } from "./providers-listed.js";
export { nativeReasoning } from "./reasoning-models.js";
export {
  expandRequests,
  parseRequestsJsonl,
  type RequestDefaults,
  RequestFile,
  type RequestItem,
  type RequestSpec,
  type RunRequestsOptions,
  resultLine,
  runRequests,
  runRequestsInOrder,
} from "./request-file.js";
export { type ServedModel, servedModel, servedModels } from "./served.js";
export type * from "./types.js";
export {
  type AnswerAttempt,
  type Check,
  generateValidated,
  NoValidAnswer,
  type ValidatedOptions,
} from "./validated.js";
