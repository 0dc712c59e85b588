/**
 * Whether an effect differs across strata (an arm-vs-arm effect across base-model families): per
 * stratum the difference of rates with Newcombe's interval and the odds ratio with Woolf's; across
 * strata the likelihood-ratio test of the interaction terms of the logistic regression
 * outcome ~ arm * stratum (df = strata − 1), and for two strata the difference of differences
 * (MOVER interval from the two Newcombe intervals) and the ratio of odds ratios (Wald interval of
 * the interaction coefficient). Checked against statsmodels' GLM Binomial in interaction.test.ts.
 *
 * Zero cells: the full model has a parameter per cell, so its maximum-likelihood fit is the
 * observed proportions, also where a cell is 0/n or n/n (its coefficients then diverge, as
 * statsmodels' do); its deviance is exactly 0, and the statistic is the deviance of the model
 * without the interaction, which stays finite. A stratum with one outcome throughout (no
 * misaligned sample in either arm, or only misaligned ones) or an arm without samples carries no
 * information on the interaction (its intercept would diverge and its df be empty): it is left
 * out of the test, and says why. Odds ratios and their intervals with a zero cell are undefined.
 */
import { Z95 } from "../stats.js";
import { newcombe, type UndefinedReason } from "./comparisons.js";
import { chiSquareSf } from "./distributions.js";

export interface Counts {
  /** Samples with the outcome (misaligned), of n valid ones. */
  x: number;
  n: number;
}

export interface Stratum {
  name: string;
  a: Counts;
  b: Counts;
}

export interface StratumEffect extends Stratum {
  rateA: number;
  rateB: number;
  /** rateA − rateB with Newcombe's hybrid-score interval. */
  diff: number;
  diffCi: [number, number];
  /** The sample odds ratio of a against b; NaN (with the reason) where a cell is zero. */
  oddsRatio: number;
  oddsRatioCi: [number, number] | null;
  undefinedReason: UndefinedReason;
}

export interface InteractionTest {
  effects: StratumEffect[];
  /** The strata the test uses, and those it leaves out with why. */
  tested: string[];
  leftOut: { name: string; reason: string }[];
  /** Deviance of outcome ~ arm + stratum minus that of outcome ~ arm * stratum (which is 0). */
  lr: number;
  df: number;
  p: number;
  undefinedReason: UndefinedReason;
  /** With two tested strata: (first's diff) − (second's), MOVER interval. */
  diffOfDiffs: { diff: number; ci: [number, number] } | null;
  /** With two tested strata: first's odds ratio / second's, Wald interval; null ci with a zero cell. */
  ratioOfOdds: { ratio: number; ci: [number, number] | null } | null;
}

const ZERO_CELL = "a zero cell";

/** The effect of arm a against arm b within one stratum. */
export function stratumEffect(s: Stratum): StratumEffect {
  const { a, b } = s;
  const { diff, ci } = newcombe(a.x, a.n, b.x, b.n);
  const cells = [a.x, a.n - a.x, b.x, b.n - b.x];
  const zero = cells.some((c) => c === 0);
  const logOr = Math.log((a.x * (b.n - b.x)) / ((a.n - a.x) * b.x));
  const se = Math.sqrt(cells.reduce((t, c) => t + 1 / c, 0));
  return {
    ...s,
    rateA: a.x / a.n,
    rateB: b.x / b.n,
    diff,
    diffCi: ci,
    oddsRatio: zero ? Number.NaN : Math.exp(logOr),
    oddsRatioCi: zero ? null : [Math.exp(logOr - Z95 * se), Math.exp(logOr + Z95 * se)],
    undefinedReason: zero ? ZERO_CELL : null,
  };
}

/** Why a stratum says nothing about the interaction, or null. */
function uninformative(s: Stratum): string | null {
  if (s.a.n === 0 || s.b.n === 0) return "an arm has no samples";
  const x = s.a.x + s.b.x;
  if (x === 0) return "no misaligned sample in either arm";
  if (x === s.a.n + s.b.n) return "every sample misaligned in both arms";
  return null;
}

/** The binomial deviance contribution of x of n against a fitted probability mu (0·log 0 = 0). */
function devianceTerm(x: number, n: number, mu: number): number {
  const part = (y: number, m: number) => (y > 0 ? y * Math.log(y / m) : 0);
  return 2 * (part(x, n * mu) + part(n - x, n * (1 - mu)));
}

/**
 * Solves the symmetric positive-definite system A·v = r by Gaussian elimination with partial
 * pivoting (the matrices here are strata + 1 wide: a handful).
 */
function solve(A: number[][], r: number[]): number[] {
  const m = A.map((row, i) => [...row, r[i] as number]);
  const k = m.length;
  for (let c = 0; c < k; c++) {
    let piv = c;
    for (let i = c + 1; i < k; i++)
      if (Math.abs((m[i] as number[])[c] as number) > Math.abs((m[piv] as number[])[c] as number))
        piv = i;
    [m[c], m[piv]] = [m[piv] as number[], m[c] as number[]];
    const pr = m[c] as number[];
    for (let i = c + 1; i < k; i++) {
      const row = m[i] as number[];
      const f = (row[c] as number) / (pr[c] as number);
      for (let j = c; j <= k; j++) row[j] = (row[j] as number) - f * (pr[j] as number);
    }
  }
  const v = new Array<number>(k).fill(0);
  for (let i = k - 1; i >= 0; i--) {
    const row = m[i] as number[];
    let t = row[k] as number;
    for (let j = i + 1; j < k; j++) t -= (row[j] as number) * (v[j] as number);
    v[i] = t / (row[i] as number);
  }
  return v;
}

/**
 * The deviance of logit(p) = α_stratum + β·[arm a], the model without the interaction, fitted by
 * Newton–Raphson on the aggregated counts (for the canonical logit link, the same iterations as
 * IRLS). Written here because no maintained JavaScript package fits a binomial GLM; the design is
 * strata + 1 columns. Where every stratum has a zero in the same arm, β diverges and the deviance
 * converges to its finite limit: the loop stops on the deviance, not on β.
 */
function mainEffectsDeviance(strata: Stratum[]): number {
  const k = strata.length;
  const cells = strata.flatMap((s, i) => [
    { stratum: i, arm: 1, ...s.a },
    { stratum: i, arm: 0, ...s.b },
  ]);
  const beta = new Array<number>(k + 1).fill(0);
  // Start from each stratum's pooled log-odds (finite: the strata are informative).
  strata.forEach((s, i) => {
    const p = (s.a.x + s.b.x) / (s.a.n + s.b.n);
    beta[i] = Math.log(p / (1 - p));
  });
  const fitted = () =>
    cells.map(
      (c) => 1 / (1 + Math.exp(-((beta[c.stratum] as number) + c.arm * (beta[k] as number)))),
    );
  const deviance = (mu: number[]) =>
    cells.reduce((t, c, i) => t + devianceTerm(c.x, c.n, mu[i] as number), 0);
  let mu = fitted();
  let dev = deviance(mu);
  for (let iter = 0; iter < 200; iter++) {
    const info = Array.from({ length: k + 1 }, () => new Array<number>(k + 1).fill(0));
    const score = new Array<number>(k + 1).fill(0);
    cells.forEach((c, i) => {
      const m = mu[i] as number;
      const w = c.n * m * (1 - m);
      const resid = c.x - c.n * m;
      const cols = c.arm ? [c.stratum, k] : [c.stratum];
      for (const p of cols) {
        score[p] = (score[p] as number) + resid;
        for (const q of cols) (info[p] as number[])[q] = ((info[p] as number[])[q] as number) + w;
      }
    });
    const step = solve(info, score);
    const from = [...beta];
    // Step-halving keeps each iteration downhill (the log-likelihood is concave; a full Newton
    // step can still overshoot from a poor start).
    let next = Number.POSITIVE_INFINITY;
    for (let h = 1; h > 1e-10; h /= 2) {
      step.forEach((s, i) => {
        beta[i] = (from[i] as number) + h * s;
      });
      mu = fitted();
      next = deviance(mu);
      if (next <= dev + 1e-12) break;
    }
    const done = Math.abs(dev - next) <= 1e-12 * (Math.abs(next) + 1e-12);
    dev = next;
    if (done) break;
  }
  return dev;
}

/**
 * Per-stratum effects of arm a against arm b, and the test that the effect (on the log-odds
 * scale) is the same in every stratum.
 */
export function interactionTest(strata: Stratum[]): InteractionTest {
  const effects = strata.map(stratumEffect);
  const leftOut: InteractionTest["leftOut"] = [];
  const tested: Stratum[] = [];
  for (const s of strata) {
    const reason = uninformative(s);
    if (reason) leftOut.push({ name: s.name, reason });
    else tested.push(s);
  }
  const base = { effects, tested: tested.map((s) => s.name), leftOut };
  if (tested.length < 2)
    return {
      ...base,
      lr: Number.NaN,
      df: 0,
      p: Number.NaN,
      undefinedReason: "fewer than two families with both outcomes",
      diffOfDiffs: null,
      ratioOfOdds: null,
    };
  const lr = Math.max(0, mainEffectsDeviance(tested));
  const df = tested.length - 1;
  return {
    ...base,
    lr,
    df,
    p: chiSquareSf(lr, df),
    undefinedReason: null,
    ...(tested.length === 2
      ? twoStrata(
          effects.filter((e) => base.tested.includes(e.name)) as [StratumEffect, StratumEffect],
        )
      : { diffOfDiffs: null, ratioOfOdds: null }),
  };
}

/** Difference of the two differences (MOVER) and ratio of the two odds ratios (Wald). */
function twoStrata([e1, e2]: [StratumEffect, StratumEffect]): Pick<
  InteractionTest,
  "diffOfDiffs" | "ratioOfOdds"
> {
  const d = e1.diff - e2.diff;
  const [l1, u1] = e1.diffCi;
  const [l2, u2] = e2.diffCi;
  const ci: [number, number] = [
    d - Math.sqrt((e1.diff - l1) ** 2 + (u2 - e2.diff) ** 2),
    d + Math.sqrt((u1 - e1.diff) ** 2 + (e2.diff - l2) ** 2),
  ];
  const cells = [e1.a, e1.b, e2.a, e2.b].flatMap((c) => [c.x, c.n - c.x]);
  const zero = cells.some((c) => c === 0);
  const logRor = Math.log(e1.oddsRatio) - Math.log(e2.oddsRatio);
  const se = Math.sqrt(cells.reduce((t, c) => t + 1 / c, 0));
  return {
    diffOfDiffs: { diff: d, ci },
    ratioOfOdds: zero
      ? { ratio: Number.NaN, ci: null }
      : {
          ratio: Math.exp(logRor),
          ci: [Math.exp(logRor - Z95 * se), Math.exp(logRor + Z95 * se)],
        },
  };
}
