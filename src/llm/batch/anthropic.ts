import type Anthropic from "@anthropic-ai/sdk";
import { ModelCallError } from "../errors.js";
import { fromAnthropicMessage, toAnthropicParams } from "../providers/anthropic.js";
import type { ErrorKind, FailureInfo } from "../types.js";
import type { BatchBackend, BatchItem, BatchItemResult, BatchLimits, BatchState } from "./types.js";

/** Anthropic's published Message Batches limits. */
export const ANTHROPIC_BATCH_LIMITS = { maxRequests: 100_000, maxBytes: 256 * 1024 * 1024 };

const ERROR_KINDS: Record<string, ErrorKind> = {
  invalid_request_error: "bad_request",
  authentication_error: "auth",
  permission_error: "auth",
  not_found_error: "not_found",
  request_too_large: "bad_request",
  rate_limit_error: "rate_limit",
  api_error: "server",
  overloaded_error: "overloaded",
};

/** Message Batches: results stream back as JSONL and are matched by custom_id. */
export class AnthropicBatchBackend implements BatchBackend {
  readonly maxRequests: number;
  readonly maxBytes: number;

  constructor(
    private readonly client: Anthropic,
    private readonly modelId: string,
    private readonly modelName: string,
    limits: BatchLimits = {},
  ) {
    this.maxRequests = Math.min(
      limits.maxRequests ?? Number.POSITIVE_INFINITY,
      ANTHROPIC_BATCH_LIMITS.maxRequests,
    );
    this.maxBytes = Math.min(
      limits.maxBytes ?? Number.POSITIVE_INFINITY,
      ANTHROPIC_BATCH_LIMITS.maxBytes,
    );
  }

  private line(item: BatchItem) {
    return {
      custom_id: item.customId,
      params: toAnthropicParams(this.modelName, this.modelId, item.request),
    };
  }

  sizeOf(item: BatchItem): number {
    return Buffer.byteLength(JSON.stringify(this.line(item))) + 1;
  }

  async submit(items: BatchItem[]): Promise<{ remoteId: string }> {
    const batch = await this.client.messages.batches.create({
      requests: items.map((i) => this.line(i)),
    });
    return { remoteId: batch.id };
  }

  async state(remoteId: string): Promise<BatchState> {
    const batch = await this.client.messages.batches.retrieve(remoteId);
    return batch.processing_status === "ended" ? { state: "ended" } : { state: "in_progress" };
  }

  async *results(remoteId: string): AsyncIterable<BatchItemResult> {
    for await (const line of await this.client.messages.batches.results(remoteId)) {
      const r = line.result;
      if (r.type === "succeeded") {
        let result: ReturnType<typeof fromAnthropicMessage>;
        try {
          result = fromAnthropicMessage(r.message, this.modelId);
        } catch (e) {
          yield {
            customId: line.custom_id,
            status: "errored",
            error: (e as ModelCallError).toFailure(),
          };
          continue;
        }
        yield { customId: line.custom_id, status: "succeeded", result };
      } else if (r.type === "errored") {
        const inner = (r.error as { error?: { type?: string; message?: string } }).error;
        const kind = ERROR_KINDS[inner?.type ?? ""] ?? "server";
        const error: FailureInfo = new ModelCallError(
          kind,
          `${this.modelId}: batch item failed: ${inner?.type ?? "error"}: ${inner?.message ?? ""}`,
        ).toFailure();
        yield { customId: line.custom_id, status: "errored", error };
      } else {
        const kind = r.type === "expired" ? "batch_expired" : "batch_canceled";
        yield {
          customId: line.custom_id,
          status: r.type,
          error: { kind, message: `${this.modelId}: batch item ${r.type}`, retryable: true },
        };
      }
    }
  }

  async cancel(remoteId: string): Promise<void> {
    await this.client.messages.batches.cancel(remoteId);
  }
}
