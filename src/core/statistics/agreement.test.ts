import { describe, expect, it } from "vitest";
import { expectRel, nanIfNull, ref } from "../../../test/stats-reference.js";
import { cohenKappa, cohenKappaInterval, fleissKappa } from "./agreement.js";

// sklearn's / statsmodels' formulas, transcribed by scripts/stats_reference.py.
describe("kappa over any number of categories", () => {
  it.each(ref.cohenKappa)("Cohen's kappa, labels $labels", ({ a, b, labels, matrix, ...k }) => {
    const r = cohenKappa(a, b, labels);
    expect(r.labels).toEqual(labels);
    expect(r.matrix).toEqual(matrix); // rows: rater A
    expectRel(r.observed, k.observed);
    expectRel(r.chance, k.chance);
    if (k.kappa === null) expect(r.kappa).toBeNull();
    else expectRel(r.kappa as number, k.kappa);
  });

  it("Cohen's labels default to the order they first appear in, rater A first", () => {
    const r = cohenKappa(["b", "a", "c"], ["c", "a", "d"]);
    expect(r.labels).toEqual(["b", "a", "c", "d"]);
    expect(r.matrix[0]).toEqual([0, 0, 1, 0]);
    expect(() => cohenKappa(["a"], ["z"], ["a", "b"])).toThrow(/label z is not in the labels/);
  });

  it.each(
    ref.fleissKappa.map((r) => ({ ...r, size: `${r.ratings.length}×${r.ratings[0]?.length}` })),
  )("Fleiss' kappa, $size ratings", ({ ratings, ...k }) => {
    const r = fleissKappa(ratings);
    expectRel(r.observed, k.observed);
    expectRel(r.chance, k.chance);
    expectRel(r.kappa ?? Number.NaN, nanIfNull(k.kappa));
  });

  it("Fleiss' published example: 10 subjects, 14 raters, 5 categories, κ = 0.210", () => {
    const first = ref.fleissKappa[0]?.ratings as number[][];
    expect(first.map((r) => r.length)).toEqual(Array(10).fill(14));
    expect(fleissKappa(first).kappa?.toFixed(3)).toBe("0.210");
  });
});

describe("the interval of Cohen's kappa", () => {
  it.each(ref.cohenKappaInterval)(
    "matches statsmodels' large-sample variance, matrix $matrix",
    ({ a, b, labels, matrix, kappa, se, ci }) => {
      const k = cohenKappa(a, b, labels);
      expect(k.matrix).toEqual(matrix);
      expectRel(k.kappa as number, kappa, 1e-12, "kappa");
      const r = cohenKappaInterval(k);
      expectRel(r?.se as number, se, 1e-9, "se");
      expectRel(r?.ci[0] as number, ci[0], 1e-9, "lower");
      expectRel(r?.ci[1] as number, ci[1], 1e-9, "upper");
    },
  );

  it("SAS's printed example: kappa 0.4842, ASE 0.1380, 95% CI 0.2137 to 0.7547", () => {
    const [a, b] = [[] as number[], [] as number[]];
    for (const [i, row] of [
      [0, 4, 1],
      [0, 8, 0],
      [0, 1, 5],
    ].entries())
      for (const [j, count] of row.entries())
        for (let c = 0; c < count; c++) {
          a.push(i);
          b.push(j);
        }
    const k = cohenKappa(a, b, [0, 1, 2]);
    const r = cohenKappaInterval(k);
    expect([k.kappa, r?.se, ...(r?.ci ?? [])].map((x) => (x as number).toFixed(4))).toEqual([
      "0.4842",
      "0.1380",
      "0.2137",
      "0.7547",
    ]);
  });

  it("is null where kappa is undefined, and has no width under perfect agreement", () => {
    expect(cohenKappaInterval(cohenKappa(["s", "s"], ["s", "s"]))).toBeNull();
    expect(cohenKappaInterval(cohenKappa([], []))).toBeNull();
    expect(cohenKappaInterval(cohenKappa([true, false, true], [true, false, true]))).toEqual({
      se: 0,
      ci: [1, 1],
    });
  });
});
