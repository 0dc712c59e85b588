import { describe, expect, it } from "vitest";
import { expectRel, nanIfNull, ref } from "../../test/stats-reference.js";
import { cohenKappa, fleissKappa } from "./agreement.js";

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
