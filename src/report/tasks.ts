/**
 * The report's part for every eval task other than agentic misalignment: each task's declared
 * metrics per arm and model (per-item means, SEM and t intervals across items), and its headline
 * metric compared between arms (paired over shared items), Holm-adjusted with every other
 * comparison of the report.
 */
import type { FindingContext, MetricDef } from "../evals/registry.js";
import {
  compareMetric,
  type MetricComparison,
  summarizeTask,
  type TaskSummary,
} from "../evals/task-metrics.js";
import { taskDefinition } from "../evals/tasks.js";
import type { Sample } from "../evals/types.js";
import type { Arm, EvalConfig, LoadedExperiment } from "../experiment/config.js";
import type { StageGraph } from "../experiment/stages.js";
import { armTrainingFiles, trainingTexts } from "../experiment/training-texts.js";
import type { EvalRunRow, FieldRow, Store } from "../store/index.js";
import { armPairs } from "./arm-pairs.js";

export interface TaskArm {
  arm: string;
  model: string;
  runIds: string[];
  summary: TaskSummary;
  /** The task's own observations on these rows (an order effect, say). */
  findings: string[];
}

export interface TaskComparison extends MetricComparison {
  eval: string;
  model: string;
  a: string;
  b: string;
  /** Holm-adjusted across every comparison of the report (NaN where the test is undefined). */
  pHolm: number;
}

export interface TaskReport {
  eval: string;
  task: string;
  summary: string;
  headline: MetricDef;
  metrics: MetricDef[];
  arms: TaskArm[];
  comparisons: TaskComparison[];
}

/** The distinct samples (items asked) of some runs: their ids and metadata. */
function runSamples(store: Store, runIds: string[]): Pick<Sample, "id" | "metadata">[] {
  const seen = new Map<string, Pick<Sample, "id" | "metadata">>();
  for (const id of runIds)
    for (const r of store.evals.samples(id))
      if (!seen.has(r.sampleId))
        seen.set(r.sampleId, { id: r.sampleId, metadata: r.metadata as Sample["metadata"] });
  return [...seen.values()];
}

/** A trained arm's data, when it exists, for findings that check items against it. */
function trainedOn(loaded: LoadedExperiment, arm: Arm): Pick<FindingContext, "trainingTexts"> {
  const files = armTrainingFiles(loaded, arm);
  return files.length ? { trainingTexts: () => trainingTexts(files) } : {};
}

/**
 * How much of a reference an arm is: the bare model (`baseline`) most, then the model trained on
 * instruction-tuning data alone (`it-only`, the MSM paper's baseline), then every spec arm.
 */
/** One eval's arms and comparisons; comparisons' pHolm is filled in by the caller. */
export function taskReport(
  loaded: LoadedExperiment,
  graph: StageGraph,
  store: Store,
  ev: EvalConfig,
): TaskReport {
  const e = loaded.experiment;
  const def = taskDefinition(ev.task);
  const headline = def.metrics.find((m) => m.name === def.headline) as MetricDef;
  const rowsOf = new Map<string, FieldRow[]>();
  const arms: TaskArm[] = [];
  for (const arm of e.arms)
    for (const model of e.models) {
      const stages = graph.stages.filter(
        (s) => s.arm.name === arm.name && s.experimentModel === model && s.eval.name === ev.name,
      );
      // Items of different seeds are the same items: the per-item mean pools the seeds' answers.
      const rows = stages.flatMap((st) => store.evals.fieldRows(st.runId, def.fields));
      rowsOf.set(`${arm.name}|${model}`, rows);
      arms.push({
        arm: arm.name,
        model,
        runIds: stages.map((s) => s.runId),
        summary: summarizeTask(def, rows),
        findings:
          def.findings?.(rows, {
            samples: () =>
              runSamples(
                store,
                stages.map((st) => st.runId),
              ),
            ...trainedOn(loaded, arm),
          }) ?? [],
      });
    }
  const comparisons: TaskComparison[] = [];
  for (const model of e.models)
    for (const [a, b] of armPairs(e.arms))
      comparisons.push({
        ...compareMetric(
          rowsOf.get(`${a.name}|${model}`) ?? [],
          rowsOf.get(`${b.name}|${model}`) ?? [],
          headline,
        ),
        eval: ev.name,
        model,
        a: a.name,
        b: b.name,
        pHolm: Number.NaN,
      });
  return {
    eval: ev.name,
    task: def.name,
    summary: def.summary,
    headline,
    metrics: def.metrics,
    arms,
    comparisons,
  };
}

/** A single run of a task as a one-arm report part, the arm named after the model. */
export function singleRunTask(store: Store, run: EvalRunRow): TaskReport {
  const def = taskDefinition(run.task);
  const rows = store.evals.fieldRows(run.id, def.fields);
  return {
    eval: run.task,
    task: def.name,
    summary: def.summary,
    headline: def.metrics.find((m) => m.name === def.headline) as MetricDef,
    metrics: def.metrics,
    arms: [
      {
        arm: run.model,
        model: run.model,
        runIds: [run.id],
        summary: summarizeTask(def, rows),
        findings: def.findings?.(rows, { samples: () => runSamples(store, [run.id]) }) ?? [],
      },
    ],
    comparisons: [],
  };
}
