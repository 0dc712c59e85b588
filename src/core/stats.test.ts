import { describe, expect, it } from "vitest";
import { mean, stderr, wilson } from "./stats.js";

describe("wilson", () => {
  it("matches scipy's reference values", () => {
    const [lo, hi] = wilson(42, 100);
    expect(lo).toBeCloseTo(0.327984, 6);
    expect(hi).toBeCloseTo(0.517935, 6);
    const [lo0, hi0] = wilson(0, 10);
    expect(lo0).toBe(0);
    expect(hi0).toBeCloseTo(0.277533, 6);
  });
  it("is [0, 1] without data and symmetric in x ↔ n - x", () => {
    expect(wilson(0, 0)).toEqual([0, 1]);
    const [a, b] = wilson(3, 20);
    const [c, d] = wilson(17, 20);
    expect(a).toBeCloseTo(1 - d, 12);
    expect(b).toBeCloseTo(1 - c, 12);
  });
  it("mean and standard error", () => {
    expect(mean([1, 0, 1, 0])).toBe(0.5);
    expect(stderr([1, 0, 1, 0])).toBeCloseTo(Math.sqrt(1 / 3 / 4), 12);
  });
});
