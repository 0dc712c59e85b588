import { describe, expect, it } from "vitest";
import { expectRel, nanIfNull, ref } from "../../../test/stats-reference.js";
import {
  benjaminiHochberg,
  clusterBootstrap,
  fisherExact,
  holm,
  mcnemar,
  meanInterval,
  NO_DISCORDANT_PAIRS,
  newcombe,
  riskMeasures,
  samplesPerArm,
  twoProportionZ,
  wilson,
} from "./comparisons.js";

// Computed with scipy, mpmath and statsmodels by scripts/stats_reference.py.
describe("statistics against scipy/statsmodels", () => {
  it.each(ref.wilson)("Wilson $x/$n", ({ x, n, ci }) => {
    const [lo, hi] = wilson(x, n);
    expectRel(lo, ci[0]);
    expectRel(hi, ci[1]);
  });

  it.each(ref.newcombe)("Newcombe $x1/$n1 − $x2/$n2", ({ x1, n1, x2, n2, diff, ci }) => {
    const r = newcombe(x1, n1, x2, n2);
    expectRel(r.diff, diff);
    expectRel(r.ci[0], ci[0]);
    expectRel(r.ci[1], ci[1]);
  });

  it.each(ref.fisher)("Fisher exact $table", ({ table, p, oddsRatio }) => {
    const r = fisherExact(table[0][0], table[0][1], table[1][0], table[1][1]);
    expectRel(r.p, p);
    expectRel(r.oddsRatio, oddsRatio);
    expect(r.undefinedReason).toBeNull();
  });

  it.each(ref.ztest)("two-proportion z $x1/$n1 vs $x2/$n2", ({ x1, n1, x2, n2, z, p }) => {
    const r = twoProportionZ(x1, n1, x2, n2);
    expectRel(r.z, z);
    expectRel(r.p, p);
    expect(r.undefinedReason).toBeNull();
  });

  it.each(ref.mcnemar)("McNemar b=$b c=$c", ({ b, c, exactP, chi2, chi2P }) => {
    const r = mcnemar(b, c);
    expectRel(r.exactP, exactP);
    expectRel(r.chi2, chi2);
    expectRel(r.chi2P, chi2P);
  });

  // df 1 to 1000: jstat's t quantile was off by up to 6e-9 relative at df 4, 6 and 7.
  it.each(ref.meanInterval.map((r) => ({ ...r, df: r.xs.length - 1 })))(
    "mean ± t interval, df $df",
    ({ xs, mean, sem, ci }) => {
      const r = meanInterval(xs);
      expectRel(r.mean, mean);
      expectRel(r.sem, sem);
      expectRel(r.ci[0], ci[0]);
      expectRel(r.ci[1], ci[1]);
      expect(r.clipped).toBe(false);
    },
  );

  it("Holm and Benjamini–Hochberg", () => {
    for (const [i, p] of holm(ref.holm.p).entries()) expectRel(p, ref.holm.adjusted[i] as number);
    for (const [i, p] of benjaminiHochberg(ref.bh.p).entries())
      expectRel(p, ref.bh.adjusted[i] as number);
  });

  it.each(ref.riskRatio)("risk ratio $x1/$n1 vs $x2/$n2", ({ x1, n1, x2, n2, ratio, ci }) => {
    const r = riskMeasures(x1, n1, x2, n2);
    expectRel(r.ratio, ratio);
    // statsmodels takes z from its own normal quantile; ours is the rounded constant.
    expectRel(r.ratioCi[0], ci[0], 1e-11);
    expectRel(r.ratioCi[1], ci[1], 1e-11);
  });

  it.each(ref.power)(
    "samples per arm for $p1 vs $p2 (statsmodels)",
    ({ p1, p2, perArm, exact }) => {
      const r = samplesPerArm(p1, p2);
      expect(r.perArm).toBe(perArm);
      // statsmodels' root finder stops at about 1e-11 relative.
      expectRel(r.exact, exact, 1e-9);
    },
  );

  it.each(ref.powerScipy)(
    "NormalIndPower solved for n: $p1 vs $p2, alpha $alpha, power $power",
    ({ p1, p2, alpha, power, perArm, exact }) => {
      const r = samplesPerArm(p1, p2, { alpha, power });
      expectRel(r.exact, exact, 1e-12);
      expect(r.perArm).toBe(perArm);
    },
  );

  it("the reference values from the ecosystem notes", () => {
    expect(fisherExact(8, 2, 1, 5).p).toBeCloseTo(0.034965, 6);
    expect(mcnemar(10, 3).exactP).toBeCloseTo(0.092285, 6);
    expect(mcnemar(10, 3).chi2P).toBeCloseTo(0.096092, 6);
  });
});

describe("undefined statistics are NaN with a reason, never p = 1", () => {
  it.each(ref.ztestUndefined)("two-proportion z $x1/$n1 vs $x2/$n2", ({ x1, n1, x2, n2 }) => {
    const r = twoProportionZ(x1, n1, x2, n2);
    expect(r.z).toBeNaN();
    expect(r.p).toBeNaN();
    expect(r.undefinedReason).toMatch(/both arms are (0|100)%|an arm has no samples/);
  });

  it("McNemar without discordant pairs", () => {
    for (const { b, c } of ref.mcnemarUndefined) {
      const r = mcnemar(b, c);
      expect([r.exactP, r.chi2, r.chi2P]).toEqual([Number.NaN, Number.NaN, Number.NaN]);
      expect(r.undefinedReason).toBe(NO_DISCORDANT_PAIRS);
    }
  });

  it.each(ref.fisherDegenerate)("Fisher exact $table (scipy: p = $scipyP)", ({ table, p }) => {
    const r = fisherExact(table[0][0], table[0][1], table[1][0], table[1][1]);
    if (p === null) {
      expect(r.p).toBeNaN();
      expect(r.undefinedReason).toBe("an arm has no samples");
    } else {
      expect(r.p).toBe(p);
      expect(r.undefinedReason).toBeNull();
    }
  });

  it("a risk ratio of 0 vs 0 is undefined, x vs 0 infinite", () => {
    expect(riskMeasures(0, 10, 0, 10).ratio).toBeNaN();
    expect(riskMeasures(3, 10, 0, 10).ratio).toBe(Number.POSITIVE_INFINITY);
  });

  it("Holm and BH leave undefined p-values out of the family and keep them undefined", () => {
    for (const { p, adjusted } of ref.holmNaN)
      holm(p.map(nanIfNull)).forEach((x, i) => {
        expectRel(x, nanIfNull(adjusted[i] as number | null), 1e-15, `holm ${p}[${i}]`);
      });
    for (const { p, adjusted } of ref.bhNaN)
      benjaminiHochberg(p.map(nanIfNull)).forEach((x, i) => {
        expectRel(x, nanIfNull(adjusted[i] as number | null), 1e-15, `BH ${p}[${i}]`);
      });
  });
});

describe("t interval of rates", () => {
  // Three seeds' rates whose t interval reaches below 0.
  const rates = [0.0, 0.1, 0.55];

  it("is clipped to the bounds given, and says so", () => {
    const raw = meanInterval(rates);
    expect(raw.ci[0]).toBeLessThan(0);
    expect(raw.clipped).toBe(false);
    const bounded = meanInterval(rates, { bounds: [0, 1] });
    expect(bounded.clipped).toBe(true);
    expect(bounded.ci).toEqual([0, raw.ci[1]]);
    expect(bounded.mean).toBe(raw.mean);
  });

  it("is left alone inside the bounds", () => {
    const r = meanInterval([0.3, 0.35, 0.4], { bounds: [0, 1] });
    expect(r.clipped).toBe(false);
    expect(r.ci).toEqual(meanInterval([0.3, 0.35, 0.4]).ci);
  });
});

describe("sample sizes", () => {
  it("take a rate of 0 or 1, and refuse equal rates or impossible levels", () => {
    expect(samplesPerArm(0.1, 0).perArm).toBe(38);
    expect(() => samplesPerArm(0.2, 0.2)).toThrow(/rates must differ/);
    expect(() => samplesPerArm(1.2, 0.2)).toThrow(/\[0, 1\]/);
    expect(() => samplesPerArm(0.2, 0.1, { alpha: 0.5, power: 0.4 })).toThrow(/alpha < power/);
  });

  it("need no more than the closed form, which leaves out the far tail", () => {
    const r = samplesPerArm(0.54, 0.14);
    const closed = 2 * ((1.959963984540054 + 0.8416212335729143) / r.cohensH) ** 2;
    expect(r.exact).toBeLessThan(closed);
  });
});

describe("cluster bootstrap", () => {
  // 20 scenarios (clusters) of 30 binary samples each, rates spread between scenarios.
  const clusters = Array.from({ length: 20 }, (_, i) =>
    Array.from({ length: 30 }, (_, j) => (j < 3 + i ? 1 : 0)),
  );
  const rate = (cs: number[][]) => {
    const all = cs.flat();
    return all.reduce((a, b) => a + b, 0) / all.length;
  };

  it("is reproducible with a seed and brackets the estimate", () => {
    const a = clusterBootstrap(clusters, rate, { seed: 7, resamples: 1000 });
    const b = clusterBootstrap(clusters, rate, { seed: 7, resamples: 1000 });
    expect(a).toEqual(b);
    expect(a.ci[0]).toBeLessThan(a.estimate);
    expect(a.ci[1]).toBeGreaterThan(a.estimate);
  });

  it("is wider than the naive interval that treats every sample as independent", () => {
    const boot = clusterBootstrap(clusters, rate, { seed: 3, resamples: 2000 });
    const x = clusters.flat().filter(Boolean).length;
    const [lo, hi] = wilson(x, clusters.flat().length);
    expect(boot.ci[1] - boot.ci[0]).toBeGreaterThan(hi - lo);
    // And close to the normal-theory interval for the mean of cluster means.
    const means = clusters.map((c) => rate([c]));
    const m = meanInterval(means);
    expect(boot.ci[0]).toBeCloseTo(m.ci[0], 1);
    expect(boot.ci[1]).toBeCloseTo(m.ci[1], 1);
  });
});
