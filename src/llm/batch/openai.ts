import type OpenAI from "openai";
import { kindForStatus, ModelCallError } from "../errors.js";
import {
  fromChatCompletion,
  type OpenAISettings,
  openaiSdk,
  toOpenAIParams,
} from "../providers/openai.js";
import type { BatchBackend, BatchItem, BatchItemResult, BatchLimits, BatchState } from "./types.js";

/** OpenAI's published Batch API limits (requests per batch, input file size). */
export const OPENAI_BATCH_LIMITS = { maxRequests: 50_000, maxBytes: 200 * 1024 * 1024 };

interface OutputLine {
  custom_id?: string;
  response?: { status_code?: number; body?: unknown } | null;
  error?: { code?: string; message?: string } | null;
}

/**
 * The OpenAI Batch API (also offered by some compatible servers): requests are uploaded as a
 * JSONL file, results come back as output and error files, matched by custom_id.
 */
export class OpenAIBatchBackend implements BatchBackend {
  readonly maxRequests: number;
  readonly maxBytes: number;

  constructor(
    private readonly client: OpenAI,
    private readonly modelId: string,
    private readonly modelName: string,
    private readonly maxTokensField: OpenAISettings["maxTokensField"],
    limits: BatchLimits = {},
  ) {
    this.maxRequests = Math.min(
      limits.maxRequests ?? Number.POSITIVE_INFINITY,
      OPENAI_BATCH_LIMITS.maxRequests,
    );
    this.maxBytes = Math.min(
      limits.maxBytes ?? Number.POSITIVE_INFINITY,
      OPENAI_BATCH_LIMITS.maxBytes,
    );
  }

  private line(item: BatchItem): string {
    return JSON.stringify({
      custom_id: item.customId,
      method: "POST",
      url: "/v1/chat/completions",
      body: toOpenAIParams(this.modelName, item.request, this.maxTokensField),
    });
  }

  sizeOf(item: BatchItem): number {
    return Buffer.byteLength(this.line(item)) + 1;
  }

  async submit(
    items: BatchItem[],
    jobId: string,
  ): Promise<{ remoteId: string; inputFileId: string }> {
    const body = `${items.map((i) => this.line(i)).join("\n")}\n`;
    const file = await this.client.files.create({
      file: await openaiSdk().toFile(Buffer.from(body, "utf8"), `specsci-${jobId}.jsonl`),
      purpose: "batch",
    });
    const batch = await this.client.batches.create({
      input_file_id: file.id,
      endpoint: "/v1/chat/completions",
      completion_window: "24h",
      metadata: { specsci_job: jobId },
    });
    return { remoteId: batch.id, inputFileId: file.id };
  }

  async state(remoteId: string): Promise<BatchState> {
    const b = await this.client.batches.retrieve(remoteId);
    if (b.status === "failed") {
      return {
        state: "failed",
        error: b.errors?.data?.[0]?.message ?? "the provider rejected the batch",
      };
    }
    return ["completed", "expired", "cancelled"].includes(b.status)
      ? { state: "ended" }
      : { state: "in_progress" };
  }

  async *results(remoteId: string): AsyncIterable<BatchItemResult> {
    const b = await this.client.batches.retrieve(remoteId);
    for (const fileId of [b.output_file_id, b.error_file_id]) {
      if (!fileId) continue;
      const text = await (await this.client.files.content(fileId)).text();
      for (const raw of text.split("\n")) {
        if (!raw.trim()) continue;
        let line: OutputLine;
        try {
          line = JSON.parse(raw) as OutputLine;
        } catch {
          continue; // a torn line cannot be matched to a request; its item ends up "missing" and is retried
        }
        if (!line.custom_id) continue;
        yield this.parseLine(line as OutputLine & { custom_id: string });
      }
    }
  }

  private parseLine(line: OutputLine & { custom_id: string }): BatchItemResult {
    const status = line.response?.status_code;
    if (status === 200 && line.response?.body) {
      try {
        return {
          customId: line.custom_id,
          status: "succeeded",
          result: fromChatCompletion(
            line.response.body as Parameters<typeof fromChatCompletion>[0],
            this.modelId,
          ),
        };
      } catch (e) {
        return {
          customId: line.custom_id,
          status: "errored",
          error: (e as ModelCallError).toFailure(),
        };
      }
    }
    const code = line.error?.code ?? "";
    if (code === "batch_expired") {
      return {
        customId: line.custom_id,
        status: "expired",
        error: {
          kind: "batch_expired",
          message: `${this.modelId}: batch item expired`,
          retryable: true,
        },
      };
    }
    if (code === "batch_cancelled") {
      return {
        customId: line.custom_id,
        status: "canceled",
        error: {
          kind: "batch_canceled",
          message: `${this.modelId}: batch item cancelled`,
          retryable: true,
        },
      };
    }
    const bodyError = (line.response?.body as { error?: { message?: string } } | undefined)?.error;
    const kind = status ? kindForStatus(status) : "server";
    const message = `${this.modelId}: batch item failed${status ? ` (HTTP ${status})` : ""}: ${bodyError?.message ?? line.error?.message ?? code}`;
    const opts = status ? { httpStatus: status } : {};
    return {
      customId: line.custom_id,
      status: "errored",
      error: new ModelCallError(kind, message, opts).toFailure(),
    };
  }

  async cancel(remoteId: string): Promise<void> {
    await this.client.batches.cancel(remoteId);
  }
}
