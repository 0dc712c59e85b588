/**
 * Design series of a report: the arms an AFT-size ladder wrote (the paper's data-efficiency
 * figure), anti-spec dose series with the arm they were dosed from at 0% (its Fig. 20), and spec
 * richness ladders (one arm per rung), as points of a rate against a number, one series per
 * ladder or dosed arm and model.
 */
import type { ArmResult, ReportData } from "./results.js";

export interface SeriesPoint {
  /** The arm the series grew from (the ladder's arm or grid cell, the undosed arm). */
  series: string;
  model: string;
  arm: string;
  /** AFT examples, the anti-spec share in percent, or the richness rung. */
  x: number;
  rate: number | null;
  lo: number | null;
  hi: number | null;
  n: number;
}

const nan = (x: number) => (Number.isNaN(x) ? null : x);

function point(a: ArmResult, series: string, x: number): SeriesPoint {
  const p = a.metrics.pooled;
  return {
    series,
    model: a.model,
    arm: a.arm,
    x,
    rate: nan(p.rate),
    lo: nan(p.ci[0]),
    hi: nan(p.ci[1]),
    n: p.n,
  };
}

/** Every size of each ladder (its dose arms are in their dose series). */
export function ladderSeries(data: ReportData): SeriesPoint[] {
  return data.arms.flatMap((a) =>
    a.design?.ladder && !a.design.anti && a.aft?.size
      ? [point(a, a.arm.replace(/-n\d+$/, ""), a.aft.size)]
      : [],
  );
}

/** Every dose of each dosed arm, and the arm itself at 0%. */
export function doseSeries(data: ReportData): SeriesPoint[] {
  const points: SeriesPoint[] = [];
  const origins = new Set<string>();
  for (const a of data.arms) {
    if (!a.design?.anti || !a.aft?.anti) continue;
    const from = a.arm.replace(/-anti[\d.]+$/, "");
    points.push(point(a, from, 100 * a.aft.anti.share));
    const origin = data.arms.find((o) => o.arm === from && o.model === a.model);
    if (origin && !origins.has(`${from}|${a.model}`)) {
      origins.add(`${from}|${a.model}`);
      points.push(point(origin, from, 0));
    }
  }
  return points.sort((p, q) => p.series.localeCompare(q.series) || p.x - q.x);
}

/** Every rung of each spec ladder, least rich first: the rate against the rung. */
export function richnessSeries(data: ReportData): SeriesPoint[] {
  return data.arms
    .flatMap((a) =>
      a.design?.richness !== undefined ? [point(a, a.design.from, a.design.richness)] : [],
    )
    .sort(
      (p, q) => p.series.localeCompare(q.series) || p.model.localeCompare(q.model) || p.x - q.x,
    );
}
