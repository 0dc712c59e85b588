/**
 * A GRPO preference arm: its plan stage carries the reward (the arm's AFT spec as a file, the
 * judge, the contamination), the set it trains on is the clean one (GRPO's contamination is the
 * reward's), the plan loads as a GRPO plan, and a judge is required for GRPO and only for it.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { TrainedArm } from "../../src/experiment/config.js";
import { buildStages } from "../../src/experiment/stages.js";
import {
  armData,
  trainingDir,
  trainingFingerprint,
  writeTrainingPlans,
} from "../../src/experiment/training.js";
import { loadTrainPlan } from "../../src/train/plan.js";
import { cleanupTempDirs, makeClient } from "../helpers.js";
import { prefExperiment } from "./pref-fixture.js";

afterAll(cleanupTempDirs);

const JUDGE = `{ url: "http://127.0.0.1:9/v1", model: judge-model, key_env: JUDGE_KEY }`;
const ARMS = `  - { name: g, kind: aft, aft_spec: rules, aft_size: 8, pref: { method: grpo, steps: 20, judge: ${JUDGE}, num_generations: 4, contamination: { kind: misaligned, fractions: [0.25] } } }`;

describe("a GRPO preference arm", () => {
  it("writes a GRPO stage whose reward reads the AFT spec and holds the contamination", async () => {
    const loaded = prefExperiment(ARMS).load();
    const { client } = makeClient();
    const graph = await buildStages(loaded, client);
    const arm = (name: string) => loaded.experiment.arms.find((x) => x.name === name) as TrainedArm;
    expect(loaded.experiment.arms.map((a) => a.name)).toEqual(["g", "g-grpo20", "g-grpo20-mis25"]);
    // Both points train on the clean set: the contaminated one differs in its reward only.
    for (const name of ["g-grpo20", "g-grpo20-mis25"])
      expect(relative(trainingDir(loaded), armData(loaded, arm(name)).at(-1)?.dir as string)).toBe(
        "data/pref-rules",
      );
    const todos = writeTrainingPlans(loaded, graph.training, graph.specs);
    const file = todos.find((t) => t.arm.name === "g-grpo20-mis25")?.file as string;
    const stage = loadTrainPlan(file).plan.stages[0];
    expect(stage).toMatchObject({
      kind: "preference",
      rl: "grpo",
      steps: 20,
      reward: {
        judge: { url: "http://127.0.0.1:9/v1", model: "judge-model", key_env: "JUDGE_KEY" },
        contamination: { kind: "misaligned", fraction: 0.25 },
        num_generations: 4,
      },
    });
    // The reward's spec is a file, relative to the plan: the built-in rules spec here.
    const spec = resolve(
      dirname(file),
      (stage?.reward as { spec: string } | undefined)?.spec ?? "",
    );
    expect(existsSync(spec)).toBe(true);
    expect(readFileSync(spec, "utf8")).toContain("SP1");
    const clean = todos.find((t) => t.arm.name === "g-grpo20")?.file as string;
    expect(loadTrainPlan(clean).plan.stages[0]?.reward).not.toHaveProperty("contamination");
    // The reward's settings are in the fingerprint: another judge is another model.
    const print = (a: TrainedArm) =>
      trainingFingerprint(loaded, a, "pref", "Qwen/Qwen3-8B", (n) => `sha-${n}`);
    const g = arm("g-grpo20") as TrainedArm & { pref: { judge: { model: string } } };
    const otherJudge = { ...g, pref: { ...g.pref, judge: { ...g.pref.judge, model: "other" } } };
    expect(print(g)).toMatch(/^[0-9a-f]{16,}/);
    expect(print(otherJudge as TrainedArm)).not.toBe(print(g));
  });

  it("needs a judge for GRPO, and takes judge and num_generations for GRPO only", () => {
    expect(() =>
      prefExperiment("  - { name: g, kind: aft, aft_spec: rules, pref: { method: grpo } }").load(),
    ).toThrow(/arms\.0\.pref\.judge: arm "g": GRPO rewards each completion by asking a judge/);
    expect(() =>
      prefExperiment(
        `  - { name: d, kind: aft, aft_spec: rules, pref: { method: dpo, judge: ${JUDGE} } }`,
      ).load(),
    ).toThrow(/arms\.0\.pref\.judge: arm "d": judge and num_generations are GRPO's/);
  });
});
