/**
 * Task metrics speed (npm run bench): two arms of a value-generalization run at paper scale —
 * 165 held-out pairs × 2 orders × 150 epochs = 49,500 samples per arm, written straight into a
 * store — read back by the fields the task declares, summarized (per-item means, SEM, five
 * breakdowns), compared (paired t over the pairs) and exported as an Inspect log.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportInspectLog } from "../src/evals/inspect.js";
import { compareMetric, summarizeTask } from "../src/evals/task-metrics.js";
import { RULES, TEMPTATIONS } from "../src/evals/value-generalization/dataset.js";
import { valueGeneralizationDefinition as vg } from "../src/evals/value-generalization/definition.js";
import { Store } from "../src/store/db.js";

const PAIRS = 165;
const EPOCHS = Number(process.env.BENCH_EPOCHS ?? 150);

const dir = mkdtempSync(join(tmpdir(), "specsci-bench-tasks-"));
const rows: [string, string][] = [];

/**
 * The call that answered a sample, as the runner records it (cached answer, call linked to its
 * sample), so the export's events are measured at scale.
 */
function answerCall(store: Store, arm: string, p: number, order: string, e: number, text: string) {
  const cacheKey = `${arm}-${p}-${order}-${e}`;
  const content = `pair ${p} ${order}`;
  store.llm.cachePut({
    key: cacheKey,
    model: `bench/${arm}`,
    request: JSON.stringify({
      identity: {},
      messages: [{ role: "user", content }],
      params: { max_tokens: 16 },
      sample: 0,
    }),
    response: JSON.stringify({
      text,
      stopReason: "end",
      providerStopReason: "stop",
      usage: { input_tokens: 300, output_tokens: 1 },
    }),
  });
  store.llm.recordCall({
    runId: arm,
    stage: "generate",
    sampleId: `vg-${p}:${order === "aligned-first" ? "ab" : "ba"}`,
    epoch: e,
    model: `bench/${arm}`,
    cacheKey,
    source: "api",
    status: "ok",
    stopReason: "end",
    attempts: 1,
    inputTokens: 300,
    outputTokens: 1,
    reasoningTokens: 0,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    costUsd: 0,
    latencyMs: 5,
  });
}
const time = async <T>(label: string, f: () => T | Promise<T>): Promise<T> => {
  const t0 = performance.now();
  const out = await f();
  rows.push([label, `${((performance.now() - t0) / 1000).toFixed(2)} s`]);
  return out;
};
try {
  const store = Store.open(join(dir, "ws"));
  for (const arm of ["a", "b"]) {
    store.runs.ensure({ id: arm, kind: "eval", name: arm, config: {} });
    store.evals.ensureRun({
      id: arm,
      task: vg.name,
      taskVersion: "1",
      taskArgs: {},
      model: `bench/${arm}`,
      epochs: EPOCHS,
      generateConfig: { max_tokens: 16 },
      scorerConfig: { solver: { name: "vg" }, scorers: [{ name: "choice" }] },
      datasetHash: "x",
      sampleCount: PAIRS * 2,
    });
    await time(`write ${PAIRS * 2 * EPOCHS} samples (arm ${arm})`, () =>
      store.tx(() => {
        for (let p = 0; p < PAIRS; p++)
          for (const order of ["aligned-first", "aligned-second"])
            for (let e = 1; e <= EPOCHS; e++) {
              const aligned =
                (p * 7 + e + (order === "aligned-first" ? 1 : 0)) % (arm === "a" ? 3 : 4) !== 0;
              if (arm === "a") answerCall(store, arm, p, order, e, aligned ? "A" : "B");
              store.evals.writeSample({
                runId: arm,
                sampleId: `vg-${p}:${order === "aligned-first" ? "ab" : "ba"}`,
                epoch: e,
                status: "done",
                input: [{ role: "user", content: `pair ${p} ${order}` }],
                output: {
                  model: `bench/${arm}`,
                  text: aligned ? "A" : "B",
                  reasoning: null,
                  refusal: null,
                  stop_reason: "end",
                  usage: { input_tokens: 300, output_tokens: 1 },
                  latency_ms: 5,
                },
                parsed: null,
                scores: {
                  choice: {
                    value: { aligned: aligned ? 1 : 0, chose: "A", p_aligned: aligned ? 0.8 : 0.3 },
                  },
                },
                error: null,
                metadata: {
                  item: `vg-${p}`,
                  rule: RULES[p % 5],
                  temptation: TEMPTATIONS[(p * 3) % 5],
                  order,
                  domain: `d${p}`,
                },
                startedAt: "2026-12-06T00:00:00Z",
                completedAt: "2026-12-06T00:00:01Z",
                workingMs: 1,
              });
            }
      }),
    );
  }
  const [a, b] = await time("read the fields of both arms (fieldRows)", () => [
    store.evals.fieldRows("a", vg.fields),
    store.evals.fieldRows("b", vg.fields),
  ]);
  await time("summarize both arms (2 metrics, 5 breakdowns)", () => [
    summarizeTask(vg, a ?? []),
    summarizeTask(vg, b ?? []),
  ]);
  const c = await time("compare the arms (paired t over 165 pairs)", () =>
    compareMetric(a ?? [], b ?? [], vg.metrics[0] as (typeof vg.metrics)[number]),
  );
  rows.push(["difference found", `${(100 * c.diff).toFixed(2)} pp over ${c.pairs} pairs`]);
  await time(
    "Inspect export of one arm",
    () => JSON.stringify(exportInspectLog(store, "a").log).length,
  );
  store.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const w = Math.max(...rows.map((r) => r[0].length));
console.log("\ntask metrics (value generalization at paper scale)");
for (const [k, v] of rows) console.log(`  ${k.padEnd(w)}  ${v}`);
