/**
 * The reference values of `test/fixtures/stats-reference.json` (made by
 * `scripts/stats_reference.py`: scipy, mpmath, statsmodels; `sources` says which made each part),
 * typed, and a relative-error check. Undefined statistics are null in JSON.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import { ROOT } from "./helpers.js";

type Pair = [number, number];
type Maybe = number | null;
interface TwoArms {
  x1: number;
  n1: number;
  x2: number;
  n2: number;
}
type Label = string | number | boolean;

export interface StatsReference {
  sources: Record<string, string>;
  wilson: { x: number; n: number; ci: Pair }[];
  newcombe: (TwoArms & { diff: number; ci: Pair })[];
  fisher: { table: [Pair, Pair]; p: number; oddsRatio: number }[];
  fisherDegenerate: { table: [Pair, Pair]; scipyP: number; p: number | null }[];
  ztest: (TwoArms & { z: number; p: number })[];
  ztestUndefined: (TwoArms & { z: null; p: null })[];
  mcnemar: { b: number; c: number; exactP: number; chi2: number; chi2P: number }[];
  mcnemarUndefined: { b: number; c: number }[];
  meanInterval: { xs: number[]; mean: number; sem: number; ci: Pair }[];
  holm: { p: number[]; adjusted: number[] };
  bh: { p: number[]; adjusted: number[] };
  holmNaN: { p: Maybe[]; adjusted: Maybe[] }[];
  bhNaN: { p: Maybe[]; adjusted: Maybe[] }[];
  riskRatio: (TwoArms & { ratio: number; ci: Pair })[];
  power: { p1: number; p2: number; perArm: number; exact: number }[];
  powerScipy: {
    p1: number;
    p2: number;
    alpha: number;
    power: number;
    perArm: number;
    exact: number;
  }[];
  tQuantile: { df: number; p: number; q: number }[];
  normalQuantile: { p: number; q: number }[];
  normalTwoSidedP: { z: number; p: number }[];
  chiSquare1Sf: { x: number; p: number }[];
  cohenKappa: {
    a: Label[];
    b: Label[];
    labels: Label[];
    matrix: number[][];
    observed: number;
    chance: number;
    kappa: Maybe;
  }[];
  fleissKappa: { ratings: Label[][]; observed: number; chance: number; kappa: Maybe }[];
  cohenKappaInterval: {
    a: Label[];
    b: Label[];
    labels: Label[];
    matrix: number[][];
    kappa: number;
    se: number;
    ci: Pair;
  }[];
}

export const ref = JSON.parse(
  readFileSync(join(ROOT, "test/fixtures/stats-reference.json"), "utf8"),
) as StatsReference;

/** A null reference (undefined statistic) as NaN. */
export const nanIfNull = (x: Maybe): number => (x === null ? Number.NaN : x);

/** |actual − expected| ≤ rel·|expected| (absolute near 0); NaN only where NaN is expected. */
export function expectRel(actual: number, expected: number, rel = 1e-12, what = ""): void {
  if (Number.isNaN(expected)) {
    expect(actual, what).toBeNaN();
    return;
  }
  const scale = Math.max(Math.abs(expected), Number.MIN_VALUE);
  expect(
    Math.abs(actual - expected) / scale,
    `${what}: ${actual} vs ${expected}`,
  ).toBeLessThanOrEqual(rel);
}
