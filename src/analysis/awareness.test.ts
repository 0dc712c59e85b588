import { describe, expect, it } from "vitest";
import { newcombe } from "../core/statistics/comparisons.js";
import { wilson } from "../core/stats.js";
import type { RateCell } from "../evals/am/metrics.js";
import { awarenessAnalysis, awarenessHomogeneity, awarenessSplit } from "./awareness.js";

const cell = (key: string, n: number, misaligned: number): RateCell => ({
  key,
  n,
  misaligned,
  rate: misaligned / n,
  ci: wilson(misaligned, n),
  errors: 0,
  truncated: 0,
  refused: 0,
});

/** An arm whose aware samples are a+b (a misaligned), split over the two unaware labels. */
const arm = (a: number, b: number, c: number, d: number) => [
  cell("thinks_eval", a + b, a),
  cell("thinks_real", Math.ceil((c + d) / 2), Math.ceil(c / 2)),
  cell("no_deliberation", Math.floor((c + d) / 2), Math.floor(c / 2)),
];

describe("awarenessSplit", () => {
  it("pools the unaware labels and compares aware with unaware", () => {
    const s = awarenessSplit("x", "m", arm(12, 18, 20, 50));
    expect(s.aware).toMatchObject({ n: 30, misaligned: 12, rate: 0.4 });
    expect(s.unaware).toMatchObject({ n: 70, misaligned: 20 });
    expect(s.aware.ci).toEqual(wilson(12, 30));
    expect(s.diff).toBeCloseTo(0.4 - 20 / 70, 12);
    expect(s.diffCi).toEqual(newcombe(12, 30, 20, 70).ci);
    // scipy.stats.fisher_exact([[12, 18], [20, 50]]): odds ratio 1.6667, p 0.34959030754.
    expect(s.oddsRatio).toBeCloseTo(5 / 3, 12);
    expect(s.pFisher).toBeCloseTo(0.3495903075403437, 10);
  });

  it("an arm without aware samples has no difference, and says why", () => {
    const s = awarenessSplit("x", "m", [cell("thinks_real", 10, 3)]);
    expect(s.diff).toBeNaN();
    expect(s.pFisher).toBeNaN();
    expect(s.pUndefinedReason).toBe("no aware samples");
  });
});

describe("awarenessHomogeneity (Breslow–Day, Tarone)", () => {
  /*
   * References from an independent computation (scipy 1.17): the expected cell found by brentq
   * on A(n0 − m1 + A) = ψ(n1 − A)(m1 − A) rather than the quadratic formula, the Tarone term
   * subtracted, and scipy.stats.chi2.sf for p.
   */
  const splits = (tables: [number, number, number, number][]) =>
    tables.map((t, i) => awarenessSplit(`arm${i}`, "m", arm(...t)));

  it("finds odds ratios that differ across arms", () => {
    const h = awarenessHomogeneity(
      "m",
      splits([
        [12, 18, 20, 50],
        [5, 25, 30, 40],
        [20, 10, 15, 55],
      ]),
    );
    expect(h.commonOddsRatio).toBeCloseTo(1.507936507936508, 12);
    expect(h.df).toBe(2);
    expect(h.chi2).toBeCloseTo(22.829345778745804, 9);
    expect(h.p).toBeCloseTo(1.1032414017771898e-5, 12);
    expect(h.undefinedReason).toBeNull();
  });

  it("and none where they agree", () => {
    const h = awarenessHomogeneity(
      "m",
      splits([
        [4, 16, 6, 24],
        [9, 11, 12, 18],
      ]),
    );
    expect(h.commonOddsRatio).toBeCloseTo(1.131578947368421, 12);
    expect(h.chi2).toBeCloseTo(0.04869268120216441, 10);
    expect(h.p).toBeCloseTo(0.8253539226242723, 10);
  });

  it("leaves out arms without information and is undefined with fewer than two", () => {
    const h = awarenessHomogeneity(
      "m",
      splits([
        [12, 18, 20, 50],
        [0, 10, 0, 30],
      ]),
    );
    expect(h.arms).toEqual(["arm0"]);
    expect(h.p).toBeNaN();
    expect(h.undefinedReason).toMatch(/fewer than two arms/);
  });
});

describe("awarenessAnalysis", () => {
  it("splits each measured arm and tests per model", () => {
    const a = awarenessAnalysis([
      { arm: "spec", model: "m1", byAwareness: arm(12, 18, 20, 50) },
      { arm: "base", model: "m1", byAwareness: arm(5, 25, 30, 40) },
      { arm: "spec", model: "m2", byAwareness: arm(4, 16, 6, 24) },
      { arm: "none", model: "m2", byAwareness: [] },
    ]);
    expect(a.splits.map((s) => `${s.arm}/${s.model}`)).toEqual(["spec/m1", "base/m1", "spec/m2"]);
    expect(a.homogeneity.map((h) => [h.model, h.arms.length])).toEqual([
      ["m1", 2],
      ["m2", 1],
    ]);
  });
});
