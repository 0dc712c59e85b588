/**
 * Issue 21's question 2 in the report: does the MSM advantage survive preference optimisation?
 * Per series of preference arms (rate against the steps, or against the contaminated share) and
 * model: the rate at each point with its Wilson interval and a Cochran–Armitage trend test; and
 * at each point the MSM+AFT arm's rate minus the AFT-only arm's with Newcombe's interval, where
 * the two series differ only in the MSM stage (same AFT spec, size, method, points and, for a
 * contamination series, steps and kind).
 */
import { newcombe } from "../core/statistics/comparisons.js";
import {
  cochranArmitage,
  logisticRegression,
  type TrendTest,
  waldTest,
} from "../core/statistics/trend.js";
import type { ArmResult, ReportData } from "./results.js";
import { prefContaminationSeries, prefStepsSeries, type SeriesPoint } from "./series.js";
import { diffInterval, interval, pct, pval, signedPct, type Table } from "./tables.js";

export type PressureAxis = "steps" | "contamination";

export interface PressurePoint {
  x: number;
  arm: string;
  misaligned: number;
  n: number;
  rate: number;
  ci: [number, number];
}

export interface PressureSeries {
  axis: PressureAxis;
  series: string;
  model: string;
  /** The arm at 0: its kind says whether the series has an MSM stage. */
  kind: string;
  points: PressurePoint[];
  /** Cochran–Armitage over the points, scored by their x (steps, or percent). */
  trend: TrendTest;
  /** What an MSM and an AFT-only series must share to be compared point by point. */
  match: string;
}

export interface AdvantagePoint {
  axis: PressureAxis;
  model: string;
  msm: string;
  aft: string;
  x: number;
  msmArm: PressurePoint;
  aftArm: PressurePoint;
  /** MSM+AFT rate − AFT-only rate, with Newcombe's hybrid score interval. */
  diff: number;
  ci: [number, number];
}

/**
 * Whether the MSM advantage changes with the pressure: the msm × x coefficient of
 * logit(p) = b0 + b1·msm + b2·x + b3·msm·x over both series' points, with its Wald test.
 */
export interface AdvantageTrend {
  axis: PressureAxis;
  model: string;
  msm: string;
  aft: string;
  /** b3, on the log-odds scale per unit of x, its standard error, Wald z and p. */
  coefficient: number;
  se: number;
  z: number;
  p: number;
  undefinedReason: string | null;
}

export interface PreferencePressure {
  series: PressureSeries[];
  advantage: AdvantagePoint[];
  interaction: AdvantageTrend[];
}

/** The series of one axis, each point with its arm's counts. */
function axisSeries(d: ReportData, axis: PressureAxis, points: SeriesPoint[]): PressureSeries[] {
  const byKey = new Map<string, SeriesPoint[]>();
  for (const p of points) {
    const key = `${p.series}\u0000${p.model}`;
    byKey.set(key, [...(byKey.get(key) ?? []), p]);
  }
  const result = (arm: string, model: string) =>
    d.arms.find((a) => a.arm === arm && a.model === model) as ArmResult;
  return [...byKey.values()].map((ps) => {
    const first = ps[0] as SeriesPoint;
    const arms = ps.map((p) => result(p.arm, p.model));
    const origin = arms[0] as ArmResult;
    const pref = arms.find((a) => a.design?.pref && a.design.pref.share > 0) ?? arms.at(-1);
    const p = pref?.design?.pref;
    const pts = ps.map((pt, i) => {
      const m = (arms[i] as ArmResult).metrics.pooled;
      return { x: pt.x, arm: pt.arm, misaligned: m.misaligned, n: m.n, rate: m.rate, ci: m.ci };
    });
    return {
      axis,
      series: first.series,
      model: first.model,
      kind: origin.kind,
      points: pts,
      trend: cochranArmitage(pts.map((q) => ({ x: q.x, events: q.misaligned, n: q.n }))),
      match: JSON.stringify([
        axis,
        first.model,
        origin.factors?.aft ?? null,
        origin.aft?.size ?? null,
        origin.aft?.reasoning ?? null,
        p?.method ?? null,
        axis === "contamination" ? [p?.steps ?? null, p?.kind ?? null] : null,
        // Series of one design have the same points: two steps series over other steps are two designs.
        pts.map((q) => q.x),
      ]),
    };
  });
}

/** Each MSM+AFT series with each AFT-only series it matches. */
const matchedPairs = (series: PressureSeries[]) =>
  series
    .filter((s) => s.kind === "msm+aft")
    .flatMap((m) =>
      series.filter((s) => s.kind === "aft" && s.match === m.match).map((a) => [m, a] as const),
    );

/** Each MSM+AFT series against each AFT-only series it matches, at their common points. */
function advantage(series: PressureSeries[]): AdvantagePoint[] {
  const out: AdvantagePoint[] = [];
  for (const [m, a] of matchedPairs(series))
    for (const mp of m.points) {
      const ap = a.points.find((q) => q.x === mp.x);
      if (!ap || !mp.n || !ap.n) continue;
      const { diff, ci } = newcombe(mp.misaligned, mp.n, ap.misaligned, ap.n);
      out.push({
        axis: m.axis,
        model: m.model,
        msm: m.series,
        aft: a.series,
        x: mp.x,
        msmArm: mp,
        aftArm: ap,
        diff,
        ci,
      });
    }
  return out;
}

/** The interaction test for each MSM series and the AFT-only series it matches. */
function interaction(series: PressureSeries[]): AdvantageTrend[] {
  const out: AdvantageTrend[] = [];
  for (const [m, a] of matchedPairs(series)) {
    const groups = [
      ...m.points.map((q) => ({ covariates: [1, 1, q.x, q.x], events: q.misaligned, n: q.n })),
      ...a.points.map((q) => ({ covariates: [1, 0, q.x, 0], events: q.misaligned, n: q.n })),
    ].filter((g) => g.n > 0);
    const { coefficient, se, z, p, undefinedReason } = waldTest(logisticRegression(groups), 3);
    out.push({
      axis: m.axis,
      model: m.model,
      msm: m.series,
      aft: a.series,
      coefficient,
      se,
      z,
      p,
      undefinedReason,
    });
  }
  return out;
}

export function preferencePressure(d: ReportData): PreferencePressure {
  const series = [
    ...axisSeries(d, "steps", prefStepsSeries(d)),
    ...axisSeries(d, "contamination", prefContaminationSeries(d)),
  ];
  return { series, advantage: advantage(series), interaction: interaction(series) };
}

const AXIS_LABEL: Record<PressureAxis, string> = {
  steps: "steps",
  contamination: "contaminated %",
};
/** The columns that name a compared pair of series. */
const PAIR_HEADERS = ["MSM+AFT", "AFT only", "model", "over"];
const rate = (p: PressurePoint) => `${pct(p.rate)} (${p.misaligned}/${p.n})`;
const slopeText = (t: TrendTest, axis: PressureAxis) =>
  Number.isNaN(t.slope)
    ? "–"
    : `${signedPct(t.slope * (axis === "steps" ? 100 : 10))} per ${axis === "steps" ? "100 steps" : "10 points"}`;

/** The three tables; none when the experiment has no preference series. */
export function preferencePressureTables(d: ReportData): Table[] {
  const { series, advantage: adv, interaction: trends } = preferencePressure(d);
  if (!series.length) return [];
  const tables: Table[] = [
    {
      title: "Misalignment rate under preference-optimisation pressure",
      labelColumns: 4,
      headers: ["series", "model", "over", "arm", "x", "rate", "95% CI (Wilson)"],
      rows: series.flatMap((s) =>
        s.points.map((p) => [
          s.series,
          s.model,
          AXIS_LABEL[s.axis],
          p.arm,
          String(p.x),
          rate(p),
          interval(p.ci),
        ]),
      ),
      note: "Steps series start at the arm without a preference stage (0 steps); contamination series at the clean preference arm (0%).",
    },
    {
      title: "Trend of the misalignment rate over the pressure (Cochran–Armitage)",
      labelColumns: 3,
      headers: ["series", "model", "over", "points", "slope", "z", "p"],
      rows: series.map((s) => [
        s.series,
        s.model,
        AXIS_LABEL[s.axis],
        String(s.points.length),
        slopeText(s.trend, s.axis),
        s.trend.undefinedReason ? `undefined: ${s.trend.undefinedReason}` : s.trend.z.toFixed(2),
        pval(s.trend.p),
      ]),
      note: "Cochran–Armitage test for a linear trend in proportions, scored by the steps or the percent (the score test of the slope of a logistic regression; no continuity correction), two-sided. Slope: the size-weighted least-squares change in the rate.",
    },
  ];
  if (adv.length)
    tables.push({
      title: "MSM advantage under preference pressure (MSM+AFT − AFT only)",
      labelColumns: 4,
      headers: [...PAIR_HEADERS, "x", "MSM+AFT", "AFT only", "difference", "95% CI (Newcombe)"],
      rows: adv.map((a) => [
        a.msm,
        a.aft,
        a.model,
        AXIS_LABEL[a.axis],
        String(a.x),
        rate(a.msmArm),
        rate(a.aftArm),
        signedPct(a.diff),
        diffInterval(a.ci),
      ]),
      note: "A negative difference is an MSM advantage (fewer misaligned decisions); it persists where the interval stays below 0 as the steps or the contaminated share grow.",
    });
  if (trends.length)
    tables.push({
      title: "Does the MSM advantage change with the pressure? (logistic interaction)",
      labelColumns: 4,
      headers: [...PAIR_HEADERS, "msm × x (log-odds)", "SE", "z", "p (Wald)"],
      rows: trends.map((t) => [
        t.msm,
        t.aft,
        t.model,
        AXIS_LABEL[t.axis],
        t.undefinedReason ? `undefined: ${t.undefinedReason}` : t.coefficient.toPrecision(3),
        Number.isNaN(t.se) ? "–" : t.se.toPrecision(3),
        Number.isNaN(t.z) ? "–" : t.z.toFixed(2),
        pval(t.p),
      ]),
      note: "Binomial GLM logit(p) = b0 + b1·msm + b2·x + b3·msm·x over both series' points (x: steps, or the contaminated percent); b3 > 0: MSM+AFT's rate rises faster with the pressure than AFT only's (its advantage shrinks on the log-odds scale). Wald test, two-sided.",
    });
  return tables;
}
