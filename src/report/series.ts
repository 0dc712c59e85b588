/**
 * Design series of a report: the arms an AFT-size ladder wrote (the paper's data-efficiency
 * figure), anti-spec dose series with the arm they were dosed from at 0% (its Fig. 20), and spec
 * richness ladders (one arm per rung), and preference-pressure series (steps, contaminated share),
 * as points of a rate against a number, one series per ladder, dosed arm or preference arm and model.
 */
import type { PrefDesign } from "../experiment/pref-arms.js";
import type { ArmResult, ReportData } from "./results.js";

export interface SeriesPoint {
  /** The arm the series grew from (the ladder's arm or grid cell, the undosed arm). */
  series: string;
  model: string;
  arm: string;
  /** AFT examples, the anti-spec share in percent, the richness rung, preference steps or the contaminated share in percent. */
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
    a.design?.ladder && !a.design.anti && !a.design.pref && a.aft?.size
      ? [point(a, a.arm.replace(/-n\d+$/, ""), a.aft.size)]
      : [],
  );
}

/** Every dose of each dosed arm, and the arm itself at 0%. */
export function doseSeries(data: ReportData): SeriesPoint[] {
  const points: SeriesPoint[] = [];
  const origins = new Set<string>();
  for (const a of data.arms) {
    if (!a.design?.anti || a.design.pref || !a.aft?.anti) continue;
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

/** Preference arms on one axis, with the arm each series grows from at 0 (see pref-arms.ts). */
function prefSeries(
  data: ReportData,
  onAxis: (p: PrefDesign) => boolean,
  x: (p: PrefDesign) => number,
  origin: (a: ArmResult, p: PrefDesign) => string | undefined,
  name: (a: ArmResult, p: PrefDesign) => string,
): SeriesPoint[] {
  const points: SeriesPoint[] = [];
  const origins = new Set<string>();
  for (const a of data.arms) {
    const p = a.design?.pref;
    if (!p || !onAxis(p)) continue;
    const series = name(a, p);
    points.push(point(a, series, x(p)));
    const from = origin(a, p);
    const o = from && data.arms.find((b) => b.arm === from && b.model === a.model);
    if (o && !origins.has(`${series}|${a.model}`)) {
      origins.add(`${series}|${a.model}`);
      points.push(point(o, series, 0));
    }
  }
  return points.sort(
    (p, q) => p.series.localeCompare(q.series) || p.model.localeCompare(q.model) || p.x - q.x,
  );
}

/**
 * Clean preference arms with a step count: the rate against the preference-optimisation steps,
 * the arm without a preference stage at 0 (one step count makes a before-and-after pair).
 */
export const prefStepsSeries = (data: ReportData) =>
  prefSeries(
    data,
    (p) => p.share === 0 && p.steps !== null,
    (p) => p.steps as number,
    (_, p) => p.base,
    (_, p) => p.base,
  );

/**
 * Preference arms of a contamination series: the rate against the contaminated share (%), the
 * clean preference arm at the same steps (itself a point of the series) at 0.
 */
export const prefContaminationSeries = (data: ReportData) =>
  prefSeries(
    data,
    (p) => p.contaminationSeries,
    (p) => 100 * p.share,
    () => undefined,
    (a, p) => (p.share === 0 ? a.arm : a.arm.replace(/-(rh|mis)[\d.]+$/, "")),
  );
