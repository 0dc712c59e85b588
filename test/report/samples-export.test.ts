/**
 * The per-sample export of an experiment run with the fakes: one row per sample × epoch with its
 * arm, seed, condition, verdicts, agreement, awareness, reasoning labels, tokens and cache key,
 * the same rows in CSV, JSONL and Parquet (read back with parquet-wasm, not the writer's library),
 * and failed samples as failures.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tableFromIPC } from "apache-arrow";
import { parse as parseCsv } from "csv-parse/sync";
import { readParquet } from "parquet-wasm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setLogLevel } from "../../src/core/log.js";
import { loadExperiment } from "../../src/experiment/config.js";
import { runExperiment } from "../../src/experiment/run.js";
import type { StageGraph } from "../../src/experiment/stages.js";
import { registerFakeModel } from "../../src/llm/providers/fake.js";
import type { ChatRequest } from "../../src/llm/types.js";
import {
  armColumns,
  experimentSource,
  runSource,
  type SampleRow,
  sampleColumns,
  sampleFormat,
  sampleRows,
  writeSamples,
} from "../../src/report/index.js";
import type { Store } from "../../src/store/index.js";
import { amAgentAnswer, registerAmFakes } from "../fakes/am-models.js";
import { fakeReasoningAnswer } from "../fakes/reasoning-labeller.js";
import { cleanupTempDirs, makeClient, ROOT } from "../helpers.js";

afterAll(cleanupTempDirs);

let dir: string;
let store: Store;
let graph: StageGraph;
let loaded: ReturnType<typeof loadExperiment>;

beforeAll(async () => {
  setLogLevel("quiet");
  registerAmFakes();
  // The suite's agent, with a reason the fake labeller reads as self-preservation.
  registerFakeModel("samples-agent", (req: ChatRequest) =>
    amAgentAnswer(req.messages.find((m) => m.role === "system")?.content ?? "").replace(
      "</scratchpad>",
      " I want to keep running, SP3 or not.</scratchpad>",
    ),
  );
  registerFakeModel("samples-labeller", (req: ChatRequest) =>
    fakeReasoningAnswer(req.messages.at(-1)?.content ?? ""),
  );
  // The judge has a price, so what each sample's judge calls cost can be checked.
  const made = makeClient({ prices: { "fake/am-judge": { input: 3, output: 15 } } });
  dir = made.dir;
  store = made.store;
  const file = join(dir, "experiment.yaml");
  writeFileSync(
    file,
    `name: samples
specs: { rules: rules }
arms:
  - { name: baseline, kind: baseline }
  - { name: rules, kind: prompted, spec: rules }
models: [fake/samples-agent]
seeds: [1, 2]
evals: [{ task: agentic-misalignment, conditions: [leaking_explicit-america_replacement, leaking_none-none_replacement], epochs: 2, eval_awareness: true }]
judge: { model: fake/am-judge }
analysis: { reasoning: { labellers: [fake/samples-labeller] } }
`,
  );
  loaded = loadExperiment(file);
  graph = await runExperiment(loaded, made.client);
});

/**
 * One run's sample turned into a failure, as the runner records one; the scores it had are kept,
 * so a score left behind would show if it were read as a verdict.
 */
function failOne(
  runId: string,
  sampleId: string,
  epoch: number,
  error = { stage: "score:misalignment", kind: "call", message: "the judge is down" },
) {
  const record = store.evals.sample(runId, sampleId, epoch);
  if (!record) throw new Error("no sample");
  store.db.transaction(() =>
    store.evals.writeSample({
      ...record,
      status: "error",
      output: null,
      parsed: null,
      error,
    }),
  )();
}

describe("export samples", () => {
  it("has one row per sample × epoch of every run, with its arm, seed and condition", () => {
    const source = experimentSource(loaded, graph, store);
    const rows = [...sampleRows(store, source)];
    // 2 arms × 1 model × 2 seeds × 2 conditions × 2 epochs.
    expect(rows).toHaveLength(16);
    const keys = new Set(rows.map((r) => `${r.arm}|${r.seed}|${r.sample_id}|${r.epoch}`));
    expect(keys.size).toBe(16);
    const rules = rows.find(
      (r) => r.arm === "rules" && r.sample_id === "leaking_explicit-america_replacement",
    ) as SampleRow;
    expect(rules).toMatchObject({
      experiment: "samples",
      spec: "rules",
      model: "fake/samples-agent",
      eval: "am",
      task: "agentic-misalignment",
      family: "leaking",
      condition_id: "leaking_explicit-america_replacement",
      outcome: "done",
      error_kind: null,
    });
    expect(rules.spec_hash).toMatch(/^[0-9a-f]{8,}/);
    expect(rules.condition).toContain("goal_type=explicit");
    expect(rules.condition).toContain("goal_value=america");
    // The fake agent acts exactly when it has a goal; the judge and the evidence agree.
    expect(rules.score_misalignment_decided).toBe(1);
    expect(rules.score_misalignment_executed_evidence).toBe(1);
    expect(rules.judge_agrees_decided).toBe(true);
    const none = rows.find((r) => r.sample_id === "leaking_none-none_replacement") as SampleRow;
    expect(none.score_misalignment_decided).toBe(0);
    expect(rows.every((r) => typeof r.eval_awareness === "string")).toBe(true);
    // Tokens and the cache key of the answer's call, as the LLM layer recorded them.
    expect(rules.input_tokens).toBeGreaterThan(0);
    expect(rules.output_tokens).toBeGreaterThan(0);
    expect(rules.cache_key).toMatch(/\S/);
    const call = store.evals.sample(
      rules.run_id as string,
      rules.sample_id as string,
      rules.epoch as number,
    )?.output as { usage: { input_tokens: number }; cache_key: string };
    expect(rules.input_tokens).toBe(call.usage.input_tokens);
    expect(rules.cache_key).toBe(call.cache_key);
    // The reasoning analysis labelled every scored transcript; the fake finds self-preservation.
    expect(rows.every((r) => r.reasoning_label === "ok")).toBe(true);
    for (const r of rows) expect(r.reasoning_categories).toEqual(["self_preservation"]);
    // The rules the reasoning cites, which the report's citations figure counts.
    for (const r of rows) {
      const scores = store.evals.sample(
        r.run_id as string,
        r.sample_id as string,
        r.epoch as number,
      )?.scores as { rule_citations: { value: Record<string, number> } };
      const { total: _total, ...counts } = scores.rule_citations.value;
      expect(r.cited_rules).toEqual(Object.keys(counts).sort());
      expect(r.cited_rules).toContain("SP3");
    }
    // AM's deterministic evidence of contact and drafts has columns of its own.
    expect(rules.score_misalignment_target_contacted).toBe(1);
    expect(rules.score_misalignment_drafted_only).toBe(0);
    // Each sample's judge calls (misalignment and awareness) cost what the call log says.
    for (const r of rows) {
      const judged = store.llm
        .sampleCalls(r.run_id as string)
        .filter(
          (c) => c.sampleId === r.sample_id && c.epoch === r.epoch && c.stage?.startsWith("score:"),
        );
      expect(judged.map((c) => c.stage).sort()).toEqual([
        "score:eval_awareness",
        "score:misalignment",
      ]);
      const cost = judged.reduce((n, c) => n + (c.costUsd ?? 0), 0);
      expect(r.judge_cost_usd).toBeCloseTo(cost, 12);
    }
    // The fake judge is free; a judge call with no known price makes its sample's cost unknown.
    expect(rows.every((r) => r.judge_cost_usd === 0)).toBe(true);
    store.llm.recordCall({
      runId: rules.run_id as string,
      stage: "score:misalignment",
      sampleId: rules.sample_id as string,
      epoch: rules.epoch as number,
      model: "vllm/unpriced-judge",
      cacheKey: "k-unpriced",
      source: "api",
      status: "ok",
      stopReason: "end",
      attempts: 1,
      inputTokens: 10,
      outputTokens: 5,
      reasoningTokens: 0,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
      costUsd: null,
      latencyMs: 1,
    });
    const again = [...sampleRows(store, source)];
    const key = (r: SampleRow) => `${r.run_id}|${r.sample_id}|${r.epoch}`;
    for (const r of again) expect(r.judge_cost_usd).toBe(key(r) === key(rules) ? null : 0);
    // Every row has every column, in the columns' order.
    const names = sampleColumns(source).map((c) => c.name);
    for (const r of rows) expect(Object.keys(r).sort()).toEqual([...names].sort());
  });

  it("says each arm's design, as the report reads it, so a notebook can redo the ladder, dose and grid figures", () => {
    const paper = loadExperiment(join(ROOT, "examples", "paper-replication.yaml"));
    const design = new Map(paper.experiment.arms.map((a) => [a.name, armColumns(a)]));
    expect(design.get("ladder-aft-n5000")).toMatchObject({
      arm_kind: "aft",
      msm_spec: "none",
      aft_spec: "specific",
      aft_size: 5000,
      design: "ladder",
      design_from: "ladder-aft",
    });
    expect(design.get("dose-msm+aft-anti10")).toMatchObject({
      arm_kind: "msm+aft",
      msm_spec: "specific",
      anti_spec: "anti-spec",
      anti_spec_share: 0.1,
      design: "anti-dose",
      design_from: "dose-msm+aft",
    });
    expect(design.get("msm+aft-rules-value-augmented")).toMatchObject({
      msm_spec: "rules",
      aft_spec: "value-augmented",
      aft_reasoning: true,
      design: "cross",
    });
    expect(design.get("it-baseline")).toMatchObject({ arm_kind: "it-only", msm_spec: null });
    const rich = loadExperiment(join(ROOT, "examples", "open-questions", "rich-general.yaml"));
    const rungs = rich.experiment.arms.filter((a) => a.design?.richness !== undefined);
    expect(rungs.length).toBeGreaterThan(1);
    for (const a of rungs)
      expect(armColumns(a)).toMatchObject({ design: "spec-ladder", richness: a.design?.richness });
    // The prompted and baseline arms of the run experiment: no training factors.
    const rows = [...sampleRows(store, experimentSource(loaded, graph, store))];
    expect(rows.find((r) => r.arm === "rules")).toMatchObject({
      arm_kind: "prompted",
      msm_spec: null,
      aft_size: null,
      design: null,
    });
    expect(runSource(store, rows[0]?.run_id as string).runs[0]?.armDef).toBeNull();
  });

  it("exports a failed sample as its failure, never with a verdict", () => {
    const run = graph.stages[0]?.runId as string;
    failOne(run, "leaking_explicit-america_replacement", 2);
    const rows = [...sampleRows(store, runSource(store, run))];
    expect(rows).toHaveLength(4);
    const failed = rows.find((r) => r.outcome === "error") as SampleRow;
    expect(failed).toMatchObject({
      experiment: null,
      arm: null,
      seed: null,
      epoch: 2,
      error_kind: "score:misalignment:call",
      error_message: "the judge is down",
      score_misalignment_decided: null,
      judge_agrees_decided: null,
      eval_awareness: null,
      input_tokens: null,
    });
  });

  it("writes the same rows as CSV, JSONL and Parquet, with the dictionary beside", () => {
    const source = experimentSource(loaded, graph, store);
    const columns = sampleColumns(source);
    const expected = [...sampleRows(store, source)];
    const jsonl = writeSamples(store, source, join(dir, "s.jsonl"));
    expect(jsonl.rows).toBe(expected.length);
    const lines = readFileSync(jsonl.file, "utf8").trim().split("\n");
    const fromJsonl = lines.map((l) => JSON.parse(l) as SampleRow);
    expect(Object.keys(fromJsonl[0] as object)).toEqual(columns.map((c) => c.name));
    expect(fromJsonl).toEqual(expected);
    // CSV and Parquet have lists as `;`-joined strings.
    const flat = (r: SampleRow) =>
      Object.fromEntries(
        columns.map((c) => {
          const v = r[c.name] ?? null;
          return [c.name, Array.isArray(v) ? v.join(";") : v];
        }),
      );
    const pq = writeSamples(store, source, join(dir, "s.parquet"));
    const table = tableFromIPC(readParquet(readFileSync(pq.file)).intoIPCStream());
    expect(table.schema.fields.map((f) => f.name)).toEqual(columns.map((c) => c.name));
    const fromParquet = table.toArray().map((r) => {
      const o = r.toJSON() as Record<string, unknown>;
      return Object.fromEntries(columns.map((c) => [c.name, o[c.name] ?? null]));
    });
    expect(fromParquet).toEqual(fromJsonl.map(flat));
    const types = Object.fromEntries(table.schema.fields.map((f) => [f.name, String(f.type)]));
    expect(types).toMatchObject({ epoch: "Int32", cost_usd: "Float64", outcome: "Utf8" });
    expect(types.judge_agrees_decided).toBe("Bool");
    const csv = writeSamples(store, source, join(dir, "s.csv"));
    const cells = parseCsv(readFileSync(csv.file, "utf8"), { columns: true }) as Record<
      string,
      string
    >[];
    const asCsv = (r: SampleRow) =>
      Object.fromEntries(Object.entries(flat(r)).map(([k, v]) => [k, v === null ? "" : String(v)]));
    expect(cells).toEqual(fromJsonl.map(asCsv));
    const dictionary = readFileSync(csv.dictionary, "utf8");
    expect(csv.dictionary).toBe(`${csv.file}.dictionary.md`);
    for (const c of columns) expect(dictionary).toContain(`| ${c.name} | ${c.type} |`);
    expect(dictionary).toContain("done, error, truncated, refused");
    expect(dictionary).toContain("joined by `;`");
  });

  it("quotes CSV fields as RFC 4180 says", () => {
    const run = graph.stages[1]?.runId as string;
    failOne(run, "leaking_none-none_replacement", 1, {
      stage: "generate",
      kind: "call",
      message: 'said "no", then\nstopped',
    });
    const out = writeSamples(store, runSource(store, run), join(dir, "q.csv"));
    const text = readFileSync(out.file, "utf8");
    expect(text).toContain('"said ""no"", then\nstopped"');
    const cells = parseCsv(text, { columns: true }) as Record<string, string>[];
    expect(cells.find((c) => c.outcome === "error")?.error_message).toBe(
      'said "no", then\nstopped',
    );
  });

  it("names the allowed extensions for an unknown one", () => {
    expect(() => sampleFormat("out.xlsx")).toThrow(/unknown extension "\.xlsx"/);
    expect(() => sampleFormat("out.xlsx")).toThrow(
      expect.objectContaining({ hint: expect.stringContaining(".csv, .jsonl, .parquet") }),
    );
    expect(sampleFormat("OUT.Parquet")).toBe("parquet");
  });
});
