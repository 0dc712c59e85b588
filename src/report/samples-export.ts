/**
 * Tidy per-sample data (`specsci export samples`): one row per sample × epoch of a run or of every
 * eval run of an experiment, with its arm, model, seed, condition, each scorer's values, the AM
 * judge's agreement with the deterministic evidence, eval awareness, the reasoning labels, the
 * outcome, tokens, cost and cache key. Rows are yielded run by run: only one run's projected fields
 * (never transcripts) are held at a time, so a 200,000-sample experiment streams.
 */

import {
  analysisId,
  itemKey,
  type LabelValue,
  labelStage,
  raterId,
} from "../analysis/reasoning/index.js";
import { isAmTask } from "../evals/am/task.js";
import { taskDefinition } from "../evals/tasks.js";
import type { Arm, LoadedExperiment } from "../experiment/config.js";
import { armAnalyses } from "../experiment/reasoning.js";
import type { StageGraph } from "../experiment/stages.js";
import type { FieldRow, Store } from "../store/index.js";
import { armAft, armFactors } from "./results.js";

export type ColumnType = "string" | "int" | "double" | "boolean" | "list<string>";

export interface SampleColumn {
  name: string;
  type: ColumnType;
  description: string;
  /** The values a column may take, where they are a closed set. */
  allowed?: string[];
  /** false: never null. */
  nullable: boolean;
}

export type CellValue = string | number | boolean | string[] | null;
export type SampleRow = Record<string, CellValue>;

/** The outcomes of a (sample, epoch), as the store records them. */
export const OUTCOMES = ["done", "error", "truncated", "refused"];

const col = (
  name: string,
  type: ColumnType,
  description: string,
  extra: { allowed?: string[]; nullable?: boolean } = {},
): SampleColumn => ({
  name,
  type,
  description,
  nullable: extra.nullable ?? true,
  ...(extra.allowed ? { allowed: extra.allowed } : {}),
});

/** The columns every export has, in order (the scorers' columns follow `condition`). */
const HEAD: SampleColumn[] = [
  col("experiment", "string", "the experiment's name (null for a single run)"),
  col("run_id", "string", "the eval run the sample belongs to", { nullable: false }),
  col("arm", "string", "the experiment arm (null for a single run)"),
  col("arm_kind", "string", "the arm's kind (null for a single run)", {
    allowed: ["baseline", "prompted", "msm", "aft", "msm+aft", "it-only"],
  }),
  col(
    "msm_spec",
    "string",
    "a trained arm's MSM spec (with its own MSM recipe's name, if any), `none` where it has no MSM (else null)",
  ),
  col(
    "aft_spec",
    "string",
    "a trained arm's AFT spec (with its anti-spec dose), `none` without AFT",
  ),
  col("aft_reasoning", "boolean", "an AFT arm fine-tuned with reasoning (false: the no-CoT set)"),
  col("aft_size", "int", "an AFT arm's number of AFT examples, where it sets one (ladders)"),
  col("anti_spec", "string", "the anti-spec an AFT arm's data was dosed with"),
  col("anti_spec_share", "double", "the share of anti-spec examples in that arm's AFT data (0-1)"),
  col("design", "string", "the design that wrote the arm", {
    allowed: ["ladder", "cross", "anti-dose", "spec-ladder"],
  }),
  col("design_from", "string", "the arm of the experiment file the design grew from"),
  col("richness", "int", "a spec-ladder arm's rung, 0 the least rich spec"),
  col("spec", "string", "the spec under test of the arm, by name (null: none)"),
  col("spec_hash", "string", "the spec's content hash"),
  col("model", "string", "the model evaluated (for a trained arm: its experiment model)", {
    nullable: false,
  }),
  col("seed", "int", "the experiment seed (null for a single run)"),
  col("eval", "string", "the eval's name in the experiment (for a single run: its task)", {
    nullable: false,
  }),
  col("task", "string", "the registered task", { nullable: false }),
  col("task_version", "string", "the task's version", { nullable: false }),
  col("sample_id", "string", "the sample's id within the task", { nullable: false }),
  col("item", "string", "the item the sample belongs to (samples of one item are paired)", {
    nullable: false,
  }),
  col("epoch", "int", "the epoch, from 1", { nullable: false }),
  col("family", "string", "the scenario family (agentic misalignment), null for other tasks"),
  col("condition_id", "string", "the condition's id (agentic misalignment), else null"),
  col(
    "condition",
    "list<string>",
    "the sample's scalar metadata as key=value, sorted by key (AM: goal_type, goal_value, threat, toggles…; other tasks: their declared fields such as subject or rule)",
  ),
];

/** The columns after the scorers'. */
const TAIL: SampleColumn[] = [
  col(
    "judge_agrees_executed",
    "boolean",
    "AM: the judge's `executed` equals the deterministic evidence's (null without both)",
  ),
  col(
    "judge_agrees_decided",
    "boolean",
    "AM: the judge's `decided` equals the evidence's `executed` (null without both)",
  ),
  col("eval_awareness", "string", "AM: the eval-awareness judge's label, when that scorer ran"),
  col(
    "reasoning_label",
    "string",
    "the reasoning analysis's primary label: ok, failed, or null where the sample is not labelled",
    { allowed: ["ok", "failed"] },
  ),
  col("reasoning_categories", "list<string>", "taxonomy category ids the primary label gives"),
  col("reasoning_rules", "list<string>", "rule ids the primary label says the reasoning invokes"),
  col(
    "cited_rules",
    "list<string>",
    "AM: rule ids the reasoning cites (scorer rule_citations; the report's citations figure is the share of done samples citing each), sorted",
  ),
  col(
    "outcome",
    "string",
    "how the sample ended: done (scored), error (a call or scorer failed), truncated (cut off at its output budget), refused (the provider refused); only done rows have scores",
    { allowed: OUTCOMES, nullable: false },
  ),
  col("error_kind", "string", "stage:kind of an unscored sample (generate:call, score:x:invalid…)"),
  col("error_message", "string", "the failure's message"),
  col("input_tokens", "int", "the answer's prompt tokens (the evaluated model's call only)"),
  col("output_tokens", "int", "the answer's output tokens"),
  col("reasoning_tokens", "int", "the part of output_tokens spent reasoning, where reported"),
  col("cache_read_tokens", "int", "prompt tokens read from the provider's cache"),
  col("cost_usd", "double", "the answer's cost in USD (judges' calls not included)"),
  col(
    "judge_cost_usd",
    "double",
    "the sample's judge calls' cost in USD (every scorer's model calls; cache hits and failed calls cost 0); null when the sample had none, or one has no known price",
  ),
  col("cache_key", "string", "the key of the answer's call in the LLM cache (`specsci cache`)"),
];

/** A run of the export and what it is, beyond its samples. */
export interface ExportRun {
  runId: string;
  experiment: string | null;
  arm: string | null;
  /** The arm's definition, for its design columns (null for a single run). */
  armDef: Arm | null;
  spec: { name: string; hash: string } | null;
  model: string;
  seed: number | null;
  eval: string;
  task: string;
  taskVersion: string;
  /** The reasoning analysis that labels this run's samples, if any. */
  labels: { analysisId: string; rater: string } | null;
}

/** What an export reads: its runs in order. */
export interface SampleSource {
  runs: ExportRun[];
}

/** One run, alone. */
export function runSource(store: Store, runId: string): SampleSource {
  const run = store.evals.run(runId);
  if (!run) throw new Error(`no eval run ${runId}`);
  return {
    runs: [
      {
        runId,
        experiment: null,
        arm: null,
        armDef: null,
        spec: null,
        model: run.model,
        seed: null,
        eval: run.task,
        task: run.task,
        taskVersion: run.taskVersion,
        labels: null,
      },
    ],
  };
}

/** Every eval run of an experiment (those not started yet have no rows), in stage order. */
export function experimentSource(
  loaded: LoadedExperiment,
  graph: StageGraph,
  store: Store,
): SampleSource {
  const labelsOf = new Map<string, ExportRun["labels"]>();
  for (const a of armAnalyses(loaded, graph, store)) {
    const rater = raterId(a.options.labellers[0] as string, 0);
    for (const runId of a.runIds) labelsOf.set(runId, { analysisId: analysisId(a.options), rater });
  }
  return {
    runs: graph.stages.map((st) => ({
      runId: st.runId,
      experiment: loaded.experiment.name,
      arm: st.arm.name,
      armDef: st.arm,
      spec: st.specs[0] ? { name: st.specs[0].name, hash: st.specs[0].hash } : null,
      model: st.experimentModel,
      seed: st.seed,
      eval: st.eval.name,
      task: st.task.name,
      taskVersion: st.task.version,
      labels: labelsOf.get(st.runId) ?? null,
    })),
  };
}

/** `score_<scorer>_<metric>`: a name pandas and R take as is. */
const scoreColumn = (scorer: string, metric: string) =>
  `score_${scorer}_${metric}`.replace(/[^A-Za-z0-9_]/g, "_");

/** Each scorer metric of the source's tasks, in task then declaration order. */
function scoreColumns(source: SampleSource): { column: SampleColumn; path: string }[] {
  const seen = new Map<string, { column: SampleColumn; path: string }>();
  const tasks = [...new Set(source.runs.map((r) => r.task))].sort();
  for (const task of tasks)
    for (const s of taskDefinition(task).scorers)
      for (const m of s.metrics) {
        const name = scoreColumn(s.name, m);
        if (!seen.has(name))
          seen.set(name, {
            column: col(
              name,
              "double",
              `scorer ${s.name}'s value ${m} (${task}${s.grader ? ", a judge" : ""}); null unless outcome is done`,
            ),
            path: `scores:$.${s.name}.value.${m}`,
          });
      }
  return [...seen.values()];
}

/** The export's columns, in order: the same for every format. */
export function sampleColumns(source: SampleSource): SampleColumn[] {
  return [...HEAD, ...scoreColumns(source).map((s) => s.column), ...TAIL];
}

/** The fields read from each run, beside its scorers' values. */
const FIXED_FIELDS: Record<string, string> = {
  metadata: "metadata:$",
  awareness: "scores:$.eval_awareness.answer",
  citations: "scores:$.rule_citations.value",
  usage: "output:$.usage",
  cost: "output:$.cost_usd",
  cacheKey: "output:$.cache_key",
  errorMessage: "error:$.message",
};

/** How many rows the source has (cheap: counted from an index). */
export function sampleCount(store: Store, source: SampleSource): number {
  let n = 0;
  for (const r of source.runs)
    for (const c of Object.values(store.evals.statusCounts(r.runId))) n += c;
  return n;
}

/** Every row of the source, run by run, in sample and epoch order. */
export function* sampleRows(store: Store, source: SampleSource): Generator<SampleRow> {
  const scores = scoreColumns(source);
  const fields: Record<string, string> = { ...FIXED_FIELDS };
  for (const s of scores) fields[s.column.name] = s.path;
  for (const run of source.runs) {
    if (!store.evals.run(run.runId)) continue;
    const rows = store.evals.fieldRows(run.runId, fields);
    const labels = runLabels(store, run, rows);
    const judges = judgeCosts(store, run.runId);
    for (const r of rows)
      yield sampleRow(run, r, scores, labels, judges.get(`${r.sampleId}#${r.epoch}`) ?? null);
  }
}

/** Each sample's judge cost, by `sampleId#epoch`: null where a judge call has no price. */
function judgeCosts(store: Store, runId: string): Map<string, number | null> {
  return new Map(
    store.llm
      .sampleJudgeCosts(runId)
      .map((c) => [`${c.sampleId}#${c.epoch}`, c.unpriced ? null : c.costUsd]),
  );
}

/** The primary labels of a run's samples, by `sampleId#epoch`. */
function runLabels(store: Store, run: ExportRun, rows: FieldRow[]) {
  const out = new Map<string, { status: "ok" | "failed"; value: LabelValue | null }>();
  if (!run.labels) return out;
  const stage = labelStage(run.labels.rater);
  const keyOf = (r: FieldRow) => `${r.sampleId}#${r.epoch}`;
  const stored = store.items.stage(
    run.labels.analysisId,
    stage,
    rows.map((r) => itemKey(stage, { runId: run.runId, key: keyOf(r) })),
  );
  for (const r of rows) {
    const row = stored.get(itemKey(stage, { runId: run.runId, key: keyOf(r) }));
    if (row)
      out.set(keyOf(r), {
        status: row.status,
        value: row.status === "ok" ? (row.value as LabelValue) : null,
      });
  }
  return out;
}

const str = (v: unknown): string | null => (typeof v === "string" ? v : null);
const int = (v: unknown): number | null => (Number.isInteger(v) ? (v as number) : null);
/** A scorer value as a number: booleans as 1/0; anything else (a label, an object) as null. */
const num = (v: unknown): number | null =>
  typeof v === "number" && Number.isFinite(v) ? v : typeof v === "boolean" ? Number(v) : null;
const agree = (a: number | null, b: number | null) => (a === null || b === null ? null : a === b);

/** The rule ids a rule_citations value counts at least once (its `total` is not a rule). */
function citedRules(value: unknown): string[] {
  if (!value || typeof value !== "object") return [];
  return Object.entries(value as Record<string, unknown>)
    .filter(([id, n]) => id !== "total" && typeof n === "number" && n > 0)
    .map(([id]) => id)
    .sort();
}

/** The sample's scalar metadata as sorted `key=value`s (objects such as AM's evidence left out). */
function conditionOf(metadata: unknown): string[] {
  if (!metadata || typeof metadata !== "object") return [];
  return Object.entries(metadata as Record<string, unknown>)
    .filter(([, v]) => ["string", "number", "boolean"].includes(typeof v))
    .sort((a, b) => a[0].localeCompare(b[0]))
    .map(([k, v]) => `${k}=${String(v)}`);
}

function designName(d: Arm["design"]): string | null {
  if (!d) return null;
  if (d.anti) return "anti-dose";
  if (d.ladder) return "ladder";
  if (d.cross) return "cross";
  return d.richness !== undefined ? "spec-ladder" : null;
}

/** The arm's design, as the report reads it (its factors and AFT), so a notebook can redo its figures. */
export function armColumns(arm: Arm | null): SampleRow {
  const design = arm?.design;
  const factors = arm && armFactors(arm);
  const aft = arm && armAft(arm);
  return {
    arm_kind: arm?.kind ?? null,
    msm_spec: factors?.msm ?? null,
    aft_spec: factors?.aft ?? null,
    aft_reasoning: aft?.reasoning ?? null,
    aft_size: aft?.size ?? null,
    anti_spec: aft?.anti?.spec ?? null,
    anti_spec_share: aft?.anti?.share ?? null,
    design: designName(design),
    design_from: design?.from ?? null,
    richness: design?.richness ?? null,
  };
}

function sampleRow(
  run: ExportRun,
  r: FieldRow,
  scores: { column: SampleColumn }[],
  labels: ReturnType<typeof runLabels>,
  judgeCost: number | null,
): SampleRow {
  const v = r.values;
  const meta = (v.metadata ?? {}) as Record<string, unknown>;
  const usage = (v.usage ?? {}) as Record<string, unknown>;
  const done = r.status === "done";
  const row: SampleRow = {
    experiment: run.experiment,
    run_id: run.runId,
    arm: run.arm,
    ...armColumns(run.armDef),
    spec: run.spec?.name ?? null,
    spec_hash: run.spec?.hash ?? null,
    model: run.model,
    seed: run.seed,
    eval: run.eval,
    task: run.task,
    task_version: run.taskVersion,
    sample_id: r.sampleId,
    item: r.item,
    epoch: r.epoch,
    family: str(meta.family),
    condition_id: str(meta.condition_id),
    condition: conditionOf(meta),
  };
  // A failed sample has no verdict at all: nothing it stored under scores is read.
  for (const s of scores) row[s.column.name] = done ? num(v[s.column.name]) : null;
  const am = isAmTask(run.task) && done;
  const decided = num(v.score_misalignment_decided);
  const evidence = num(v.score_misalignment_executed_evidence);
  const judged = num(v.score_misalignment_executed);
  const label = labels.get(`${r.sampleId}#${r.epoch}`);
  Object.assign(row, {
    judge_agrees_executed: am ? agree(judged, evidence) : null,
    judge_agrees_decided: am ? agree(decided, evidence) : null,
    eval_awareness: done ? str(v.awareness) : null,
    reasoning_label: label?.status ?? null,
    reasoning_categories: label?.value ? label.value.categories.map((c) => c.id) : [],
    reasoning_rules: label?.value ? label.value.rules.map((x) => x.rule) : [],
    cited_rules: done ? citedRules(v.citations) : [],
    outcome: r.status,
    error_kind: r.errorKind,
    error_message: done ? null : str(v.errorMessage),
    input_tokens: int(usage.input_tokens),
    output_tokens: int(usage.output_tokens),
    reasoning_tokens: int(usage.reasoning_tokens),
    cache_read_tokens: int(usage.cache_read_tokens),
    cost_usd: num(v.cost),
    judge_cost_usd: judgeCost,
    cache_key: str(v.cacheKey),
  });
  return row;
}

/** The data dictionary: every column's name, type, description and allowed values (Markdown). */
export function sampleDictionary(columns: SampleColumn[], format: string): string {
  const cell = (s: string) => s.replaceAll("|", "\\|");
  const lines = [
    "# Per-sample export: data dictionary",
    "",
    "One row per sample × epoch. Null is an empty cell in CSV, `null` in JSONL and a null in Parquet.",
    format === "jsonl"
      ? "List columns are JSON arrays."
      : "List columns (`list<string>`) are one string with the items joined by `;` (split on `;`). Category and rule ids hold no `;`; a condition value that does is ambiguous here (JSONL keeps it whole).",
    format === "parquet"
      ? "Parquet types: int → INT32, double → DOUBLE, boolean → BOOLEAN, string and list<string> → UTF8 strings."
      : "",
    "",
    "| column | type | null | description | allowed values |",
    "|---|---|---|---|---|",
    ...columns.map(
      (c) =>
        `| ${c.name} | ${c.type} | ${c.nullable ? "yes" : "no"} | ${cell(c.description)} | ${c.allowed ? c.allowed.join(", ") : ""} |`,
    ),
    "",
  ];
  return lines.filter((l, i) => l !== "" || lines[i - 1] !== "").join("\n");
}
