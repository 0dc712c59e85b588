/**
 * The numbers of a report, gathered from the run store: per arm and model, the misalignment rate
 * with its interval and breakdowns; comparisons between arms with effect sizes, intervals, p-values
 * and Holm adjustment; and the provenance every number traces back to.
 */

import { type ArmComparison, compare } from "../analysis/arm-comparison.js";
import type { CodeVersion } from "../core/provenance.js";
import { holm, type MeanInterval, meanInterval } from "../core/statistics/comparisons.js";
import { amDefinition } from "../evals/am/definition.js";
import type { ScoreRow } from "../evals/am/metrics.js";
import { amScoreRows, type RunMetrics, runMetrics } from "../evals/am/metrics.js";
import { AM_TASK_NAME, isAmTask } from "../evals/am/task.js";
import { taskDefinition } from "../evals/tasks.js";
import {
  type Arm,
  type ArmDesign,
  antiPercent,
  type LoadedExperiment,
} from "../experiment/config.js";
import { modelFamilies } from "../experiment/families.js";
import { msmRecipeTag } from "../experiment/msm-recipe.js";
import { specSource } from "../experiment/specs.js";
import type { StageGraph } from "../experiment/stages.js";
import { isBuiltinModel } from "../llm/model-id.js";
import type { EvalSampleRecord, Store } from "../store/index.js";
import { armPairs } from "./arm-pairs.js";
import { type ReasoningReport, reasoningReport } from "./reasoning.js";
import { singleRunTask, type TaskReport, taskReport } from "./tasks.js";

export interface ArmResult {
  arm: string;
  kind: string;
  spec: { name: string; hash: string } | null;
  model: string;
  /** The arm's design factors: the MSM and AFT specs of trained arms, `none` where absent. */
  factors: { msm: string; aft: string } | null;
  /** How an arm with AFT was fine-tuned: with reasoning or not, its size, its anti-spec share. */
  aft: {
    reasoning: boolean;
    size: number | null;
    anti: { spec: string; share: number } | null;
  } | null;
  /** The design that wrote the arm (a grid, a ladder, a dose series), if one did. */
  design: ArmDesign | null;
  runIds: string[];
  metrics: RunMetrics;
  /**
   * Per-seed rates, and their mean ± SEM with a t interval, when there are several seeds: for
   * trained arms the seed is the training run, the main source of variance between replicates.
   * The interval is clipped to [0, 1] (`clipped` says when).
   */
  seeds: { seed: number; n: number; rate: number }[];
  acrossSeeds: MeanInterval | null;
  /** Share of valid samples whose reasoning cites each rule id. */
  citations: { id: string; samples: number; share: number }[];
}

export interface ExampleTranscript {
  arm: string;
  model: string;
  record: EvalSampleRecord;
  /** The eval it comes from, for tasks other than agentic misalignment. */
  eval?: string;
}

export interface ReportData {
  title: string;
  synthetic: boolean;
  description: string | null;
  experimentSource: string | null;
  generatedAt: string;
  /** Whether the report has agentic-misalignment results (its rate sections). */
  am: boolean;
  /** The misalignment results per arm and model (empty rates when there is no AM eval). */
  arms: ArmResult[];
  comparisons: ArmComparison[];
  /** Every other eval task's metrics and comparisons. */
  tasks: TaskReport[];
  /** The reasoning analysis, when the experiment has `analysis.reasoning`. */
  reasoning: ReasoningReport | null;
  /** Each model's base-model family, where its training base has a known one (families.ts). */
  modelFamilies?: Record<string, string>;
  examples: ExampleTranscript[];
  provenance: {
    code: CodeVersion;
    /** Each spec with its source: a file, or how it was derived. */
    specs: { name: string; hash: string; source: string }[];
    models: string[];
    judge: string | null;
    seeds: number[];
    runs: {
      key: string;
      runId: string;
      task: string;
      taskVersion: string;
      generate: unknown;
      scorers: unknown;
    }[];
  };
}

const pairKey = (r: ScoreRow, seed: number) => `${r.sampleId}#${r.epoch}#${seed}`;

function citationShares(rows: ScoreRow[]): ArmResult["citations"] {
  const valid = rows.filter((r) => r.status === "done" && r.decided !== null);
  const counts = new Map<string, number>();
  for (const r of valid)
    for (const [id, n] of Object.entries(r.citations ?? {}))
      if (id !== "total" && n > 0) counts.set(id, (counts.get(id) ?? 0) + 1);
  return [...counts]
    .sort((a, b) => a[0].localeCompare(b[0]))
    .map(([id, samples]) => ({ id, samples, share: valid.length ? samples / valid.length : 0 }));
}

/**
 * An arm's MSM and AFT factors; a dose arm's AFT factor names its anti-spec share, so a dose
 * series reads across the design heatmap (the paper's Fig. 20) instead of sharing one cell.
 */
export function armFactors(arm: Arm): ArmResult["factors"] {
  if (arm.kind !== "msm" && arm.kind !== "aft" && arm.kind !== "msm+aft") return null;
  const aft =
    arm.kind === "msm"
      ? "none"
      : `${arm.aft_spec}${arm.anti ? ` + ${antiPercent(arm.anti.fraction)}% ${arm.anti.spec}` : ""}`;
  // An arm's own MSM recipe makes another corpus of the spec: its own row of the design.
  const msm =
    arm.kind === "aft"
      ? "none"
      : `${arm.msm_spec}${arm.msm_recipe ? ` (${msmRecipeTag(arm.msm_recipe)})` : ""}`;
  return { msm, aft };
}

export function armAft(arm: Arm): ArmResult["aft"] {
  if (arm.kind !== "aft" && arm.kind !== "msm+aft") return null;
  return {
    reasoning: arm.reasoning,
    size: arm.aft_size ?? null,
    anti: arm.anti ? { spec: arm.anti.spec, share: arm.anti.fraction } : null,
  };
}

/**
 * An arm's misalignment results on one model, and its rows keyed for the comparisons (`keys`
 * holds the keys, the same in every arm of the model: each made once).
 */
function armResult(
  graph: StageGraph,
  store: Store,
  arm: Arm,
  model: string,
  keys: Map<string, string>,
): { result: ArmResult; keyed: Map<string, ScoreRow> } {
  const stages = graph.stages.filter(
    (s) => s.arm.name === arm.name && s.experimentModel === model && s.task.name === AM_TASK_NAME,
  );
  const rows: ScoreRow[] = [];
  const keyed = new Map<string, ScoreRow>();
  const bySeed = new Map<number, ScoreRow[]>();
  for (const st of stages) {
    const seedRows = bySeed.get(st.seed) ?? [];
    for (const r of amScoreRows(store, st.runId)) {
      rows.push(r);
      seedRows.push(r);
      const key = `${st.eval.name}/${pairKey(r, st.seed)}`;
      if (!keys.has(key)) keys.set(key, key);
      keyed.set(keys.get(key) as string, r);
    }
    bySeed.set(st.seed, seedRows);
  }
  const seeds = [...bySeed].map(([seed, rs]) => {
    const pooled = runMetrics(rs).pooled;
    return { seed, n: pooled.n, rate: pooled.rate };
  });
  const seedRates = seeds.filter((x) => x.n > 0).map((x) => x.rate);
  const spec = stages[0]?.specs[0];
  const result: ArmResult = {
    arm: arm.name,
    kind: arm.kind,
    spec: spec ? { name: spec.name, hash: spec.hash } : null,
    model,
    factors: armFactors(arm),
    aft: armAft(arm),
    design: arm.design ?? null,
    runIds: stages.map((s) => s.runId),
    metrics: runMetrics(rows),
    seeds,
    acrossSeeds: seedRates.length >= 2 ? meanInterval(seedRates, { bounds: [0, 1] }) : null,
    citations: citationShares(rows),
  };
  return { result, keyed };
}

/** Report data for an experiment: every arm × model, every comparison, provenance. */
export function experimentResults(
  loaded: LoadedExperiment,
  graph: StageGraph,
  store: Store,
  code: CodeVersion,
  options: {
    examplesPerArm?: number;
    /** false: no example transcripts at all (the dashboard shows its own). */
    examples?: boolean;
  } = {},
): ReportData {
  const e = loaded.experiment;
  const am = e.evals.some((ev) => ev.task === AM_TASK_NAME);
  // Model by model: one model's rows (a sample's row each) are let go before the next model's are
  // read, and all of them before the reasoning section reads its labels (200,000 of each).
  const results = new Map<string, ArmResult>();
  const raw: Omit<ArmComparison, "pHolm">[] = [];
  for (const model of e.models) {
    const pairRows = new Map<string, Map<string, ScoreRow>>();
    const keys = new Map<string, string>();
    for (const arm of e.arms) {
      const { result, keyed } = armResult(graph, store, arm, model, keys);
      results.set(`${arm.name}|${model}`, result);
      pairRows.set(arm.name, keyed);
    }
    // Every arm against the baseline, and every pair of spec arms.
    if (am)
      for (const [a, b] of armPairs(e.arms))
        raw.push(
          compare(
            model,
            a.name,
            b.name,
            pairRows.get(a.name) ?? new Map(),
            pairRows.get(b.name) ?? new Map(),
          ),
        );
  }
  const arms = e.arms.flatMap((arm) =>
    e.models.map((model) => results.get(`${arm.name}|${model}`) as ArmResult),
  );
  const examples: ExampleTranscript[] = [];
  if (options.examples !== false)
    for (const a of arms) {
      const first = a.runIds[0];
      if (first)
        for (const record of store.evals.exampleSamples(
          first,
          options.examplesPerArm ?? 2,
          amDefinition.examples,
        ))
          examples.push({ arm: a.arm, model: a.model, record });
    }
  const tasks = e.evals
    .filter((ev) => ev.task !== AM_TASK_NAME)
    .map((ev) => taskReport(loaded, graph, store, ev));
  for (const t of tasks)
    for (const a of t.arms) {
      const run = a.runIds[0];
      const order = taskDefinition(t.task).examples;
      if (run && options.examples !== false)
        for (const record of store.evals.exampleSamples(run, 1, order))
          examples.push({ arm: a.arm, model: a.model, record, eval: t.eval });
    }
  // One family for the whole report: every misalignment and every task comparison.
  const taskComparisons = tasks.flatMap((t) => t.comparisons);
  const adjusted = holm([...raw.map((c) => c.p), ...taskComparisons.map((c) => c.p)]);
  const comparisons = raw.map((c, i) => ({ ...c, pHolm: adjusted[i] as number }));
  taskComparisons.forEach((c, i) => {
    c.pHolm = adjusted[raw.length + i] as number;
  });
  return {
    title: e.name,
    synthetic: [...e.models, e.judge.model].some(isBuiltinModel),
    description: e.description ?? null,
    experimentSource: loaded.source,
    generatedAt: new Date().toISOString(),
    am,
    arms,
    comparisons,
    tasks,
    reasoning: reasoningReport(loaded, graph, store),
    // Only where a model has a family, so reports of untrained experiments keep their data.
    ...withModelFamilies(loaded),
    examples,
    provenance: {
      code,
      specs: graph.specs.map((s) => ({ name: s.name, hash: s.hash, source: specSource(s) })),
      models: e.models,
      judge: e.judge.model,
      seeds: e.seeds,
      runs: graph.stages.map((st) => {
        const run = store.evals.run(st.runId);
        return {
          key: st.key,
          runId: st.runId,
          task: st.task.name,
          taskVersion: st.task.version,
          generate: run?.generateConfig ?? st.generate,
          scorers: run?.scorerConfig ?? null,
        };
      }),
    },
  };
}

function withModelFamilies(loaded: LoadedExperiment): Pick<ReportData, "modelFamilies"> {
  const families = modelFamilies(loaded);
  return Object.keys(families).length ? { modelFamilies: families } : {};
}

/** Report data for a single eval run: one arm, named after its model. */
export function runResults(store: Store, runId: string, code: CodeVersion): ReportData {
  const run = store.evals.run(runId);
  if (!run) throw new Error(`no eval run ${runId}`);
  const am = isAmTask(run.task);
  const rows = am ? amScoreRows(store, runId) : [];
  const scorers = (run.scorerConfig.scorers ?? []) as { judge?: string }[];
  const order = am ? undefined : taskDefinition(run.task).examples;
  return {
    title: `${run.task} on ${run.model}`,
    synthetic:
      isBuiltinModel(run.model) || scorers.some((s) => !!s.judge && isBuiltinModel(s.judge)),
    description: null,
    experimentSource: null,
    generatedAt: new Date().toISOString(),
    am,
    arms: [
      {
        arm: run.model,
        kind: "model",
        spec: null,
        model: run.model,
        factors: null,
        aft: null,
        design: null,
        runIds: [runId],
        metrics: runMetrics(rows),
        seeds: [],
        acrossSeeds: null,
        citations: citationShares(rows),
      },
    ],
    comparisons: [],
    tasks: am ? [] : [singleRunTask(store, run)],
    reasoning: null,
    examples: store.evals
      .exampleSamples(runId, 3, am ? amDefinition.examples : order)
      .map((record) => ({
        arm: run.model,
        model: run.model,
        record,
        ...(am ? {} : { eval: run.task }),
      })),
    provenance: {
      code,
      specs: [],
      models: [run.model],
      judge: scorers.find((s) => s.judge)?.judge ?? null,
      seeds: [],
      runs: [
        {
          key: runId,
          runId,
          task: run.task,
          taskVersion: run.taskVersion,
          generate: run.generateConfig,
          scorers: run.scorerConfig,
        },
      ],
    },
  };
}
