/**
 * Statistics for comparing arms: proportions and their differences, exact and paired tests,
 * bootstrap over clusters, means across seeds, multiple-comparison adjustment and sample sizes.
 * Distribution quantiles and tail functions come from jstat; the rest is written out here because
 * no maintained npm package offers these tests (see the ecosystem notes), and each function is
 * checked against scipy/statsmodels values committed as fixtures (`test/fixtures/stats-reference.json`,
 * produced by `scripts/stats_reference.py`).
 */
import jstatModule from "jstat";
import { seededRandom } from "../core/random.js";
import { mean, stderr, wilson, Z95 } from "../core/stats.js";

export { mean, seededRandom, stderr, wilson };

const { jStat } = jstatModule;

export type Interval = [number, number];

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
 * Fisher's exact test on [[a, b], [c, d]], two-sided: the probability of every table with the
 * same margins that is no more likely than the observed one (the same rule, and relative
 * tolerance, as scipy). The odds ratio is the sample one, ad/bc.
 */
export function fisherExact(
  a: number,
  b: number,
  c: number,
  d: number,
): { p: number; oddsRatio: number } {
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
  const oddsRatio =
    b * c === 0 ? (a * d === 0 ? Number.NaN : Number.POSITIVE_INFINITY) : (a * d) / (b * c);
  return { p: Math.min(1, p), oddsRatio };
}

/** Two-proportion z-test with the pooled variance (statsmodels' default), two-sided. */
export function twoProportionZ(
  x1: number,
  n1: number,
  x2: number,
  n2: number,
): { z: number; p: number } {
  const pooled = (x1 + x2) / (n1 + n2);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  if (se === 0) return { z: 0, p: 1 };
  const z = (x1 / n1 - x2 / n2) / se;
  return { z, p: 2 * (1 - jStat.normal.cdf(Math.abs(z), 0, 1)) };
}

/**
 * McNemar's test for paired binary outcomes, from the discordant counts: b (only the first arm
 * positive) and c (only the second). Exact binomial p, and the continuity-corrected χ² version.
 */
export function mcnemar(b: number, c: number): { exactP: number; chi2: number; chi2P: number } {
  const n = b + c;
  if (n === 0) return { exactP: 1, chi2: 0, chi2P: 1 };
  const k = Math.min(b, c);
  let tail = 0;
  for (let i = 0; i <= k; i++) tail += Math.exp(logChoose(n, i) - n * Math.LN2);
  const chi2 = (Math.abs(b - c) - 1) ** 2 / n;
  return { exactP: Math.min(1, 2 * tail), chi2, chi2P: 1 - jStat.chisquare.cdf(chi2, 1) };
}

/** Risk difference and ratio of two proportions, with Newcombe and log (Katz) 95% intervals. */
export function riskMeasures(
  x1: number,
  n1: number,
  x2: number,
  n2: number,
): { difference: number; differenceCi: Interval; ratio: number; ratioCi: Interval } {
  const { diff, ci } = newcombe(x1, n1, x2, n2);
  const p1 = x1 / n1;
  const p2 = x2 / n2;
  const ratio = p2 === 0 ? Number.POSITIVE_INFINITY : p1 / p2;
  const se = Math.sqrt(1 / x1 - 1 / n1 + 1 / x2 - 1 / n2);
  const ratioCi: Interval =
    x1 === 0 || x2 === 0
      ? [Number.NaN, Number.NaN]
      : [ratio * Math.exp(-Z95 * se), ratio * Math.exp(Z95 * se)];
  return { difference: diff, differenceCi: ci, ratio, ratioCi };
}

/** Mean, standard error and Student-t 95% interval (e.g. across training seeds). */
export function meanInterval(
  xs: number[],
  confidence = 0.95,
): { mean: number; sem: number; ci: Interval; n: number } {
  const m = mean(xs);
  const sem = stderr(xs);
  if (xs.length < 2)
    return { mean: m, sem: Number.NaN, ci: [Number.NaN, Number.NaN], n: xs.length };
  const t = jStat.studentt.inv(1 - (1 - confidence) / 2, xs.length - 1);
  return { mean: m, sem, ci: [m - t * sem, m + t * sem], n: xs.length };
}

/** Holm's step-down adjustment: adjusted p-values in the input order, monotone, capped at 1. */
export function holm(pvalues: number[]): number[] {
  const order = pvalues.map((p, i) => [p, i] as const).sort((a, b) => a[0] - b[0]);
  const adjusted = new Array<number>(pvalues.length);
  let running = 0;
  for (const [rank, [p, i]] of order.entries()) {
    running = Math.max(running, Math.min(1, (pvalues.length - rank) * p));
    adjusted[i] = running;
  }
  return adjusted;
}

/** Benjamini–Hochberg false-discovery-rate adjustment, in the input order. */
export function benjaminiHochberg(pvalues: number[]): number[] {
  const m = pvalues.length;
  const order = pvalues.map((p, i) => [p, i] as const).sort((a, b) => b[0] - a[0]);
  const adjusted = new Array<number>(m);
  let running = 1;
  for (const [k, [p, i]] of order.entries()) {
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

/**
 * Samples per arm to detect p1 vs p2 with a two-sided test at `alpha` and the given power, by the
 * arcsine (Cohen's h) normal approximation, as statsmodels' NormalIndPower computes it.
 */
export function samplesPerArm(
  p1: number,
  p2: number,
  options: { alpha?: number; power?: number } = {},
): { perArm: number; cohensH: number } {
  const alpha = options.alpha ?? 0.05;
  const power = options.power ?? 0.8;
  const h = Math.abs(2 * Math.asin(Math.sqrt(p1)) - 2 * Math.asin(Math.sqrt(p2)));
  const za = jStat.normal.inv(1 - alpha / 2, 0, 1);
  const zb = jStat.normal.inv(power, 0, 1);
  // Two groups of n each: the standardized difference is h·√(n/2).
  return { perArm: Math.ceil(2 * ((za + zb) / h) ** 2), cohensH: h };
}
