import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../../test/helpers.js";
import {
  benjaminiHochberg,
  clusterBootstrap,
  fisherExact,
  holm,
  mcnemar,
  meanInterval,
  newcombe,
  riskMeasures,
  samplesPerArm,
  twoProportionZ,
  wilson,
} from "./stats.js";

// Computed with scipy and statsmodels by scripts/stats_reference.py.
type Pair = [number, number];
interface Reference {
  wilson: { x: number; n: number; ci: Pair }[];
  newcombe: { x1: number; n1: number; x2: number; n2: number; diff: number; ci: Pair }[];
  fisher: { table: [Pair, Pair]; p: number; oddsRatio: number }[];
  ztest: { x1: number; n1: number; x2: number; n2: number; z: number; p: number }[];
  mcnemar: { b: number; c: number; exactP: number; chi2: number; chi2P: number }[];
  meanInterval: { xs: number[]; mean: number; sem: number; ci: Pair }[];
  holm: { p: number[]; adjusted: number[] };
  bh: { p: number[]; adjusted: number[] };
  riskRatio: { x1: number; n1: number; x2: number; n2: number; ratio: number; ci: Pair }[];
  power: { p1: number; p2: number; perArm: number }[];
}
const ref = JSON.parse(
  readFileSync(join(ROOT, "test/fixtures/stats-reference.json"), "utf8"),
) as Reference;
const close = (a: number, b: number, digits = 9) => expect(a).toBeCloseTo(b, digits);

describe("statistics against scipy/statsmodels", () => {
  it.each(ref.wilson)("Wilson $x/$n", ({ x, n, ci }) => {
    const [lo, hi] = wilson(x, n);
    close(lo, ci[0]);
    close(hi, ci[1]);
  });

  it.each(ref.newcombe)("Newcombe $x1/$n1 − $x2/$n2", ({ x1, n1, x2, n2, diff, ci }) => {
    const r = newcombe(x1, n1, x2, n2);
    close(r.diff, diff);
    close(r.ci[0], ci[0], 8);
    close(r.ci[1], ci[1], 8);
  });

  it.each(ref.fisher)("Fisher exact $table", ({ table, p, oddsRatio }) => {
    const r = fisherExact(table[0][0], table[0][1], table[1][0], table[1][1]);
    close(r.p, p, 10);
    close(r.oddsRatio, oddsRatio);
  });

  it.each(ref.ztest)("two-proportion z $x1/$n1 vs $x2/$n2", ({ x1, n1, x2, n2, z, p }) => {
    const r = twoProportionZ(x1, n1, x2, n2);
    close(r.z, z);
    close(r.p, p);
  });

  it.each(ref.mcnemar)("McNemar b=$b c=$c", ({ b, c, exactP, chi2, chi2P }) => {
    const r = mcnemar(b, c);
    close(r.exactP, exactP, 10);
    close(r.chi2, chi2);
    close(r.chi2P, chi2P, 8);
  });

  it.each(ref.meanInterval)("mean ± t interval $xs", ({ xs, mean, sem, ci }) => {
    const r = meanInterval(xs);
    close(r.mean, mean);
    close(r.sem, sem);
    close(r.ci[0], ci[0], 6);
    close(r.ci[1], ci[1], 6);
  });

  it("Holm and Benjamini–Hochberg", () => {
    for (const [i, p] of holm(ref.holm.p).entries()) close(p, ref.holm.adjusted[i] as number);
    for (const [i, p] of benjaminiHochberg(ref.bh.p).entries())
      close(p, ref.bh.adjusted[i] as number);
  });

  it.each(ref.riskRatio)("risk ratio $x1/$n1 vs $x2/$n2", ({ x1, n1, x2, n2, ratio, ci }) => {
    const r = riskMeasures(x1, n1, x2, n2);
    close(r.ratio, ratio);
    close(r.ratioCi[0], ci[0], 6);
    close(r.ratioCi[1], ci[1], 6);
  });

  it.each(ref.power)("samples per arm for $p1 vs $p2", ({ p1, p2, perArm }) => {
    expect(samplesPerArm(p1, p2).perArm).toBe(perArm);
  });

  it("the reference values from the ecosystem notes", () => {
    expect(fisherExact(8, 2, 1, 5).p).toBeCloseTo(0.034965, 6);
    expect(mcnemar(10, 3).exactP).toBeCloseTo(0.092285, 6);
    expect(mcnemar(10, 3).chi2P).toBeCloseTo(0.096092, 6);
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
