import { canonicalJson, sha256Hex } from "../core/hash.js";
import type { CacheRow, Store } from "../store/index.js";
import type { CacheMode } from "./config.js";
import type { ChatMessage, ChatRequest, ProviderResult, SamplingParams } from "./types.js";

const KEY_VERSION = 1;
/** Message bodies longer than this are stored once in `texts` and referenced by hash. */
const INLINE_LIMIT = 1024;

function normalizeParams(p: SamplingParams): SamplingParams {
  const out: SamplingParams = { ...p };
  if (out.stop && out.stop.length === 0) delete out.stop;
  return out;
}

/**
 * The cache key of a request: sha256 over the canonical JSON of the model id, the identity of
 * what serves it (e.g. an endpoint's base URL), every message, every sampling parameter and the
 * sample index. Secrets are never part of it.
 *
 * The canonical JSON of `{v, model, identity, messages, params, sample}` is written with its
 * members already in sorted order, so only the open-ended parts (identity, params) go through
 * the generic key sort: the same bytes as `hashValue` of that object (the test pins keys made the
 * generic way), with a third less work on the hot path of every call.
 */
export function cacheKey(
  modelId: string,
  identity: Record<string, string>,
  req: ChatRequest,
): string {
  let messages = "";
  for (const m of req.messages) {
    // Members in sorted order: content, role.
    messages += `${messages ? "," : ""}{"content":${JSON.stringify(m.content)},"role":${JSON.stringify(m.role)}}`;
  }
  return sha256Hex(
    `{"identity":${canonicalJson(identity)},"messages":[${messages}],"model":${JSON.stringify(modelId)},` +
      `"params":${canonicalJson(normalizeParams(req.params))},"sample":${canonicalJson(req.sampleIndex ?? 0)},"v":${KEY_VERSION}}`,
  );
}

type StoredMessage =
  | { role: ChatMessage["role"]; content: string }
  | { role: ChatMessage["role"]; text: string };

/** Serializes a request for storage, with long message bodies stored once in `texts`. */
export function serializeRequest(
  store: Store,
  req: ChatRequest,
  identity: Record<string, string>,
): string {
  const messages: StoredMessage[] = req.messages.map((m) =>
    m.content.length > INLINE_LIMIT
      ? { role: m.role, text: store.texts.put(m.content) }
      : { role: m.role, content: m.content },
  );
  return canonicalJson({ identity, messages, params: req.params, sample: req.sampleIndex ?? 0 });
}

export function deserializeRequest(store: Store, json: string): ChatRequest {
  const stored = JSON.parse(json) as {
    messages: StoredMessage[];
    params: SamplingParams;
    sample: number;
  };
  return {
    messages: stored.messages.map((m) => ({
      role: m.role,
      content: "text" in m ? store.texts.get(m.text) : m.content,
    })),
    params: stored.params,
    sampleIndex: stored.sample,
  };
}

/**
 * The store-backed response cache. Modes: `on` reads and writes; `read-only` reads but never
 * writes; `off` neither (every call goes to the provider); `replay` reads and treats a miss as a
 * failure, for exact offline reproduction of a finished run.
 */
export class ResponseCache {
  constructor(
    private readonly store: Store,
    readonly mode: CacheMode,
  ) {}

  get reads(): boolean {
    return this.mode !== "off";
  }

  get writes(): boolean {
    return this.mode === "on";
  }

  get(key: string): ProviderResult | undefined {
    if (!this.reads) return undefined;
    const response = this.store.llm.cacheResponse(key);
    return response === undefined ? undefined : (JSON.parse(response) as ProviderResult);
  }

  /**
   * The answers held for many keys at once, by key (a key not held is absent); none in mode
   * `off`, which never reads.
   */
  getMany(keys: readonly string[]): Map<string, ProviderResult> {
    const found = new Map<string, ProviderResult>();
    if (!this.reads) return found;
    for (const [key, response] of this.store.llm.cacheResponses(keys))
      found.set(key, JSON.parse(response) as ProviderResult);
    return found;
  }

  /**
   * The entry to store for a new answer, undefined when this mode does not write; call inside
   * the transaction that records the call, so cache and call log never disagree.
   */
  entry(
    key: string,
    modelId: string,
    identity: Record<string, string>,
    req: ChatRequest,
    result: ProviderResult,
  ): CacheRow | undefined {
    if (!this.writes) return undefined;
    return {
      key,
      model: modelId,
      request: serializeRequest(this.store, req, identity),
      response: JSON.stringify(result),
    };
  }

  /** The full request stored under a key (long message bodies re-expanded). */
  request(key: string): (ChatRequest & { model: string }) | undefined {
    const row = this.store.llm.cacheGet(key);
    return row ? { model: row.model, ...deserializeRequest(this.store, row.request) } : undefined;
  }
}
