import type { ChatRequest, FailureInfo, ProviderResult } from "../types.js";

/** One request in a provider batch; `customId` is its cache key, so results can only land on it. */
export interface BatchItem {
  customId: string;
  request: ChatRequest;
}

export type BatchItemResult =
  | { customId: string; status: "succeeded"; result: ProviderResult }
  | { customId: string; status: "errored" | "expired" | "canceled"; error: FailureInfo };

export type BatchState =
  | { state: "in_progress" }
  | { state: "ended" }
  | { state: "failed"; error: string };

/** A provider's batch API, reduced to what the runner needs. Adapters only translate. */
export interface BatchBackend {
  /** Provider limits on one batch: request count and payload bytes. */
  readonly maxRequests: number;
  readonly maxBytes: number;
  /** Bytes this item adds to the submitted payload (for chunking). */
  sizeOf(item: BatchItem): number;
  submit(items: BatchItem[], jobId: string): Promise<{ remoteId: string; inputFileId?: string }>;
  state(remoteId: string): Promise<BatchState>;
  results(remoteId: string): AsyncIterable<BatchItemResult>;
  cancel(remoteId: string): Promise<void>;
}

/** What `batch:` settings allow in one batch; each backend also caps them at its provider's own. */
export interface BatchLimits {
  maxRequests?: number | undefined;
  maxBytes?: number | undefined;
}

/**
 * A model's batch API, as its provider offers it: the registry hands one out for the models that
 * have one (so the client never switches on a provider's kind), and it makes the backend.
 */
export type BatchCapability = (limits: BatchLimits) => BatchBackend;
