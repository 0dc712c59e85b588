/**
 * Preference arms (`pref:` on aft, msm+aft and cross arms; issue 21 question 2): how steps and
 * contamination lists expand into series arms, and the errors for settings that cannot train.
 */
import { afterAll, describe, expect, it } from "vitest";
import type { Arm } from "../../src/experiment/config.js";
import { cleanupTempDirs } from "../helpers.js";
import { prefExperiment } from "./pref-fixture.js";

afterAll(cleanupTempDirs);

const names = (arms: Arm[]) => arms.map((a) => a.name);

describe("pref: on an arm", () => {
  it("a steps list is a series whose 0 is the arm itself", () => {
    const { arms } = prefExperiment(
      "  - { name: a, kind: aft, aft_spec: rules, pref: { method: dpo, steps: [300, 100], beta: 0.2 } }",
    ).load().experiment;
    expect(names(arms)).toEqual(["a", "a-dpo100", "a-dpo300"]);
    expect(arms[0]).not.toHaveProperty("pref");
    expect(arms[1]).toMatchObject({
      kind: "aft",
      aft_spec: "rules",
      pref: { method: "dpo", steps: 100, beta: 0.2 },
      design: { from: "a", pref: { base: "a", stepsSeries: true, contaminationSeries: false } },
    });
    expect(arms[1]).not.toHaveProperty("pref.contamination");
  });

  it("contamination fractions are a series per step count whose 0 is the clean preference arm", () => {
    const { arms } = prefExperiment(
      "  - { name: m, kind: msm+aft, msm_spec: values, aft_spec: rules, pref: { method: ipo, steps: 50, contamination: { kind: reward-hacking, fractions: [0.3, 0.1] } } }",
    ).load().experiment;
    expect(names(arms)).toEqual(["m", "m-ipo50", "m-ipo50-rh10", "m-ipo50-rh30"]);
    expect(arms[3]).toMatchObject({
      kind: "msm+aft",
      pref: { method: "ipo", steps: 50, contamination: { kind: "reward-hacking", fraction: 0.3 } },
      design: { pref: { base: "m", stepsSeries: false, contaminationSeries: true } },
    });
  });

  it("one fraction contaminates every preference arm; no steps trains the recipe's epochs", () => {
    const { arms } = prefExperiment(
      "  - { name: a, kind: aft, aft_spec: rules, pref: { method: kto, contamination: { fraction: 0.05 } } }",
    ).load().experiment;
    expect(names(arms)).toEqual(["a", "a-kto-mis5"]);
    expect(arms[1]).toMatchObject({
      pref: { method: "kto", contamination: { kind: "misaligned", fraction: 0.05 } },
    });
    expect(arms[1]).not.toHaveProperty("pref.steps");
  });

  it("cross cells and size ladders each get their preference arms", () => {
    const { arms } = prefExperiment(
      "  - { name: g, kind: cross, msm_specs: [values], aft_specs: [rules], aft_sizes: [8], pref: { method: orpo, steps: [10] } }",
    ).load().experiment;
    expect(names(arms)).toEqual(["g-values-rules-n8", "g-values-rules-n8-orpo10"]);
    expect(arms[1]).toMatchObject({
      kind: "msm+aft",
      aft_size: 8,
      design: { from: "g", cross: true, ladder: true, pref: { base: "g-values-rules-n8" } },
    });
  });

  it("refuses pref without an AFT stage, without a recipe, GRPO without a judge, bad shares and colliding names", () => {
    const bad = (arms: string, data?: string) => prefExperiment(arms, data ? { data } : {}).load;
    for (const arm of [
      "{ name: b, kind: baseline",
      "{ name: b, kind: prompted, spec: rules",
      "{ name: b, kind: msm, msm_spec: values",
      "{ name: b, kind: it-only, it: { files: [x.jsonl] }",
      "{ name: b, kind: spec-ladder, specs: [rules, values]",
    ])
      expect(bad(`  - ${arm}, pref: { method: dpo } }`)).toThrow(
        /arms\.0\.pref.*arm "b" \(kind [a-z-]+\) has no AFT stage for a preference stage to continue: remove pref, or use kind aft, msm\+aft or cross/s,
      );
    expect(bad("  - { name: a, kind: aft, aft_spec: rules, pref: { method: dpo } }", "{}")).toThrow(
      /training\.data\.pref.*arm "a" has a preference stage: name its preference-set recipe in training\.data\.pref/s,
    );
    expect(
      bad(
        "  - { name: a, kind: aft, aft_spec: rules, pref: { method: dpo } }",
        "{ pref: pref.yaml }\n  engine: together",
      ),
    ).toThrow(
      /training\.engine.*arm "a" has a preference stage, which specsci trains with axolotl only/s,
    );
    expect(bad("  - { name: a, kind: aft, aft_spec: rules, pref: { method: grpo } }")).toThrow(
      /arms\.0\.pref\.judge.*arm "a": GRPO rewards each completion by asking a judge/s,
    );
    expect(bad("  - { name: a, kind: aft, aft_spec: rules, pref: { method: simpo } }")).toThrow(
      /arms\.0\.pref\.method/,
    );
    for (const f of [0, 1.5])
      expect(
        bad(
          `  - { name: a, kind: aft, aft_spec: rules, pref: { method: dpo, contamination: { fractions: [0.1, ${f}] } } }`,
        ),
      ).toThrow(
        new RegExp(
          `arms\\.0\\.pref\\.contamination\\.fractions\\.1.*a contaminated share in a series is above 0 and at most 1 \\(got ${f}\\)`,
          "s",
        ),
      );
    expect(
      bad(
        "  - { name: a, kind: aft, aft_spec: rules, pref: { method: dpo, contamination: { fraction: 0.1, fractions: [0.2] } } }",
      ),
    ).toThrow(/arms\.0\.pref\.contamination.*give fraction \(one share\) or fractions/s);
    expect(
      bad(`  - { name: a, kind: aft, aft_spec: rules, pref: { method: dpo, steps: 5 } }
  - { name: a-dpo5, kind: baseline }`),
    ).toThrow(/arm name "a-dpo5" is used twice \(after .*preference series/);
  });
});
