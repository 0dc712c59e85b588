import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Store } from "../../src/store/db.js";
import type { CallRecord } from "../../src/store/llm-tables.js";
import { cleanupTempDirs, tempDir } from "../helpers.js";
import { describePostgres, usePostgres } from "../postgres-server.js";

afterAll(cleanupTempDirs);

const call = (over: Partial<CallRecord>): CallRecord => ({
  runId: "r1",
  stage: "score:misalignment",
  sampleId: "s1",
  epoch: 0,
  model: "vllm/judge",
  cacheKey: "k",
  source: "api",
  status: "ok",
  stopReason: "end",
  attempts: 1,
  inputTokens: 1,
  outputTokens: 1,
  reasoningTokens: 0,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
  costUsd: 0.5,
  latencyMs: 1,
  ...over,
});

/** The tests, on the store `open` gives. */
function judgeCostTests(open: () => Store) {
  it("sums each sample's judge calls, leaving out its answer and counting unpriced answers", () => {
    const store = open();
    for (const id of ["r1", "r2"]) store.runs.ensure({ id, kind: "eval", name: id });
    for (const c of [
      call({ stage: "generate", costUsd: 9 }), // the answer: not a judge
      call({}),
      call({ stage: "score:eval_awareness", costUsd: 0.25 }),
      call({ source: "cache", costUsd: 0 }),
      call({ status: "failed", stopReason: "error", errorKind: "server", costUsd: 0 }),
      call({ sampleId: "s2", costUsd: null }), // answered, no price
      call({ sampleId: "s2", source: "cache", costUsd: 0 }),
      call({ sampleId: "s1", epoch: 1, costUsd: 0.125 }),
      call({ runId: "r2", costUsd: 100 }), // another run
      call({ sampleId: null, epoch: null, costUsd: 100 }), // outside any sample
    ])
      store.llm.recordCall(c);
    const byKey = Object.fromEntries(
      store.llm.sampleJudgeCosts("r1").map((c) => [`${c.sampleId}#${c.epoch}`, c]),
    );
    expect(byKey).toEqual({
      "s1#0": { sampleId: "s1", epoch: 0, calls: 4, costUsd: 0.75, unpriced: 0 },
      "s1#1": { sampleId: "s1", epoch: 1, calls: 1, costUsd: 0.125, unpriced: 0 },
      "s2#0": { sampleId: "s2", epoch: 0, calls: 2, costUsd: 0, unpriced: 1 },
    });
    store.close();
  });
}

describe("sampleJudgeCosts (SQLite)", () => {
  judgeCostTests(() => Store.open(join(tempDir(), "ws")));
});

describePostgres("sampleJudgeCosts (PostgreSQL)", () => {
  const server = usePostgres();
  judgeCostTests(() => Store.open(join(tempDir(), "ws"), { url: server().database() }));
});
