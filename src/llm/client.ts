import { SpecsciError } from "../core/errors.js";
import type { Store } from "../store/index.js";
import { BatchRunner } from "./batch/runner.js";
import { ResponseCache } from "./cache.js";
import type { CacheMode, Config } from "./config.js";
import { GroupedRecords } from "./grouped-records.js";
import { ThroughputLimiter } from "./limiter.js";
import type { DownloadProgress } from "./local/hf-download.js";
import { ManagedModel } from "./managed.js";
import { ModelNotices } from "./models.js";
import { PriceBook } from "./prices.js";
import { ProviderRegistry, type ResolvedModel } from "./registry.js";
import type { RetryPolicy } from "./retry.js";
import { servedModel } from "./served.js";
import type { ChatModel } from "./types.js";

// The managed call path and callMany live in their own files; these names stay importable here.
export { callMany } from "./call-many.js";
export { ManagedModel } from "./managed.js";

export interface LlmClientOptions {
  store: Store;
  config: Config;
  /** Overrides `cache:` from the config (e.g. from --no-cache). */
  cacheMode?: CacheMode;
  onDownloadProgress?: DownloadProgress;
}

/**
 * The model access layer's factory: hands out `ChatModel`s whose calls go through the response
 * cache, the provider's throughput limiter, retries with backoff and a per-attempt timeout, and
 * are recorded (success or failure, with usage and cost) in the run store (see managed.ts).
 */
export class LlmClient {
  readonly store: Store;
  readonly config: Config;
  readonly cache: ResponseCache;
  readonly prices: PriceBook;
  readonly registry: ProviderRegistry;
  /** Deprecated or unknown model names, warned about once per run. */
  readonly notices: ModelNotices;
  /** Writes the records of the calls that end in one turn together (see grouped-records.ts). */
  readonly records: GroupedRecords;
  private readonly limiters = new Map<string, ThroughputLimiter>();
  private readonly models = new Map<string, ManagedModel>();

  constructor(options: LlmClientOptions) {
    this.store = options.store;
    this.config = options.config;
    this.cache = new ResponseCache(options.store, options.cacheMode ?? options.config.cache);
    this.prices = new PriceBook(options.config.prices);
    const regOpts: ConstructorParameters<typeof ProviderRegistry>[1] = {
      served: (id) => servedModel(options.store, id),
    };
    if (options.onDownloadProgress) regOpts.onDownloadProgress = options.onDownloadProgress;
    this.registry = new ProviderRegistry(options.config, regOpts);
    this.notices = new ModelNotices(options.config);
    this.records = new GroupedRecords(options.store);
  }

  /**
   * The managed model for an id such as `anthropic/claude-sonnet-4-5`. `weights` names which
   * weights answer under an id that does not say (a trained model retrained under the same name):
   * it joins the cache key, so one model's cached answers are never taken for another's.
   */
  model(id: string, weights?: string): ManagedModel {
    const key = weights ? `${id}@${weights}` : id;
    let m = this.models.get(key);
    if (!m) {
      let resolved = this.registry.resolve(id);
      this.notices.check(id);
      if (weights) {
        const inner = resolved.model;
        resolved = {
          ...resolved,
          model: {
            id: inner.id,
            identity: { ...inner.identity, weights },
            complete: (...args) => inner.complete(...args),
            ...(inner.timesOut ? { timesOut: true } : {}),
          },
        };
      }
      m = new ManagedModel(this, resolved, this.limiterFor(resolved));
      this.models.set(key, m);
    }
    return m;
  }

  /**
   * A model named by id and resolved (endpoint, credentials) only when first called: planning and
   * reporting name models in run ids without calling them, so they need no API key.
   */
  lazyModel(id: string, weights?: string): ChatModel {
    return {
      id,
      generate: (request, options) => this.model(id, weights).generate(request, options),
      call: (request, options) => this.model(id, weights).call(request, options),
    };
  }

  private limiterFor(resolved: ResolvedModel): ThroughputLimiter {
    let l = this.limiters.get(resolved.provider);
    if (!l) {
      l = new ThroughputLimiter(resolved.limits);
      this.limiters.set(resolved.provider, l);
    }
    return l;
  }

  /** A batch runner for a model whose provider offers a batch API. */
  batchRunner(id: string): BatchRunner {
    const model = this.model(id);
    const access = model.resolved.batch;
    if (!access) {
      throw new SpecsciError(`${id}: provider "${model.resolved.provider}" has no batch API`, {
        hint: "run without --batch, or set batch: true on an endpoint whose server offers the OpenAI Batch API",
      });
    }
    const limits = {
      maxRequests: this.config.batch.max_requests_per_batch,
      maxBytes: this.config.batch.max_bytes_per_batch,
    };
    return new BatchRunner(this, model, access(limits));
  }

  get retryPolicy(): RetryPolicy {
    const d = this.config.defaults;
    return {
      maxAttempts: d.max_attempts,
      baseDelayMs: d.retry_base_ms,
      maxDelayMs: d.retry_max_ms,
    };
  }
}
