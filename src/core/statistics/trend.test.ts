import { describe, expect, it } from "vitest";
import { cochranArmitage, logisticRegression, waldTest } from "./trend.js";

/**
 * Reference values from test/scripts/trend_reference.py (output pasted): statsmodels'
 * linear-by-linear test rescaled by sqrt(N / (N − 1)), which agrees with the score test of the
 * slope in a binomial GLM to 1e-11.
 */
const CASES = [
  {
    x: [0, 100, 300, 1000],
    events: [12, 15, 19, 27],
    n: [60, 60, 60, 60],
    z: 3.1079007469650435,
    p: 0.0018842133569666561,
  },
  {
    x: [0, 5, 10, 25, 50],
    events: [3, 4, 9, 11, 20],
    n: [40, 38, 40, 35, 40],
    z: 4.96033607886228,
    p: 7.037132283644631e-7,
  },
  {
    x: [0, 10, 30],
    events: [20, 14, 6],
    n: [50, 50, 50],
    z: -3.1581681358068914,
    p: 0.0015876396047746555,
  },
];

const groups = (c: (typeof CASES)[number]) =>
  c.x.map((x, i) => ({ x, events: c.events[i] as number, n: c.n[i] as number }));

describe("cochranArmitage", () => {
  it("matches statsmodels on three series (rising by steps, rising by percent, falling)", () => {
    for (const c of CASES) {
      const t = cochranArmitage(groups(c));
      expect(t.z).toBeCloseTo(c.z, 10);
      expect(t.p / c.p).toBeCloseTo(1, 8);
      expect(t.undefinedReason).toBeNull();
    }
  });

  it("its slope is the size-weighted least-squares line through the rates", () => {
    // Rates 0.2, 0.3, 0.4 at x = 0, 1, 2 with equal n: 0.1 per unit.
    const t = cochranArmitage([
      { x: 0, events: 10, n: 50 },
      { x: 1, events: 15, n: 50 },
      { x: 2, events: 20, n: 50 },
    ]);
    expect(t.slope).toBeCloseTo(0.1, 12);
    expect(t.z).toBeGreaterThan(0);
  });

  it("is undefined with one outcome throughout or fewer than two scored groups", () => {
    expect(
      cochranArmitage([
        { x: 0, events: 0, n: 10 },
        { x: 1, events: 0, n: 10 },
      ]).undefinedReason,
    ).toBe("every group is 0%");
    const one = cochranArmitage([
      { x: 0, events: 3, n: 10 },
      { x: 5, events: 2, n: 0 },
    ]);
    expect(one.undefinedReason).toBe("fewer than two groups with samples");
    expect(one.p).toBeNaN();
  });
});

/** Two series as grouped rows of logit(p) = b0 + b1·msm + b2·x + b3·msm·x. */
const twoSeries = (x: number[], msm: [number, number][], aft: [number, number][]) => [
  ...x.map((xi, i) => ({
    covariates: [1, 1, xi, xi],
    events: (msm[i] as [number, number])[0],
    n: (msm[i] as [number, number])[1],
  })),
  ...x.map((xi, i) => ({
    covariates: [1, 0, xi, 0],
    events: (aft[i] as [number, number])[0],
    n: (aft[i] as [number, number])[1],
  })),
];

describe("logisticRegression", () => {
  it("matches statsmodels' binomial GLM: the interaction coefficient, its SE, Wald z and p", () => {
    // "interaction steps" and "interaction percent" in test/scripts/trend_reference.py.
    const steps = waldTest(
      logisticRegression(
        twoSeries(
          [0, 100, 300, 1000],
          [12, 15, 19, 27].map((e) => [e, 60]),
          [20, 22, 25, 30].map((e) => [e, 60]),
        ),
      ),
      3,
    );
    expect(steps.coefficient).toBeCloseTo(0.00042537879382358447, 12);
    expect(steps.se).toBeCloseTo(0.00048460058311906564, 12);
    expect(steps.z).toBeCloseTo(0.8777925752496867, 8);
    expect(steps.p).toBeCloseTo(0.3800562944678516, 8);
    const percent = waldTest(
      logisticRegression(
        twoSeries(
          [0, 5, 10, 25, 50],
          [
            [3, 40],
            [4, 38],
            [9, 40],
            [11, 35],
            [20, 40],
          ],
          [0, 5, 10, 25, 50].map(() => [5, 40]),
        ),
      ),
      3,
    );
    expect(percent.coefficient).toBeCloseTo(0.04323914611925065, 10);
    expect(percent.se).toBeCloseTo(0.0150070024018835, 10);
    expect(percent.z).toBeCloseTo(2.8812646897306946, 8);
    expect(percent.p).toBeCloseTo(0.0039608286258009115, 8);
  });

  it("has no fit where a series is at 0% throughout (separation)", () => {
    const fit = logisticRegression(
      twoSeries(
        [0, 1],
        [
          [0, 20],
          [0, 20],
        ],
        [
          [5, 20],
          [9, 20],
        ],
      ),
    );
    expect(fit.undefinedReason).toMatch(/does not converge/);
    expect(waldTest(fit, 3).p).toBeNaN();
  });
});
