/**
 * examples/open-questions/training-awareness.yaml plans as shipped, offline: both MSM corpora (one
 * per spec name, from the one recipe whose knob names only `rules-aware`), the shared AFT set, and
 * every arm's eval stages.
 */
import { cpSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadMsmConfig } from "../../src/data/msm/config.js";
import { corpusIdOf } from "../../src/data/msm/context.js";
import { cleanupTempDirs, ROOT, runCli, tempDir } from "../helpers.js";

afterAll(cleanupTempDirs);
const DIR = join(ROOT, "examples", "open-questions");

describe("examples/open-questions/training-awareness.yaml", () => {
  it("plans offline, with a corpus per spec name and the awareness judge on every sample", async () => {
    const cwd = tempDir("specsci-awareness-");
    cpSync(join(ROOT, "examples"), cwd, { recursive: true });
    const plan = await runCli(
      ["--workspace", "ws", "plan", join("open-questions", "training-awareness.yaml")],
      { cwd, env: { ANTHROPIC_API_KEY: undefined, OPENAI_API_KEY: undefined } },
    );
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(/data\/msm-rules +rules +to make/);
    expect(plan.stdout).toMatch(/data\/msm-rules-aware +rules-aware +to make/);
    expect(plan.stdout).toMatch(/data\/aft-rules +rules +to make/);
    // 27 scenarios × 10 epochs, each judged for misalignment and for eval awareness.
    expect(plan.stdout).toMatch(/eval\/baseline\/\S+\/am\/seed-0 +270 +0 +270 +270 +540 /);
    for (const arm of ["aft-only", "unstated", "stated-purpose"])
      for (const seed of [0, 1, 2])
        expect(plan.stdout).toMatch(new RegExp(`eval/${arm}/\\S+/am/seed-${seed} \\(needs `));
    expect(plan.stdout).toContain("9 stage(s) of trained arms wait for their models");
  });

  it("its recipe states the purpose in the rules-aware corpus only", () => {
    const recipe = loadMsmConfig(join(DIR, "recipes", "training-awareness-msm.yaml"));
    expect(recipe.knobs.training_purpose).toEqual({
      mode: "stated",
      share: 0.5,
      specs: ["rules-aware"],
    });
    const without = { ...recipe, knobs: { ...recipe.knobs, training_purpose: undefined } };
    expect(corpusIdOf("h", recipe, "rules")).toBe(corpusIdOf("h", without, "rules"));
    expect(corpusIdOf("h", recipe, "rules-aware")).not.toBe(corpusIdOf("h", without, "rules"));
  });
});
