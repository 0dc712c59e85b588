/**
 * The task registry, in the spirit of Inspect's: a task is registered by name with a factory that
 * builds it from plain, serializable arguments, and everything around an eval (the store's
 * projections, metrics, the experiment schema, reports and the Inspect export) works from what the
 * task's definition declares, so a new task needs no edit outside its own folder and one line in
 * `tasks.ts`.
 */
import type { z } from "zod";
import type { Spec } from "../spec/model.js";
import type { FieldRow, Store } from "../store/index.js";
import type { JudgeOptions } from "./judge.js";
import type { PromptSpec } from "./solvers.js";
import type { Sample, Task } from "./types.js";

/**
 * Where a per-sample field is read from: a JSON path into the sample's scores or its metadata
 * (`scores:$.misalignment.value.decided`, `metadata:$.family`). The store extracts fields in SQL,
 * so metrics never read transcripts.
 */
export type FieldPath = `scores:$${string}` | `metadata:$${string}`;

/**
 * A measure a task reports. Per sample it is the value of `field` (null: that sample has no value
 * for it, e.g. an answer naming no option; counted as `invalid`, never as right or wrong). Samples
 * are averaged per item first (epochs, both orders of a pair), then over items with the standard
 * error across items, as Inspect's `mean` and `stderr` do.
 */
export interface MetricDef {
  name: string;
  /** How a reader names it: "aligned choice rate". */
  label: string;
  field: string;
  /** `proportion`: 0/1 (or a probability) per sample, shown as a percentage; `score`: any number. */
  scale: "proportion" | "score";
  better: "higher" | "lower";
  /** Fields to break the metric down by (rule, temptation type, order, family…). */
  by: string[];
  /**
   * The samples the metric is about, when not all are (a task mixing multiple-choice and recall
   * items): the others are not in it at all, not even as invalid.
   */
  where?: { field: string; in: string[] };
}

/** A scorer's declaration: what it measures and whether it calls a judge model (Inspect's grader role). */
export interface ScorerDecl {
  name: string;
  /** Keys of its (dict) value that are numbers with a mean and stderr; [] for none. */
  metrics: string[];
  grader: boolean;
}

/** What a task is built with, beyond its own arguments: the run's context. */
export interface TaskEnv {
  /** The judge, for tasks whose scorers call one (resolved lazily: a task without one never asks). */
  judge: () => JudgeOptions;
  /** A spec placed in the system prompt (a prompted arm). */
  promptSpec?: PromptSpec;
  /**
   * The spec under test, for tasks measured against a spec (spec knowledge): a prompted arm's spec,
   * a trained arm's MSM spec (else its AFT spec), or the spec given on the command line.
   */
  spec?: { name: string; hash: string; spec: Spec; markdown: string };
  /** Where relative paths in the arguments resolve from (an experiment file's folder, or the cwd). */
  baseDir: string;
  /** The run store, for tasks that cache what they derive (items generated from a spec). */
  store?: Store;
  /**
   * What the task knows of the model it is built for, when its prompts depend on it (`scratchpad:
   * auto`): `reasoning` names the family when the model reasons natively (llm/reasoning-models.ts).
   * Only this, so one task serves every model alike (an experiment builds one per kind of model).
   */
  model?: { reasoning?: string };
}

export interface TaskDescription {
  /** What the items are and where they come from. */
  dataset: string;
  /** Items (and samples per item, where it is more than one). */
  size: string;
  scorers: string[];
  metrics: string[];
}

export interface TaskDefinition<A = unknown> {
  name: string;
  /** Short names accepted wherever the task is named (`am`). */
  aliases: string[];
  summary: string;
  /**
   * The task's own settings, as an experiment's `evals:` entry gives them (snake_case keys beside
   * name, task, epochs…) and the CLI maps its options onto. A strict zod object: an unknown key is
   * an error naming it.
   */
  args: z.ZodType<A>;
  /** What it needs from the environment: a judge model, a spec under test. */
  needs: { judge: boolean; spec: boolean };
  build(args: A, env: TaskEnv): Task;
  describe(): TaskDescription;
  /** The per-sample fields its metrics and breakdowns read. */
  fields: Record<string, FieldPath>;
  metrics: MetricDef[];
  /** The metric arms are compared on (its name). */
  headline: string;
  scorers: ScorerDecl[];
  /** Which samples a report shows first: by a field, e.g. misaligned ones first. */
  examples?: { field: string; order: "asc" | "desc" };
  /**
   * What else a reader should know about one arm's rows, as sentences (the order effect of a
   * choice task, items found in the arm's training data); shown under the task's metrics in
   * `eval show` and reports.
   */
  findings?: (rows: FieldRow[], context: FindingContext) => string[];
}

/** What a task's findings may read beyond the rows: called only by the tasks that need it. */
export interface FindingContext {
  /** The runs' distinct samples (their ids and metadata: the items asked). */
  samples: () => Pick<Sample, "id" | "metadata">[];
  /** The texts the arm was trained on (MSM documents, AFT chats), for a trained arm whose data exists. */
  trainingTexts?: () => Iterable<string>;
}

/** The item a sample belongs to: samples of one item (both orders of a pair) are averaged first. */
export const itemOf = (s: Pick<Sample, "id" | "metadata">): string =>
  typeof s.metadata.item === "string" ? s.metadata.item : s.id;

/**
 * The task with only its first `limit` items (for quick checks). The limit is part of the task's
 * arguments, so a limited run never resumes into, or is reported as, the full one.
 */
export function limitItems(task: Task, limit: number | undefined): Task {
  if (limit === undefined) return task;
  const keep = new Set<string>();
  for (const s of task.dataset) {
    if (keep.size >= limit) break;
    keep.add(itemOf(s));
  }
  if (new Set(task.dataset.map(itemOf)).size <= keep.size) return task;
  return {
    ...task,
    args: { ...task.args, limit },
    dataset: task.dataset.filter((s) => keep.has(itemOf(s))),
  };
}

/**
 * Builds a task from its definition: a prompted arm's spec is recorded in the task's arguments
 * (by name and hash) when the task has not recorded it itself, so every run says which spec its
 * prompts carried.
 */
export function buildTask<A>(def: TaskDefinition<A>, args: A, env: TaskEnv): Task {
  const task = def.build(args, env);
  if (!env.promptSpec || "spec" in task.args) return task;
  return {
    ...task,
    args: { ...task.args, spec: { name: env.promptSpec.name, hash: env.promptSpec.hash } },
  };
}
