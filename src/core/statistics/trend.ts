/**
 * The Cochran–Armitage test for a linear trend in proportions over ordered groups (doses, steps):
 * the score test of the slope in a logistic model logit(p) = a + b·x. Written out because no
 * maintained npm package has it; checked against statsmodels (see trend.test.ts).
 *
 * With p̄ the pooled rate, N the samples and x_i each group's score,
 *   z = Σ x_i (r_i − n_i p̄) / sqrt(p̄ (1 − p̄) (Σ n_i x_i² − (Σ n_i x_i)² / N)),
 * two-sided p from the normal. No continuity correction. The slope reported beside it is the
 * change in rate per unit of x of the least-squares line through the groups' rates weighted by
 * their sizes (the quantity the statistic tests is zero). Below it, a logistic regression on
 * grouped counts, for the interaction of two series' trends (checked against statsmodels' GLM).
 */
import { normalTwoSidedP } from "./distributions.js";

export interface TrendGroup {
  /** The group's score: its dose, step count or percent. */
  x: number;
  /** Samples with the outcome, and samples. */
  events: number;
  n: number;
}

export interface TrendTest {
  z: number;
  p: number;
  /** Weighted least-squares change in the rate per unit of x. */
  slope: number;
  /** Why the test is undefined (z and p NaN), or null. */
  undefinedReason: string | null;
}

export function cochranArmitage(groups: TrendGroup[]): TrendTest {
  const used = groups.filter((g) => g.n > 0);
  const N = used.reduce((a, g) => a + g.n, 0);
  const R = used.reduce((a, g) => a + g.events, 0);
  const sx = used.reduce((a, g) => a + g.n * g.x, 0);
  const sxx = used.reduce((a, g) => a + g.n * g.x * g.x, 0);
  const spread = sxx - (sx * sx) / N;
  const undefinedTrend = (reason: string): TrendTest => ({
    z: Number.NaN,
    p: Number.NaN,
    slope: Number.NaN,
    undefinedReason: reason,
  });
  if (new Set(used.map((g) => g.x)).size < 2)
    return undefinedTrend("fewer than two groups with samples");
  const slope = used.reduce((a, g) => a + g.x * (g.events - (g.n * R) / N), 0) / spread;
  if (R === 0 || R === N)
    return {
      ...undefinedTrend(R === 0 ? "every group is 0%" : "every group is 100%"),
      slope,
    };
  const pbar = R / N;
  const t = used.reduce((a, g) => a + g.x * (g.events - g.n * pbar), 0);
  const z = t / Math.sqrt(pbar * (1 - pbar) * spread);
  return { z, p: normalTwoSidedP(z), slope, undefinedReason: null };
}

/** Grouped binomial data for a logistic regression: a group's covariates, events and size. */
export interface LogisticGroup {
  covariates: number[];
  events: number;
  n: number;
}

export interface LogisticFit {
  coefficients: number[];
  /** Standard errors from the inverse information at the fit. */
  se: number[];
  /** Why there is no fit (every coefficient NaN), or null. */
  undefinedReason: string | null;
}

/** The inverse of a small symmetric positive-definite matrix (Gauss–Jordan), or null if singular. */
function inverse(m: number[][]): number[][] | null {
  const k = m.length;
  const a = m.map((row, i) => [...row, ...row.map((_, j) => (i === j ? 1 : 0))]);
  for (let c = 0; c < k; c++) {
    let pivot = c;
    for (let r = c + 1; r < k; r++)
      if (Math.abs((a[r] as number[])[c] as number) > Math.abs((a[pivot] as number[])[c] as number))
        pivot = r;
    const p = (a[pivot] as number[])[c] as number;
    if (Math.abs(p) < 1e-300) return null;
    [a[c], a[pivot]] = [a[pivot] as number[], a[c] as number[]];
    const row = (a[c] as number[]).map((v) => v / p);
    a[c] = row;
    for (let r = 0; r < k; r++) {
      if (r === c) continue;
      const f = (a[r] as number[])[c] as number;
      a[r] = (a[r] as number[]).map((v, j) => v - f * (row[j] as number));
    }
  }
  return a.map((row) => row.slice(k));
}

/**
 * Maximum likelihood for logit(p) = Σ b_j c_j (give an intercept as a covariate of 1) by
 * Newton–Raphson; written out because no maintained npm package fits a GLM. Without convergence
 * (complete separation: a group at 0% or 100% that a coefficient can run away to) there is no fit.
 */
export function logisticRegression(groups: LogisticGroup[]): LogisticFit {
  const k = groups[0]?.covariates.length ?? 0;
  const none = (reason: string): LogisticFit => ({
    coefficients: Array(k).fill(Number.NaN),
    se: Array(k).fill(Number.NaN),
    undefinedReason: reason,
  });
  let beta = Array(k).fill(0) as number[];
  for (let iter = 0; iter < 100; iter++) {
    const { info, score } = likelihoodParts(groups, beta);
    const cov = inverse(info);
    if (!cov) return none("the design is singular (too few distinct groups for the model)");
    const step = cov.map((row) => row.reduce((a, v, j) => a + v * (score[j] as number), 0));
    beta = beta.map((b, j) => b + (step[j] as number));
    if (beta.some((b) => !Number.isFinite(b) || Math.abs(b) > 50))
      return none("the fit does not converge (a group at 0% or 100% separates the data)");
    if (step.every((s, j) => Math.abs(s) <= 1e-10 * (1 + Math.abs(beta[j] as number)))) {
      const atFit = inverse(likelihoodParts(groups, beta).info);
      if (!atFit) return none("the design is singular (too few distinct groups for the model)");
      return {
        coefficients: beta,
        se: atFit.map((row, j) => Math.sqrt(row[j] as number)),
        undefinedReason: null,
      };
    }
  }
  return none("the fit does not converge (a group at 0% or 100% separates the data)");
}

/** The log-likelihood's gradient (score) and the Fisher information at `beta`. */
function likelihoodParts(groups: LogisticGroup[], beta: number[]) {
  const k = beta.length;
  const info = Array.from({ length: k }, () => Array(k).fill(0) as number[]);
  const score = Array(k).fill(0) as number[];
  for (const g of groups) {
    const c = g.covariates;
    const p = 1 / (1 + Math.exp(-c.reduce((a, v, j) => a + v * (beta[j] as number), 0)));
    const w = g.n * p * (1 - p);
    for (let i = 0; i < k; i++) {
      score[i] = (score[i] as number) + (c[i] as number) * (g.events - g.n * p);
      const row = info[i] as number[];
      for (let j = 0; j < k; j++)
        row[j] = (row[j] as number) + w * (c[i] as number) * (c[j] as number);
    }
  }
  return { info, score };
}

/** One coefficient of a fit with its Wald z and two-sided p. */
export function waldTest(fit: LogisticFit, j: number) {
  const b = fit.coefficients[j] as number;
  const se = fit.se[j] as number;
  const z = b / se;
  return { coefficient: b, se, z, p: normalTwoSidedP(z), undefinedReason: fit.undefinedReason };
}
