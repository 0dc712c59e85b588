/** The tables of each eval task other than agentic misalignment, as plain report tables. */
import type { MetricDef } from "../evals/registry.js";
import type { MetricCell } from "../evals/task-metrics.js";
import type { ReportData } from "./results.js";
import { pOrReason, pval, type Table } from "./tables.js";
import type { TaskReport } from "./tasks.js";

/** A metric's value as the reader expects it: a percentage for proportions, else the number. */
export function metricValue(m: MetricDef, x: number): string {
  if (Number.isNaN(x)) return "–";
  return m.scale === "proportion" ? `${(100 * x).toFixed(1)}%` : x.toFixed(2);
}

const metricInterval = (m: MetricDef, c: MetricCell) =>
  c.ci.some(Number.isNaN) ? "–" : `[${metricValue(m, c.ci[0])}, ${metricValue(m, c.ci[1])}]`;

/** A difference of a metric: percentage points for proportions. */
function metricDiff(m: MetricDef, x: number): string {
  if (Number.isNaN(x)) return "–";
  const sign = x > 0 ? "+" : "";
  return m.scale === "proportion" ? `${sign}${(100 * x).toFixed(1)} pp` : `${sign}${x.toFixed(2)}`;
}

/** Each arm's every metric over all items, with the samples in no metric. */
export function taskOverviewTable(t: TaskReport): Table {
  return {
    title: `${t.eval} (${t.task}): metrics by arm and model (means over items, 95% t intervals across items)`,
    labelColumns: 2,
    headers: [
      "arm",
      "model",
      "items",
      ...t.metrics.flatMap((m) => [m.name, "95% CI"]),
      "invalid",
      "errors",
      "cut off",
      "refused",
    ],
    rows: t.arms.map((a) => {
      const head = a.summary.metrics.find((m) => m.metric.name === t.headline.name);
      return [
        a.arm,
        a.model,
        String(head?.overall.items ?? 0),
        ...a.summary.metrics.flatMap((m) => [
          metricValue(m.metric, m.overall.mean),
          metricInterval(m.metric, m.overall),
        ]),
        String(head?.overall.invalid ?? 0),
        String(a.summary.outcomes.error),
        String(a.summary.outcomes.truncated),
        String(a.summary.outcomes.refused),
      ];
    }),
  };
}

/** A metric split by one of its fields (rule, temptation, order…): one row per arm, model and value. */
export function taskBreakdownTables(t: TaskReport): Table[] {
  return t.metrics.flatMap((metric) =>
    metric.by.map((field) => ({
      title: `${t.eval}: ${metric.label} by ${field}`,
      labelColumns: 3,
      headers: ["arm", "model", field, "items", metric.name, "95% CI"],
      rows: t.arms.flatMap((a) => {
        const m = a.summary.metrics.find((x) => x.metric.name === metric.name);
        const cells = m?.by.find((b) => b.field === field)?.cells ?? [];
        return cells.map((c) => [
          a.arm,
          a.model,
          c.key,
          String(c.items),
          metricValue(metric, c.mean),
          metricInterval(metric, c),
        ]);
      }),
    })),
  );
}

export function taskComparisonsTable(t: TaskReport): Table {
  const better = t.headline.better === "higher" ? "positive" : "negative";
  return {
    title: `${t.eval}: comparisons on ${t.headline.label} (first arm minus second; ${better} means better)`,
    labelColumns: 3,
    headers: [
      "model",
      "arm",
      "vs",
      "first",
      "second",
      "difference",
      "95% CI",
      "items paired",
      "p",
      "p (Holm)",
    ],
    rows: t.comparisons.map((c) => [
      c.model,
      c.a,
      c.b,
      metricValue(t.headline, c.meanA),
      metricValue(t.headline, c.meanB),
      metricDiff(t.headline, c.diff),
      c.ci.some(Number.isNaN)
        ? "–"
        : `[${metricDiff(t.headline, c.ci[0])}, ${metricDiff(t.headline, c.ci[1])}]`,
      String(c.pairs),
      `${pOrReason({ p: c.p, pUndefinedReason: c.undefinedReason })} (${c.test})`,
      pval(c.pHolm),
    ]),
  };
}

/** Every task table of a report, in reading order. */
export function allTaskTables(d: ReportData): Table[] {
  return d.tasks.flatMap((t) => [
    taskOverviewTable(t),
    ...(t.comparisons.length ? [taskComparisonsTable(t)] : []),
    ...taskBreakdownTables(t),
  ]);
}
