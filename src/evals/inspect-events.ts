/**
 * A sample's events for Inspect's Transcript tab: its start, one model event per call recorded
 * for it (the answer and each judge call, cache hits and retries included), an error event per
 * failed call, and its scores.
 */
import { deserializeRequest } from "../llm/cache.js";
import type { ProviderResult, SamplingParams } from "../llm/types.js";
import type { EvalSampleRecord, SampleCallRow, Store } from "../store/index.js";
import { assistantMessage, STOP, usage } from "./inspect-messages.js";

type Json = Record<string, unknown>;
export type SampleCall = SampleCallRow;

/** A run's sample calls by `sampleId#epoch`, read once per export. */
export function callsBySample(store: Store, runId: string): Map<string, SampleCall[]> {
  const out = new Map<string, SampleCall[]>();
  for (const c of store.llm.sampleCalls(runId)) {
    const key = `${c.sampleId}#${c.epoch}`;
    const list = out.get(key);
    if (list) list.push(c);
    else out.set(key, [c]);
  }
  return out;
}

/** Seconds from the sample's start to `iso`, never negative (clocks of one process). */
const since = (start: string, iso: string) =>
  Math.max(0, (Date.parse(iso) - Date.parse(start)) / 1000);

/** Specsci's sampling settings as Inspect's GenerateConfig (the ones Inspect has a field for). */
function generateConfig(p: SamplingParams): Json {
  return {
    max_tokens: p.max_tokens,
    ...(p.temperature !== undefined ? { temperature: p.temperature } : {}),
    ...(p.top_p !== undefined ? { top_p: p.top_p } : {}),
    ...(p.seed !== undefined ? { seed: p.seed } : {}),
    ...(p.stop ? { stop_seqs: p.stop } : {}),
    ...(p.top_logprobs !== undefined ? { logprobs: true, top_logprobs: p.top_logprobs } : {}),
  };
}

/** The usage role a call was made in ("grader" for a judge's), undefined for the model's own. */
export type RoleOf = (c: SampleCall) => string | undefined;

function modelEvent(store: Store, c: SampleCall, start: string, roleOf: RoleOf): Json {
  // A call answered with the cache off left no request or answer to show, only its record.
  const req = c.request ? deserializeRequest(store, c.request) : undefined;
  const res = c.response ? (JSON.parse(c.response) as ProviderResult) : undefined;
  // The judge's reasoning and a refusal are the call's as much as its text.
  const message = res
    ? assistantMessage({ model: c.model, text: res.text, reasoning: res.reasoning ?? null })
    : { role: "assistant", content: "", source: "generate", model: c.model };
  const ended = since(start, c.createdAt);
  return {
    event: "model",
    timestamp: c.createdAt,
    working_start: Math.max(0, ended - c.latencyMs / 1000),
    model: c.model,
    role: roleOf(c) ?? null,
    input: (req?.messages ?? []).map((m) => ({
      role: m.role,
      content: m.content,
      source: "input",
    })),
    tools: [],
    tool_choice: "none",
    config: req ? generateConfig(req.params) : {},
    output: {
      model: c.model,
      choices: res ? [{ message, stop_reason: STOP[res.stopReason] ?? "unknown" }] : [],
      completion: res?.text ?? "",
      usage: usage(c),
      time: c.latencyMs / 1000,
    },
    cache: c.source === "cache" ? "read" : c.response ? "write" : null,
    retries: c.attempts - 1,
    working_time: c.latencyMs / 1000,
    metadata: {
      stage: c.stage,
      source: c.source,
      cache_key: c.cacheKey,
      ...(res?.providerStopReason ? { provider_stop_reason: res.providerStopReason } : {}),
      ...(res?.refusal ? { refusal: res.refusal } : {}),
    },
  };
}

function errorEvent(c: SampleCall, start: string): Json {
  const message = `${c.model} (${c.stage}): ${c.errorKind}: ${c.errorMessage ?? ""}`;
  return {
    event: "error",
    timestamp: c.createdAt,
    working_start: since(start, c.createdAt),
    error: { message, traceback: message, traceback_ansi: message },
    metadata: {
      stage: c.stage,
      model: c.model,
      error_kind: c.errorKind,
      http_status: c.httpStatus ?? null,
      attempts: c.attempts,
      cache_key: c.cacheKey,
    },
  };
}

export function sampleEvents(
  store: Store,
  r: EvalSampleRecord,
  sample: { input: unknown; metadata: Json },
  scores: Record<string, Json>,
  calls: SampleCall[],
  roleOf: RoleOf,
): Json[] {
  const start = r.startedAt;
  const init = {
    event: "sample_init",
    timestamp: start,
    working_start: 0,
    sample: { id: r.sampleId, input: sample.input, target: "", metadata: sample.metadata },
    state: {},
  };
  const end = since(start, r.completedAt);
  const scored = Object.values(scores).map((score) => ({
    event: "score",
    timestamp: r.completedAt,
    working_start: end,
    score,
    intermediate: false,
  }));
  return [
    init,
    ...calls.map((c) =>
      c.status === "ok" ? modelEvent(store, c, start, roleOf) : errorEvent(c, start),
    ),
    ...scored,
  ];
}
