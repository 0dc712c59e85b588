/**
 * The Cochran–Armitage test for a linear trend in proportions over ordered groups (doses, steps):
 * the score test of the slope in a logistic model logit(p) = a + b·x. Written out because no
 * maintained npm package has it; checked against statsmodels (see trend.test.ts).
 *
 * With p̄ the pooled rate, N the samples and x_i each group's score,
 *   z = Σ x_i (r_i − n_i p̄) / sqrt(p̄ (1 − p̄) (Σ n_i x_i² − (Σ n_i x_i)² / N)),
 * two-sided p from the normal. No continuity correction. The slope reported beside it is the
 * change in rate per unit of x of the least-squares line through the groups' rates weighted by
 * their sizes (the quantity the statistic tests is zero).
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
