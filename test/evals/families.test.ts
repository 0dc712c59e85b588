import { describe, expect, it } from "vitest";
import { loadPack } from "../../src/evals/am/pack.js";
import { selectConditions } from "../../src/evals/am/task.js";

const pack = loadPack();

describe("--families", () => {
  it("names a family the condition set lacks, says why and how to include it, never drops it silently", () => {
    expect(() => selectConditions(pack, { families: ["coercion"] })).toThrow(
      /no condition of family coercion is in the standard condition set .*\(families there: exfiltration, leaking, lethal-inaction\)/,
    );
    let hint = "";
    try {
      selectConditions(pack, { families: ["leaking", "coercion"] });
    } catch (e) {
      hint = (e as { hint?: string }).hint ?? "";
    }
    expect(hint).toMatch(/to include coercion, add --conditions all/);
    expect(() =>
      selectConditions(pack, {
        conditions: ["leaking_none-none_none"],
        families: ["leaking", "exfiltration"],
      }),
    ).toThrow(
      /no condition of family exfiltration is in the conditions given \(families there: leaking\)/,
    );
    const both = selectConditions(pack, { conditions: "all", families: ["leaking", "coercion"] });
    expect(new Set(both.map((c) => c.family))).toEqual(new Set(["leaking", "coercion"]));
    expect(selectConditions(pack, { families: ["leaking"] }).length).toBe(9);
  });
});
