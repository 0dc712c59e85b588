/**
 * The distribution functions the tests need, accurate to a few units in the last place (checked
 * against mpmath at 40 digits in `test/fixtures/stats-reference.json`). They come from stdlib's
 * ports of Boost's inverse incomplete beta and error functions: jstat's t quantile was off by up
 * to 6e-9 relative, and its `1 − cdf` tails lose every digit below about 1e-16.
 */
import { createRequire } from "node:module";

type Fn = (...xs: number[]) => number;
/**
 * stdlib's functions are loaded on first use, not when the CLI starts: their hundreds of small
 * modules cost every command about 0.1 s, and most commands compute no statistics.
 */
const lazy = (id: string): Fn => {
  let f: Fn | undefined;
  return (...xs) => {
    f ??= createRequire(import.meta.url)(id) as Fn;
    return f(...xs);
  };
};
const erfc = lazy("@stdlib/math-base-special-erfc");
const erfcinv = lazy("@stdlib/math-base-special-erfcinv");
const studentTQuantile = lazy("@stdlib/stats-base-dists-t-quantile");
const betainc = lazy("@stdlib/math-base-special-betainc");
const gammainc = lazy("@stdlib/math-base-special-gammainc") as unknown as (
  x: number,
  s: number,
  regularized: boolean,
  upper: boolean,
) => number;

/** Student's t quantile: the t with P(T ≤ t) = p, for df > 0 degrees of freedom. */
export function tQuantile(p: number, df: number): number {
  return studentTQuantile(p, df);
}

/**
 * Two-sided p of a Student t statistic with df degrees of freedom: P(|T| ≥ |t|), as the regularized
 * incomplete beta I_{df/(df+t²)}(df/2, 1/2), which keeps its digits in the tails (1 − cdf does not).
 */
export function tTwoSidedP(t: number, df: number): number {
  if (Number.isNaN(t) || !(df > 0)) return Number.NaN;
  if (!Number.isFinite(t)) return 0;
  return betainc(df / (df + t * t), df / 2, 0.5);
}

/**
 * Standard normal quantile, as −√2·erfc⁻¹(2p): the same in exact arithmetic as √2·erf⁻¹(2p − 1),
 * but 2p − 1 rounds away the digits of a small p (that form is off by 1e-9 at p = 1e-10).
 */
export function normalQuantile(p: number): number {
  return -Math.SQRT2 * erfcinv(2 * p);
}

/** Two-sided p of a standard normal statistic: P(|Z| ≥ |z|) = erfc(|z|/√2). */
export function normalTwoSidedP(z: number): number {
  return erfc(Math.abs(z) / Math.SQRT2);
}

/** Upper tail of χ² with one degree of freedom: P(X ≥ x) = P(|Z| ≥ √x). */
export function chiSquare1Sf(x: number): number {
  return erfc(Math.sqrt(x / 2));
}

/** P(χ²_df ≥ x): the regularized upper incomplete gamma Q(df/2, x/2). */
export function chiSquareSf(x: number, df: number): number {
  return gammainc(x / 2, df / 2, true, true);
}

/** Standard normal CDF, as erfc(−x/√2)/2: accurate in the lower tail, where 1 − Φ(−x) is not. */
export function normalCdf(x: number): number {
  return erfc(-x / Math.SQRT2) / 2;
}
