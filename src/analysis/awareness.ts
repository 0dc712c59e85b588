/**
 * Does eval awareness go with behaviour? Per arm and model, the misalignment rate of the samples
 * whose reasoning concluded it was being evaluated (`thinks_eval`: aware) against all the others
 * (`thinks_real`, `no_deliberation`: unaware), with Wilson intervals, their difference with
 * Newcombe's interval and Fisher's exact test; and per model, whether the aware–unaware odds ratio
 * differs across arms: the Breslow–Day test of homogeneous odds ratios with Tarone's correction
 * (statsmodels' `StratifiedTable.test_equal_odds(adjust=True)`), each arm a stratum.
 *
 * Breslow–Day rather than a logistic arm × awareness interaction: with both factors categorical,
 * it tests the same hypothesis (one odds ratio across arms) from the 2×2 tables alone, in closed
 * form, where the logistic fit needs an iterative solver.
 */
import { fisherExact, newcombe, type UndefinedReason } from "../core/statistics/comparisons.js";
import { chiSquareSf } from "../core/statistics/distributions.js";
import { wilson } from "../core/stats.js";
import type { RateCell } from "../evals/am/metrics.js";

/** The label of a sample whose reasoning concluded (or leaned toward) being evaluated. */
export const AWARE_LABEL = "thinks_eval";

export interface AwarenessGroup {
  n: number;
  misaligned: number;
  rate: number;
  ci: [number, number];
}

export interface AwarenessSplit {
  arm: string;
  model: string;
  aware: AwarenessGroup;
  unaware: AwarenessGroup;
  /** aware − unaware, with Newcombe's 95% interval; NaN when a group is empty. */
  diff: number;
  diffCi: [number, number];
  /** Fisher's exact two-sided p on the 2×2, NaN with the reason when undefined. */
  pFisher: number;
  pUndefinedReason: UndefinedReason;
  /** The sample odds ratio (aware vs unaware), ad/bc. */
  oddsRatio: number;
}

export interface AwarenessHomogeneity {
  model: string;
  /** Arms whose 2×2 enters the test (both groups and both outcomes present). */
  arms: string[];
  /** The Mantel–Haenszel common odds ratio the test is taken about. */
  commonOddsRatio: number;
  /** Tarone-corrected Breslow–Day χ² on arms − 1 degrees of freedom. */
  chi2: number;
  df: number;
  p: number;
  undefinedReason: UndefinedReason;
}

export interface AwarenessAnalysis {
  splits: AwarenessSplit[];
  homogeneity: AwarenessHomogeneity[];
}

const NAN_CI: [number, number] = [Number.NaN, Number.NaN];

function group(n: number, misaligned: number): AwarenessGroup {
  return {
    n,
    misaligned,
    rate: n ? misaligned / n : Number.NaN,
    ci: n ? wilson(misaligned, n) : NAN_CI,
  };
}

/** One arm's split, from its rate cells by awareness label (`RunMetrics.byAwareness`). */
export function awarenessSplit(
  arm: string,
  model: string,
  byLabel: readonly RateCell[],
): AwarenessSplit {
  const sum = (cells: readonly RateCell[]) =>
    cells.reduce((s, c) => ({ n: s.n + c.n, x: s.x + c.misaligned }), { n: 0, x: 0 });
  const a = sum(byLabel.filter((c) => c.key === AWARE_LABEL));
  const u = sum(byLabel.filter((c) => c.key !== AWARE_LABEL));
  const empty = a.n === 0 || u.n === 0;
  const f = fisherExact(a.x, a.n - a.x, u.x, u.n - u.x);
  const d = empty ? { diff: Number.NaN, ci: NAN_CI } : newcombe(a.x, a.n, u.x, u.n);
  return {
    arm,
    model,
    aware: group(a.n, a.x),
    unaware: group(u.n, u.x),
    diff: d.diff,
    diffCi: d.ci,
    pFisher: f.p,
    pUndefinedReason: empty ? `no ${a.n === 0 ? "aware" : "unaware"} samples` : f.undefinedReason,
    oddsRatio: f.oddsRatio,
  };
}

/** A 2×2: a aware misaligned, b aware aligned, c unaware misaligned, d unaware aligned. */
type Table2 = [number, number, number, number];
const tableOf = (s: AwarenessSplit): Table2 => [
  s.aware.misaligned,
  s.aware.n - s.aware.misaligned,
  s.unaware.misaligned,
  s.unaware.n - s.unaware.misaligned,
];

/**
 * The expected count of the first cell given the margins, had the table odds ratio `psi`: the root
 * of (1 − ψ)A² + (n0 − m1 + ψ(n1 + m1))A − ψ·n1·m1 = 0 within the cell's bounds.
 */
function expectedCell([a, b, c, d]: Table2, psi: number): number {
  const n1 = a + b;
  const n0 = c + d;
  const m1 = a + c;
  if (psi === 1) return (n1 * m1) / (n1 + n0);
  const qa = 1 - psi;
  const qb = n0 - m1 + psi * (n1 + m1);
  const qc = -psi * n1 * m1;
  const disc = Math.sqrt(qb * qb - 4 * qa * qc);
  const lo = Math.max(0, m1 - n0);
  const hi = Math.min(n1, m1);
  const roots = [(-qb + disc) / (2 * qa), (-qb - disc) / (2 * qa)];
  return roots.find((r) => r >= lo - 1e-9 && r <= hi + 1e-9) as number;
}

const informative = ([a, b, c, d]: Table2) => a + b > 0 && c + d > 0 && a + c > 0 && b + d > 0;

/**
 * Tarone-corrected Breslow–Day over one model's arms. Arms whose table lacks a group or an outcome
 * carry no information on their odds ratio and are left out; fewer than two left, it is undefined.
 */
export function awarenessHomogeneity(
  model: string,
  splits: readonly AwarenessSplit[],
): AwarenessHomogeneity {
  const used = splits.filter((s) => informative(tableOf(s)));
  const tables = used.map(tableOf);
  const n = (t: Table2) => t[0] + t[1] + t[2] + t[3];
  const num = tables.reduce((s, t) => s + (t[0] * t[3]) / n(t), 0);
  const den = tables.reduce((s, t) => s + (t[1] * t[2]) / n(t), 0);
  const psi = num / den;
  const base = { model, arms: used.map((s) => s.arm), commonOddsRatio: psi, df: used.length - 1 };
  const undefinedReason =
    used.length < 2
      ? "fewer than two arms with aware and unaware, misaligned and aligned samples"
      : !(psi > 0 && Number.isFinite(psi))
        ? "the common odds ratio is 0 or infinite"
        : null;
  if (undefinedReason) return { ...base, chi2: Number.NaN, p: Number.NaN, undefinedReason };
  let chi2 = 0;
  let sumDev = 0;
  let sumVar = 0;
  for (const t of tables) {
    const e = expectedCell(t, psi);
    const [n1, m1, n0] = [t[0] + t[1], t[0] + t[2], t[2] + t[3]];
    const v = 1 / (1 / e + 1 / (n1 - e) + 1 / (m1 - e) + 1 / (n0 - m1 + e));
    chi2 += (t[0] - e) ** 2 / v;
    sumDev += t[0] - e;
    sumVar += v;
  }
  chi2 -= sumDev ** 2 / sumVar;
  return { ...base, chi2, p: chiSquareSf(chi2, base.df), undefinedReason: null };
}

/** Every arm's split, and per model the test across its arms. */
export function awarenessAnalysis(
  arms: readonly { arm: string; model: string; byAwareness: readonly RateCell[] }[],
): AwarenessAnalysis {
  const measured = arms.filter((a) => a.byAwareness.length);
  const splits = measured.map((a) => awarenessSplit(a.arm, a.model, a.byAwareness));
  const models = [...new Set(splits.map((s) => s.model))];
  return {
    splits,
    homogeneity: models.map((m) =>
      awarenessHomogeneity(
        m,
        splits.filter((s) => s.model === m),
      ),
    ),
  };
}
