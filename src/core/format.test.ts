import { describe, expect, it } from "vitest";
import { formatCount } from "./format.js";

describe("formatCount", () => {
  it("shortens counts with one decimal in the largest unit that fits", () => {
    expect(formatCount(0)).toBe("0");
    expect(formatCount(999)).toBe("999");
    expect(formatCount(1000)).toBe("1.0k");
    expect(formatCount(20_600)).toBe("20.6k");
    expect(formatCount(9_999_360)).toBe("10.0M");
    expect(formatCount(20_600_000)).toBe("20.6M");
    expect(formatCount(1_234_000_000)).toBe("1.2B");
  });

  it("moves to the next unit where rounding would reach it", () => {
    expect(formatCount(999.6)).toBe("1.0k");
    expect(formatCount(999_960)).toBe("1.0M");
    expect(formatCount(999_949)).toBe("999.9k");
    expect(formatCount(4.2e12)).toBe("4200.0B");
    expect(formatCount(-20_600)).toBe("-20.6k");
  });
});
