/**
 * The cross-stratum interaction test against statsmodels 0.15 / scipy 1.17: the values below are
 * the output of test/scripts/family_interaction_reference.py (GLM Binomial fits of
 * misaligned ~ arm * family and ~ arm + family, their deviance difference and χ² p; Newcombe
 * intervals from confint_proportions_2indep(method="newcomb"); Woolf intervals from Table2x2;
 * the interaction coefficient's Wald interval), pasted here.
 */
import { describe, expect, it } from "vitest";
import { interactionTest, type Stratum } from "./interaction.js";

const strata = (rows: [string, [number, number], [number, number]][]): Stratum[] =>
  rows.map(([name, [xa, na], [xb, nb]]) => ({ name, a: { x: xa, n: na }, b: { x: xb, n: nb } }));

const close = (got: number, want: number, rel = 1e-9) =>
  expect(Math.abs(got - want)).toBeLessThanOrEqual(rel * Math.max(1, Math.abs(want)));
const closePair = (got: [number, number] | null | undefined, want: [number, number]) => {
  expect(got).not.toBeNull();
  close((got as [number, number])[0], want[0]);
  close((got as [number, number])[1], want[1]);
};

describe("interactionTest against statsmodels", () => {
  it("two families: LR test, per-family effects, difference of differences, ratio of odds ratios", () => {
    const t = interactionTest(
      strata([
        ["A", [30, 200], [60, 200]],
        ["B", [45, 180], [50, 190]],
      ]),
    );
    close(t.lr, 5.650351613808516);
    expect(t.df).toBe(1);
    close(t.p, 0.01745187251062275);
    const [a, b] = t.effects;
    close(a?.diff as number, -0.15);
    closePair(a?.diffCi, [-0.22936197734249825, -0.06843335872419141]);
    close(a?.oddsRatio as number, 0.4117647058823529);
    closePair(a?.oddsRatioCi, [0.2517424671614414, 0.6735064406183344]);
    close(b?.diff as number, -0.01315789473684209);
    closePair(b?.diffCi, [-0.10139975627582684, 0.07590348868572665]);
    close(b?.oddsRatio as number, 0.9333333333333333);
    closePair(b?.oddsRatioCi, [0.5850879778381767, 1.4888549143151977]);
    close(t.diffOfDiffs?.diff as number, -0.1368421052631579);
    closePair(t.diffOfDiffs?.ci, [-0.2561327313192442, -0.01667662312755544]);
    // statsmodels' coefficient is log(OR_B / OR_A) = 0.8183103235139507, CI [0.1399…, 1.4966…].
    close(t.ratioOfOdds?.ratio as number, Math.exp(-0.8183103235139507));
    closePair(t.ratioOfOdds?.ci, [Math.exp(-1.4966892141704342), Math.exp(-0.13993143285746723)]);
  });

  it("a zero cell: the LR test stays defined (statsmodels' diverging fit agrees), its odds ratios do not", () => {
    const t = interactionTest(
      strata([
        ["A", [0, 150], [20, 150]],
        ["B", [12, 160], [25, 170]],
      ]),
    );
    // statsmodels: full deviance -3.2e-14 (its coefficients diverge), reduced 12.580370877660503.
    close(t.lr, 12.580370877660535);
    close(t.p, 0.000389819366457893, 1e-8);
    const [a, b] = t.effects;
    closePair(a?.diffCi, [-0.19698017449774202, -0.08157615870416891]);
    expect(a?.oddsRatio).toBeNaN();
    expect(a?.oddsRatioCi).toBeNull();
    expect(a?.undefinedReason).toBe("a zero cell");
    close(b?.oddsRatio as number, 0.4702702702702703);
    closePair(b?.oddsRatioCi, [0.22766868930400397, 0.9713857789411176]);
    closePair(t.diffOfDiffs?.ci, [-0.15490810821600126, 0.024746423650444188]);
    // statsmodels' Wald interval is ±1e7 here: no interval is the honest answer.
    expect(t.ratioOfOdds?.ci).toBeNull();
  });

  it("separation (arm a never misaligned): the common effect diverges, the deviance converges to 0", () => {
    const t = interactionTest(
      strata([
        ["A", [0, 100], [10, 100]],
        ["B", [0, 80], [5, 90]],
      ]),
    );
    // statsmodels: reduced deviance -1.1e-14, lr 3.3e-15, p 0.99999995.
    expect(t.lr).toBeLessThan(1e-8);
    expect(t.p).toBeGreaterThan(0.9999);
  });

  it("three families: df 2, no two-family contrasts", () => {
    const t = interactionTest(
      strata([
        ["A", [10, 100], [30, 100]],
        ["B", [20, 120], [22, 110]],
        ["C", [5, 90], [18, 95]],
      ]),
    );
    close(t.lr, 6.049795181096308);
    expect(t.df).toBe(2);
    close(t.p, 0.04856279430450758);
    closePair(t.effects[2]?.oddsRatioCi, [0.08914740439320085, 0.7102805046129068]);
    expect(t.diffOfDiffs).toBeNull();
  });

  it("leaves out a family with one outcome throughout, and its df with it", () => {
    const t = interactionTest(
      strata([
        ["A", [30, 200], [60, 200]],
        ["Z", [0, 50], [0, 60]],
        ["B", [45, 180], [50, 190]],
      ]),
    );
    expect(t.leftOut).toEqual([{ name: "Z", reason: "no misaligned sample in either arm" }]);
    expect(t.tested).toEqual(["A", "B"]);
    // The reference fits A and B alone.
    close(t.lr, 5.650351613808516);
    expect(t.df).toBe(1);
    close(t.diffOfDiffs?.diff as number, -0.1368421052631579);
    expect(t.effects.map((e) => e.name)).toEqual(["A", "Z", "B"]);
  });

  it("is undefined with fewer than two informative families", () => {
    const t = interactionTest(
      strata([
        ["A", [30, 200], [60, 200]],
        ["B", [0, 0], [3, 10]],
      ]),
    );
    expect(t.p).toBeNaN();
    expect(t.undefinedReason).toBe("fewer than two families with both outcomes");
    expect(t.leftOut).toEqual([{ name: "B", reason: "an arm has no samples" }]);
  });
});
