/**
 * Request files: JSONL with one prompt per line, run through the model access layer online or as
 * provider batches. This is how a researcher pushes an arbitrary prompt set through specsci with
 * caching, limits, retries, resumption and accounting, and how the crash tests drive the layer.
 *
 * Line format: {"id": "q1", "messages": [{"role": "user", "content": "…"}]} or the shorthand
 * {"id": "q1", "prompt": "…", "system": "…"}; optional "params" (sampling parameters) and
 * "samples" (how many samples of this prompt; default from the caller).
 */
import { z } from "zod";
import { SpecsciError } from "../core/errors.js";
import { createProgress } from "../core/progress.js";
import type { BatchRunOptions } from "./batch/runner.js";
import { callMany } from "./call-many.js";
import type { LlmClient } from "./client.js";
import {
  type CallContext,
  type ChatOutcome,
  type ChatRequest,
  completionRecord,
  type SamplingParams,
} from "./types.js";

const Message = z.strictObject({
  role: z.enum(["system", "user", "assistant"]),
  content: z.string(),
});
const Params = z.strictObject({
  max_tokens: z.number().int().positive().optional(),
  temperature: z.number().min(0).optional(),
  top_p: z.number().min(0).max(1).optional(),
  stop: z.array(z.string()).optional(),
  seed: z.number().int().optional(),
  reasoning: z
    .strictObject({
      budget_tokens: z.number().int().positive().optional(),
      effort: z.enum(["low", "medium", "high"]).optional(),
    })
    .optional(),
});
const Line = z
  .strictObject({
    id: z.union([z.string().min(1), z.number()]).transform(String),
    messages: z.array(Message).min(1).optional(),
    prompt: z.string().optional(),
    system: z.string().optional(),
    params: Params.optional(),
    samples: z.number().int().positive().optional(),
  })
  .refine((l) => (l.messages === undefined) !== (l.prompt === undefined), {
    message: 'give exactly one of "messages" or "prompt"',
  });

export interface RequestSpec {
  id: string;
  messages: ChatRequest["messages"];
  params: Partial<SamplingParams>;
  samples: number | undefined;
}

/** One request to run: a line of the file and which of its samples. */
export interface RequestItem {
  id: string;
  sample: number;
  request: ChatRequest;
}

export function parseRequestsJsonl(text: string, file: string): RequestSpec[] {
  const specs: RequestSpec[] = [];
  const ids = new Set<string>();
  const lines = text.split("\n");
  for (const [i, raw] of lines.entries()) {
    if (!raw.trim()) continue;
    const where = `${file}:${i + 1}`;
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch (e) {
      throw new SpecsciError(`${where}: not valid JSON: ${(e as Error).message}`);
    }
    const parsed = Line.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue?.path.length ? `${issue.path.join(".")}: ` : "";
      throw new SpecsciError(`${where}: ${field}${issue?.message ?? "invalid request"}`, {
        hint: 'each line needs "id" and either "messages" or "prompt"',
      });
    }
    const l = parsed.data;
    if (ids.has(l.id)) throw new SpecsciError(`${where}: duplicate id "${l.id}"`);
    ids.add(l.id);
    const messages = l.messages ?? [
      ...(l.system === undefined ? [] : [{ role: "system" as const, content: l.system }]),
      { role: "user" as const, content: l.prompt as string },
    ];
    specs.push({ id: l.id, messages, params: l.params ?? {}, samples: l.samples });
  }
  if (specs.length === 0) throw new SpecsciError(`${file}: no requests (the file is empty)`);
  return specs;
}

/** Expands specs into one item per sample; per-line params win over the defaults given here. */
export function expandRequests(
  specs: RequestSpec[],
  defaults: { params: Partial<SamplingParams>; samples: number; maxTokens: number },
): RequestItem[] {
  const items: RequestItem[] = [];
  for (const s of specs) {
    const params = { ...defaults.params, ...s.params } as SamplingParams;
    params.max_tokens ??= defaults.maxTokens;
    for (let sample = 0; sample < (s.samples ?? defaults.samples); sample++) {
      items.push({
        id: s.id,
        sample,
        request: { messages: s.messages, params, sampleIndex: sample },
      });
    }
  }
  return items;
}

export interface RunRequestsOptions {
  modelId: string;
  batch?: boolean;
  context?: CallContext;
  pollIntervalMs?: number;
  signal?: AbortSignal;
}

/** Runs every item, online (bounded concurrency) or as provider batches, keeping input order. */
export async function runRequests(
  client: LlmClient,
  items: RequestItem[],
  options: RunRequestsOptions,
): Promise<ChatOutcome[]> {
  const requests = items.map((i) => i.request);
  const progress = createProgress(options.batch ? "batch" : "calls", requests.length);
  const callOpts: { context?: CallContext; signal?: AbortSignal } = {};
  if (options.context) callOpts.context = options.context;
  if (options.signal) callOpts.signal = options.signal;
  try {
    if (options.batch) {
      const runOpts: BatchRunOptions = {
        ...callOpts,
        onProgress: (done) => progress.update(done),
      };
      if (options.pollIntervalMs !== undefined) runOpts.pollIntervalMs = options.pollIntervalMs;
      return await client.batchRunner(options.modelId).run(requests, runOpts);
    }
    return await callMany(client.model(options.modelId), requests, {
      ...callOpts,
      onResult: () => progress.increment(),
    });
  } finally {
    progress.stop();
  }
}

/** One line of a results file: the answer, or the failure (which has no text field at all). */
export function resultLine(item: RequestItem, o: ChatOutcome): string {
  const head = { id: item.id, sample: item.sample, model: o.model };
  return JSON.stringify(
    o.ok
      ? { ...head, ok: true, ...completionRecord(o) }
      : { ...head, ok: false, stop_reason: "error", error: o.error, cache_key: o.cacheKey },
  );
}
