import { describe, it } from "vitest";
import { expectRel, ref } from "../../../test/stats-reference.js";
import {
  chiSquare1Sf,
  normalCdf,
  normalQuantile,
  normalTwoSidedP,
  tQuantile,
} from "./distributions.js";

// The truth here is mpmath at 40 digits (scipy's own t quantile is off by up to 4e-15).
describe("distribution functions against mpmath", () => {
  it("Student's t quantile, df 1–30 and large df, one- and two-sided levels", () => {
    for (const { df, p, q } of ref.tQuantile)
      expectRel(tQuantile(p, df), q, 1e-13, `t(${p}, ${df})`);
  });

  it("normal quantile, both tails", () => {
    for (const { p, q } of ref.normalQuantile) expectRel(normalQuantile(p), q, 1e-14, `z(${p})`);
  });

  it("two-sided normal p and the normal CDF, far into the tail", () => {
    for (const { z, p } of ref.normalTwoSidedP) {
      expectRel(normalTwoSidedP(z), p, 1e-13, `P(|Z| ≥ ${z})`);
      expectRel(normalTwoSidedP(-z), p, 1e-13, `P(|Z| ≥ −${z})`);
      expectRel(2 * normalCdf(-z), p, 1e-13, `2Φ(−${z})`);
    }
  });

  it("χ² upper tail with one degree of freedom", () => {
    for (const { x, p } of ref.chiSquare1Sf) expectRel(chiSquare1Sf(x), p, 1e-13, `P(χ² ≥ ${x})`);
  });
});
