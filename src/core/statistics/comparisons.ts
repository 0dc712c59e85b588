/**
 * Statistics for comparing arms: proportions and their differences, exact and paired tests,
 * bootstrap over clusters, means across seeds, multiple-comparison adjustment and sample sizes.
 * Distribution quantiles and tails come from `distributions.ts`; the rest is written out here
 * because no maintained npm package offers these tests (see the ecosystem notes), and each function
 * is checked against scipy/statsmodels values committed as fixtures
 * (`test/fixtures/stats-reference.json`, produced by `scripts/stats_reference.py`).
 *
 * A statistic that the data cannot define (a test on 0/10 vs 0/10, McNemar without discordant
 * pairs) is NaN with `undefinedReason` saying why, never a finite stand-in such as p = 1.
 */
import { seededRandom } from "../random.js";
import { mean, stderr, wilson, Z95 } from "../stats.js";
import {
  chiSquare1Sf,
  normalCdf,
  normalQuantile,
  normalTwoSidedP,
  tQuantile,
  tTwoSidedP,
} from "./distributions.js";

export { mean, seededRandom, stderr, wilson };

export type Interval = [number, number];

/** Why a statistic is undefined (NaN); null when it is defined. */
export type UndefinedReason = string | null;

export const NO_DISCORDANT_PAIRS = "no discordant pairs";
const EMPTY_ARM = "an arm has no samples";

/** log(n!) by summation, cached: exact enough for the counts an eval produces. */
const logFactCache: number[] = [0];
function logFactorial(n: number): number {
  for (let i = logFactCache.length; i <= n; i++)
    logFactCache[i] = (logFactCache[i - 1] as number) + Math.log(i);
  return logFactCache[n] as number;
}
const logChoose = (n: number, k: number) => logFactorial(n) - logFactorial(k) - logFactorial(n - k);

/**
 * Newcombe's hybrid score interval (method 10) for a difference of two independent proportions
 * p1 − p2, built from the two Wilson intervals.
 */
export function newcombe(
  x1: number,
  n1: number,
  x2: number,
  n2: number,
  z = Z95,
): { diff: number; ci: Interval } {
  const p1 = x1 / n1;
  const p2 = x2 / n2;
  const [l1, u1] = wilson(x1, n1, z);
  const [l2, u2] = wilson(x2, n2, z);
  const diff = p1 - p2;
  const lower = diff - Math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2);
  const upper = diff + Math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2);
  return { diff, ci: [Math.max(-1, lower), Math.min(1, upper)] };
}

/**
 * Why comparing x1/n1 with x2/n2 is undefined: an arm without samples, or one outcome throughout
 * (0/10 vs 0/10), where the z test's standard error is 0 and Fisher's test has one possible table.
 */
function degenerateComparison(x1: number, n1: number, x2: number, n2: number): UndefinedReason {
  if (n1 === 0 || n2 === 0) return EMPTY_ARM;
  if (x1 + x2 === 0) return "both arms are 0%";
  if (x1 + x2 === n1 + n2) return "both arms are 100%";
  return null;
}

/**
 * Fisher's exact test on [[a, b], [c, d]] (rows: arms), two-sided: the probability of every table
 * with the same margins that is no more likely than the observed one (the same rule, and relative
 * tolerance, as scipy). The odds ratio is the sample one, ad/bc. With one outcome throughout
 * (0/10 vs 0/10) only one table is possible and p = 1, as scipy says; an arm without samples is
 * no comparison at all, so undefined there (scipy says 1).
 */
export function fisherExact(
  a: number,
  b: number,
  c: number,
  d: number,
): { p: number; oddsRatio: number; undefinedReason: UndefinedReason } {
  const oddsRatio =
    b * c === 0 ? (a * d === 0 ? Number.NaN : Number.POSITIVE_INFINITY) : (a * d) / (b * c);
  if (a + b === 0 || c + d === 0) return { p: Number.NaN, oddsRatio, undefinedReason: EMPTY_ARM };
  const row1 = a + b;
  const col1 = a + c;
  const n = a + b + c + d;
  const logP = (x: number) =>
    logChoose(col1, x) + logChoose(n - col1, row1 - x) - logChoose(n, row1);
  const observed = logP(a);
  let p = 0;
  for (let x = Math.max(0, row1 + col1 - n); x <= Math.min(row1, col1); x++) {
    const lp = logP(x);
    if (lp <= observed + 1e-7 * Math.abs(observed) + 1e-12) p += Math.exp(lp);
  }
  return { p: Math.min(1, p), oddsRatio, undefinedReason: null };
}

/** Two-proportion z-test with the pooled variance (statsmodels' default), two-sided. */
export function twoProportionZ(
  x1: number,
  n1: number,
  x2: number,
  n2: number,
): { z: number; p: number; undefinedReason: UndefinedReason } {
  const undefinedReason = degenerateComparison(x1, n1, x2, n2);
  if (undefinedReason) return { z: Number.NaN, p: Number.NaN, undefinedReason };
  const pooled = (x1 + x2) / (n1 + n2);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  const z = (x1 / n1 - x2 / n2) / se;
  return { z, p: normalTwoSidedP(z), undefinedReason: null };
}

/**
 * McNemar's test for paired binary outcomes, from the discordant counts: b (only the first arm
 * positive) and c (only the second). Exact binomial p, and the continuity-corrected χ² version.
 * Undefined without discordant pairs: scipy's binomial test refuses n = 0, and χ² would be 1/0.
 */
export function mcnemar(
  b: number,
  c: number,
): { exactP: number; chi2: number; chi2P: number; undefinedReason: UndefinedReason } {
  const n = b + c;
  if (n === 0)
    return {
      exactP: Number.NaN,
      chi2: Number.NaN,
      chi2P: Number.NaN,
      undefinedReason: NO_DISCORDANT_PAIRS,
    };
  const k = Math.min(b, c);
  let tail = 0;
  for (let i = 0; i <= k; i++) tail += Math.exp(logChoose(n, i) - n * Math.LN2);
  const chi2 = (Math.abs(b - c) - 1) ** 2 / n;
  return { exactP: Math.min(1, 2 * tail), chi2, chi2P: chiSquare1Sf(chi2), undefinedReason: null };
}

/** A difference of two means with its t interval and two-sided p (paired or Welch). */
export interface MeanDifference {
  test: "paired t" | "Welch t";
  /** Mean of the first minus mean of the second. */
  diff: number;
  ci: Interval;
  se: number;
  df: number;
  t: number;
  p: number;
  undefinedReason: UndefinedReason;
}

const NO_VARIATION = "no variation in either arm";
const TOO_FEW_ITEMS = "fewer than two items in an arm";

function tDifference(
  test: MeanDifference["test"],
  diff: number,
  se: number,
  df: number,
): MeanDifference {
  // As scipy: a zero standard error with no difference has no defined t; with one, |t| is infinite.
  if (se === 0 && diff === 0)
    return {
      test,
      diff,
      ci: [0, 0],
      se,
      df,
      t: Number.NaN,
      p: Number.NaN,
      undefinedReason: NO_VARIATION,
    };
  const t = diff / se;
  const q = tQuantile(0.975, df);
  return {
    test,
    diff,
    ci: [diff - q * se, diff + q * se],
    se,
    df,
    t,
    p: tTwoSidedP(t, df),
    undefinedReason: null,
  };
}

const undefinedDifference = (test: MeanDifference["test"], diff: number): MeanDifference => ({
  test,
  diff,
  ci: [Number.NaN, Number.NaN],
  se: Number.NaN,
  df: Number.NaN,
  t: Number.NaN,
  p: Number.NaN,
  undefinedReason: TOO_FEW_ITEMS,
});

/** Paired t-test on matched values (scipy's ttest_rel): the mean of a − b over the pairs. */
export function pairedT(a: number[], b: number[]): MeanDifference {
  const d = a.map((x, i) => x - (b[i] as number));
  if (d.length < 2) return undefinedDifference("paired t", mean(d));
  return tDifference("paired t", mean(d), stderr(d), d.length - 1);
}

/** Welch's unequal-variance t-test (scipy's ttest_ind with equal_var=False). */
export function welchT(a: number[], b: number[]): MeanDifference {
  const diff = mean(a) - mean(b);
  if (a.length < 2 || b.length < 2) return undefinedDifference("Welch t", diff);
  const va = stderr(a) ** 2;
  const vb = stderr(b) ** 2;
  const se = Math.sqrt(va + vb);
  const df = (va + vb) ** 2 / (va ** 2 / (a.length - 1) + vb ** 2 / (b.length - 1));
  return tDifference("Welch t", diff, se, Number.isFinite(df) ? df : a.length + b.length - 2);
}

/**
 * Risk difference and ratio of two proportions, with Newcombe and log (Katz) 95% intervals. The
 * ratio is p1/p2 as division gives it: infinite for x/n vs 0, NaN (undefined) for 0 vs 0.
 */
export function riskMeasures(
  x1: number,
  n1: number,
  x2: number,
  n2: number,
): { difference: number; differenceCi: Interval; ratio: number; ratioCi: Interval } {
  const { diff, ci } = newcombe(x1, n1, x2, n2);
  const ratio = x1 / n1 / (x2 / n2);
  const se = Math.sqrt(1 / x1 - 1 / n1 + 1 / x2 - 1 / n2);
  const ratioCi: Interval =
    x1 === 0 || x2 === 0
      ? [Number.NaN, Number.NaN]
      : [ratio * Math.exp(-Z95 * se), ratio * Math.exp(Z95 * se)];
  return { difference: diff, differenceCi: ci, ratio, ratioCi };
}

export interface MeanInterval {
  mean: number;
  sem: number;
  ci: Interval;
  n: number;
  /** The t interval reached past `bounds` and was cut at them. */
  clipped: boolean;
}

/**
 * Mean, standard error and Student-t interval (e.g. across training seeds). With `bounds` (a rate:
 * [0, 1]) the interval is clipped to them and says so: a t interval of a few seeds' rates can
 * reach below 0, which no rate can.
 */
export function meanInterval(
  xs: number[],
  options: { confidence?: number; bounds?: Interval } = {},
): MeanInterval {
  const m = mean(xs);
  if (xs.length < 2)
    return { mean: m, sem: Number.NaN, ci: [Number.NaN, Number.NaN], n: xs.length, clipped: false };
  const sem = stderr(xs);
  const t = tQuantile(1 - (1 - (options.confidence ?? 0.95)) / 2, xs.length - 1);
  const [lo, hi] = options.bounds ?? [Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY];
  const ci: Interval = [Math.max(lo, m - t * sem), Math.min(hi, m + t * sem)];
  return { mean: m, sem, ci, n: xs.length, clipped: m - t * sem < lo || m + t * sem > hi };
}

/**
 * The defined p-values of a family with their positions: an undefined (NaN) test is left out of
 * the family and its adjusted p stays NaN, as R's p.adjust treats NA (rather than turning every
 * adjusted p into NaN).
 */
function definedFamily(pvalues: number[]): { p: number; i: number }[] {
  return pvalues.flatMap((p, i) => (Number.isNaN(p) ? [] : [{ p, i }]));
}

/** Holm's step-down adjustment: adjusted p-values in the input order, monotone, capped at 1. */
export function holm(pvalues: number[]): number[] {
  const family = definedFamily(pvalues).sort((a, b) => a.p - b.p);
  const adjusted = pvalues.map(() => Number.NaN);
  let running = 0;
  for (const [rank, { p, i }] of family.entries()) {
    running = Math.max(running, Math.min(1, (family.length - rank) * p));
    adjusted[i] = running;
  }
  return adjusted;
}

/** Benjamini–Hochberg false-discovery-rate adjustment, in the input order. */
export function benjaminiHochberg(pvalues: number[]): number[] {
  const family = definedFamily(pvalues).sort((a, b) => b.p - a.p);
  const m = family.length;
  const adjusted = pvalues.map(() => Number.NaN);
  let running = 1;
  for (const [k, { p, i }] of family.entries()) {
    running = Math.min(running, (p * m) / (m - k));
    adjusted[i] = running;
  }
  return adjusted;
}

/**
 * Cluster bootstrap percentile interval: resamples whole clusters (scenarios, or seeds) with
 * replacement, so correlated samples within a cluster are not treated as independent.
 */
export function clusterBootstrap<T>(
  clusters: T[][],
  statistic: (resampled: T[][]) => number,
  options: { resamples?: number; seed?: number; confidence?: number } = {},
): { estimate: number; ci: Interval; resamples: number } {
  const B = options.resamples ?? 2000;
  const rand = seededRandom(options.seed ?? 1);
  const stats: number[] = [];
  for (let b = 0; b < B; b++) {
    const pick: T[][] = [];
    for (let i = 0; i < clusters.length; i++)
      pick.push(clusters[Math.floor(rand() * clusters.length)] as T[]);
    const s = statistic(pick);
    if (Number.isFinite(s)) stats.push(s);
  }
  stats.sort((x, y) => x - y);
  const alpha = 1 - (options.confidence ?? 0.95);
  const q = (f: number) => {
    const pos = f * (stats.length - 1);
    const lo = Math.floor(pos);
    return (
      (stats[lo] as number) +
      ((stats[Math.min(lo + 1, stats.length - 1)] as number) - (stats[lo] as number)) * (pos - lo)
    );
  };
  return {
    estimate: statistic(clusters),
    ci: [q(alpha / 2), q(1 - alpha / 2)],
    resamples: stats.length,
  };
}

/** Power of the two-sided normal test of Cohen's h with n per arm: both rejection tails count. */
function twoSidedPower(h: number, n: number, zCrit: number): number {
  const shift = h * Math.sqrt(n / 2);
  return normalCdf(shift - zCrit) + normalCdf(-shift - zCrit);
}

/**
 * Samples per arm to detect p1 vs p2 (rates in [0, 1], p1 ≠ p2) with a two-sided test at `alpha`
 * and the given power (alpha < power < 1), by the arcsine (Cohen's h) normal approximation, solved
 * as statsmodels' NormalIndPower.solve_power does: the power counts both rejection tails and is
 * solved for n (`exact`); `perArm` rounds it up. The closed form 2((z₁₋α/₂ + z_power)/h)² leaves
 * out the far tail, so it needs at least n: it brackets the root, which bisection then finds
 * (the power rises with n; a root finder library would add nothing here).
 */
export function samplesPerArm(
  p1: number,
  p2: number,
  options: { alpha?: number; power?: number } = {},
): { perArm: number; exact: number; cohensH: number } {
  const alpha = options.alpha ?? 0.05;
  const power = options.power ?? 0.8;
  if (!(p1 >= 0 && p1 <= 1 && p2 >= 0 && p2 <= 1 && p1 !== p2))
    throw new RangeError(`samplesPerArm: rates must differ and lie in [0, 1] (got ${p1}, ${p2})`);
  if (!(alpha > 0 && alpha < power && power < 1))
    throw new RangeError(`samplesPerArm: need 0 < alpha < power < 1 (got ${alpha}, ${power})`);
  const h = Math.abs(2 * Math.asin(Math.sqrt(p1)) - 2 * Math.asin(Math.sqrt(p2)));
  const zCrit = normalQuantile(1 - alpha / 2);
  let lo = 0;
  let hi = 2 * ((zCrit + normalQuantile(power)) / h) ** 2;
  while (hi - lo > 1e-15 * hi) {
    const mid = (lo + hi) / 2;
    if (mid === lo || mid === hi) break;
    if (twoSidedPower(h, mid, zCrit) < power) lo = mid;
    else hi = mid;
  }
  return { perArm: Math.ceil(hi), exact: hi, cohensH: h };
}
