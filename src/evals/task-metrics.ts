/**
 * Metrics of any registered task, from the fields its definition declares. Samples are averaged
 * per item first (epochs, both orders of a pair), then over items, with the standard error across
 * items: a model that answers an item differently across epochs counts once per item, as in
 * Inspect's `mean` and `stderr`. Failed, cut-off and refused samples are counted apart, and so are
 * scored samples without a value for a metric (`invalid`): none is a right or a wrong answer.
 */
import {
  type MeanDifference,
  meanInterval,
  pairedT,
  welchT,
} from "../core/statistics/comparisons.js";
import type { FieldRow, SampleStatus } from "../store/index.js";
import type { MetricDef, TaskDefinition } from "./registry.js";

export interface MetricCell {
  /** The group's value ("all" for the whole run). */
  key: string;
  /** Scored samples with a value. */
  samples: number;
  /** Items with at least one such sample. */
  items: number;
  /** Mean over items of the per-item means. */
  mean: number;
  /** Standard error across items (NaN with fewer than two). */
  sem: number;
  /** Student-t 95% interval across items, clipped to [0, 1] for proportions. */
  ci: [number, number];
  /** Scored samples without a value for this metric (an answer naming no option, say). */
  invalid: number;
}

export interface MetricSummary {
  metric: MetricDef;
  overall: MetricCell;
  by: { field: string; cells: MetricCell[] }[];
}

export interface TaskSummary {
  task: string;
  headline: string;
  outcomes: Record<SampleStatus, number> & { errorsByKind: Record<string, number> };
  metrics: MetricSummary[];
}

/** A stored value as a number: numbers as they are, booleans as 0/1, anything else none. */
function numeric(v: unknown): number | null {
  if (typeof v === "number" && Number.isFinite(v)) return v;
  if (typeof v === "boolean") return v ? 1 : 0;
  return null;
}

/** Per-item means of a metric over the scored samples that have a value for it. */
export function itemMeans(rows: FieldRow[], metric: MetricDef): Map<string, number> {
  const sums = new Map<string, { sum: number; n: number }>();
  for (const r of applicable(rows, metric)) {
    if (r.status !== "done") continue;
    const v = numeric(r.values[metric.field]);
    if (v === null) continue;
    const s = sums.get(r.item) ?? { sum: 0, n: 0 };
    s.sum += v;
    s.n++;
    sums.set(r.item, s);
  }
  return new Map([...sums].map(([item, s]) => [item, s.sum / s.n]));
}

function cell(key: string, rows: FieldRow[], metric: MetricDef): MetricCell {
  const scored = rows.filter((r) => r.status === "done");
  const valued = scored.filter((r) => numeric(r.values[metric.field]) !== null);
  const means = [...itemMeans(rows, metric).values()];
  const m = meanInterval(means, metric.scale === "proportion" ? { bounds: [0, 1] } : {});
  return {
    key,
    samples: valued.length,
    items: means.length,
    mean: m.mean,
    sem: m.sem,
    ci: m.ci,
    invalid: scored.length - valued.length,
  };
}

const groupKey = (v: unknown) =>
  v === null || v === undefined ? "?" : typeof v === "object" ? JSON.stringify(v) : String(v);

/** The rows a metric is about (see `MetricDef.where`). */
export function applicable(rows: FieldRow[], metric: MetricDef): FieldRow[] {
  const w = metric.where;
  return w ? rows.filter((r) => w.in.includes(String(r.values[w.field]))) : rows;
}

export function summarizeMetric(all: FieldRow[], metric: MetricDef): MetricSummary {
  const rows = applicable(all, metric);
  return {
    metric,
    overall: cell("all", rows, metric),
    by: metric.by.map((field) => {
      const keys = [...new Set(rows.map((r) => groupKey(r.values[field])))].sort();
      return {
        field,
        cells: keys.map((k) =>
          cell(
            k,
            rows.filter((r) => groupKey(r.values[field]) === k),
            metric,
          ),
        ),
      };
    }),
  };
}

/** Every metric a task declares, over the rows of one or more of its runs. */
export function summarizeTask(def: TaskDefinition, rows: FieldRow[]): TaskSummary {
  const outcomes: TaskSummary["outcomes"] = {
    done: 0,
    error: 0,
    truncated: 0,
    refused: 0,
    errorsByKind: {},
  };
  for (const r of rows) {
    outcomes[r.status]++;
    if (r.status === "error") {
      const k = r.errorKind ?? "unknown";
      outcomes.errorsByKind[k] = (outcomes.errorsByKind[k] ?? 0) + 1;
    }
  }
  return {
    task: def.name,
    headline: def.headline,
    outcomes,
    metrics: def.metrics.map((m) => summarizeMetric(rows, m)),
  };
}

export interface MetricComparison extends MeanDifference {
  metric: string;
  meanA: number;
  meanB: number;
  itemsA: number;
  itemsB: number;
  /** Items both arms have a value for; the comparison is paired over them when there are any. */
  pairs: number;
}

/**
 * Two arms on one metric: a paired t-test over the items both answered (the usual case: every arm
 * is asked the same items), else Welch's test over each arm's item means.
 */
export function compareMetric(a: FieldRow[], b: FieldRow[], metric: MetricDef): MetricComparison {
  const ma = itemMeans(a, metric);
  const mb = itemMeans(b, metric);
  const shared = [...ma.keys()].filter((k) => mb.has(k)).sort();
  const test =
    shared.length > 0
      ? pairedT(
          shared.map((k) => ma.get(k) as number),
          shared.map((k) => mb.get(k) as number),
        )
      : welchT([...ma.values()], [...mb.values()]);
  const avg = (m: Map<string, number>) =>
    m.size ? [...m.values()].reduce((s, x) => s + x, 0) / m.size : Number.NaN;
  return {
    ...test,
    metric: metric.name,
    meanA: avg(ma),
    meanB: avg(mb),
    itemsA: ma.size,
    itemsB: mb.size,
    pairs: shared.length,
  };
}
