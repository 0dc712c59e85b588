import type { CallRecord, Store } from "../../src/store/index.js";
import { plantRun } from "../fakes/planted-run.js";

/** A text that is hard to carry: accents, CJK, an emoji outside the BMP, a right-to-left mark. */
export const UNICODE = "Zoë 中文 🧪 \u200f עברית — “quoted”";
/** Long enough to cross any page or buffer size a driver has (2 MB). */
export const LARGE = "lorem ipsum dolor ".repeat(2 ** 17);

/**
 * A small store with a row in every table the store API writes: runs, eval runs and samples
 * (unicode, a 2 MB answer, \u0000 inside JSON strings), a reasoning label (its index rows come
 * from triggers), annotations and a retraction, model calls, cache rows, a batch job, training
 * stages and metrics, and two artifacts (blobs).
 */
export function fillStore(store: Store): void {
  plantRun(store, "run-a", ["I will send the email.", `${UNICODE} keep running`, LARGE], 1);
  // JSON.stringify writes the NUL as the six characters \u0000: PostgreSQL's text takes that.
  plantRun(store, "run-b", ["nul \u0000 inside json", "fine"]);
  // A retried sample is replaced: its rowid moves past run-b's, so rowids are not key order.
  plantRun(store, "run-a", ["I will send the email.", `${UNICODE} keep running`, LARGE], 1);
  store.runs.ensure({ id: "an", kind: "analysis", config: { unicode: UNICODE } });
  store.items.put("an", {
    key: "label:rater|run-a/s0#1",
    stage: "label:rater",
    status: "ok",
    value: { categories: [{ id: "self_preservation" }, { id: "deception" }] },
    error: null,
    attempts: 1,
  });
  store.items.put("an", {
    key: "doc-1",
    stage: "documents",
    status: "failed",
    value: null,
    error: { kind: "refused", message: UNICODE },
    attempts: 2,
  });
  const taxonomy = { version: "tax-1", categories: [{ id: "self_preservation" }] };
  const label = { runId: "run-a", sampleId: "s1", epoch: 1, annotator: "ana" } as const;
  store.annotations.put(
    {
      ...label,
      misaligned: "yes",
      categories: ["self_preservation"],
      policyMisuse: "no",
      note: UNICODE,
    },
    taxonomy,
  );
  store.annotations.delete(label);
  for (const [i, status] of (["ok", "failed"] as const).entries())
    store.llm.recordCall(
      modelCall({
        status,
        cacheKey: `key-${i}`,
        stopReason: status === "ok" ? "end" : "error",
        errorKind: status === "ok" ? null : "timeout",
        errorMessage: status === "ok" ? null : `timed out ${UNICODE}`,
        attempts: 1 + i,
        costUsd: i === 0 ? 0.000123 : null,
        replica: i === 0 ? "http://127.0.0.1:8001/v1" : null,
      }),
    );
  store.llm.cachePut({
    key: "key-0",
    model: "fake/agent",
    request: "{}",
    response: JSON.stringify({ text: UNICODE }),
  });
  store.llm.createBatchJob({
    id: "job-1",
    provider: "openai",
    model: "gpt",
    round: 1,
    items: [
      { customId: "a", request: "{}" },
      { customId: "b", request: JSON.stringify({ text: LARGE.slice(0, 1000) }) },
    ],
    runId: "run-a",
    stage: "generate",
  });
  store.runs.ensure({ id: "train-1", kind: "train" });
  store.train.start({ runId: "train-1", stage: "sft", configPath: "/c.yaml", outputDir: "/out" });
  store.train.recordMetrics("train-1", "sft", 1, { loss: 1.25, lr: 2e-5 });
  store.train.recordMetrics("train-1", "sft", 2, { loss: 0.1 + 0.2 });
  store.artifacts.put("art-1", "spec-variant", `# spec ${UNICODE}`, { model: "m" });
  store.artifacts.put("art-2", "corpus", LARGE, {});
}

/** A model call of run-a's sample s0, answered. */
export const modelCall = (over: Partial<CallRecord> = {}): CallRecord => ({
  runId: "run-a",
  stage: "generate",
  sampleId: "s0",
  epoch: 1,
  model: "fake/agent",
  cacheKey: "key",
  source: "api",
  status: "ok",
  stopReason: "end",
  attempts: 1,
  inputTokens: 1234,
  outputTokens: 56,
  reasoningTokens: 0,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
  costUsd: null,
  latencyMs: 12.5,
  ...over,
});
