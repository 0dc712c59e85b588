import { describe, expect, it } from "vitest";
import type { Arm } from "../../src/experiment/config.js";
import { ALL_PAIRS_UP_TO, armPairs } from "../../src/report/arm-pairs.js";

const aft = (name: string, extra: Partial<Arm & { kind: "aft" }> = {}): Arm => ({
  name,
  kind: "aft",
  aft_spec: "s",
  reasoning: true,
  ...extra,
});
const cell = (name: string, msm: string, aftSpec: string, reasoning = true): Arm => ({
  name,
  kind: "msm+aft",
  msm_spec: msm,
  aft_spec: aftSpec,
  reasoning,
});
const names = (pairs: [Arm, Arm][]) => pairs.map(([a, b]) => `${a.name} vs ${b.name}`);

describe("armPairs", () => {
  it(`compares every pair of up to ${ALL_PAIRS_UP_TO} arms`, () => {
    const arms = [
      cell("a", "r", "r"),
      cell("b", "v", "v"),
      { name: "base", kind: "baseline" } as Arm,
    ];
    expect(names(armPairs(arms))).toEqual(["a vs b", "a vs base", "b vs base"]);
  });

  it("in a large design, compares the references and the arms one design factor apart", () => {
    const base: Arm = { name: "base", kind: "baseline" };
    const grid = ["r", "v", "p"].flatMap((m) =>
      ["r", "v", "p"].map((f) => cell(`g-${m}-${f}`, m, f)),
    );
    const arms: Arm[] = [
      base,
      ...grid,
      cell("g-r-r-nocot", "r", "r", false),
      aft("ladder-n4", { aft_size: 4 }),
      aft("ladder-n8", { aft_size: 8 }),
      { ...cell("m-n4", "s", "s"), aft_size: 4 } as Arm,
      aft("dose"),
      aft("dose-anti20", { anti: { spec: "anti", fraction: 0.2 } } as Partial<
        Arm & { kind: "aft" }
      >),
      { name: "p-r", kind: "prompted", spec: "r" },
      { name: "p-v", kind: "prompted", spec: "v" },
    ];
    expect(arms.length).toBeGreaterThan(ALL_PAIRS_UP_TO);
    const got = names(armPairs(arms));
    // Every arm against the baseline.
    for (const a of arms.slice(1)) expect(got).toContain(`${a.name} vs base`);
    // Grid cells sharing an AFT spec or an MSM spec; not those differing in both.
    expect(got).toContain("g-r-v vs g-v-v");
    expect(got).toContain("g-r-r vs g-r-p");
    expect(got).not.toContain("g-r-r vs g-v-v");
    // A no-CoT twin against its CoT arm (and the references), not against other cells.
    expect(got).toContain("g-r-r vs g-r-r-nocot");
    expect(got).not.toContain("g-r-v vs g-r-r-nocot");
    // Ladder steps, MSM + AFT against AFT alone at one size, a dose against its undosed arm.
    expect(got).toContain("ladder-n4 vs ladder-n8");
    expect(got).toContain("ladder-n4 vs m-n4");
    expect(got).toContain("dose vs dose-anti20");
    expect(got).toContain("p-r vs p-v");
    expect(got).not.toContain("ladder-n8 vs m-n4");
    expect(got).not.toContain("p-r vs g-r-r");
    expect(got.length).toBeLessThan((arms.length * (arms.length - 1)) / 2 / 2);
  });
});
