/**
 * Preference arms in the stage graph and training plans: one preference set per (spec,
 * contamination) shared by the arms that use it, the preference stage after the arm's AFT stage,
 * fingerprints (arms without pref keep theirs), `plan`'s data and cost offline, and the commands
 * that make it all by hand.
 */
import { readFileSync } from "node:fs";
import { relative } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { loadExperiment, TrainedArm } from "../../src/experiment/config.js";
import { buildStages } from "../../src/experiment/stages.js";
import { planTrainedArms } from "../../src/experiment/trained.js";
import {
  armData,
  trainingDir,
  trainingFingerprint,
  writeTrainingPlans,
} from "../../src/experiment/training.js";
import { parseTrainPlan } from "../../src/train/plan.js";
import { cleanupTempDirs, makeClient } from "../helpers.js";
import { prefExperiment } from "./pref-fixture.js";

afterAll(cleanupTempDirs);

const ARMS = `  - { name: a, kind: aft, aft_spec: rules, aft_size: 8, pref: { method: dpo, steps: [10, 30] } }
  - { name: m, kind: msm+aft, msm_spec: values, aft_spec: rules, aft_size: 8, pref: { method: kto, steps: 10, beta: 0.2, contamination: { kind: reward-hacking, fractions: [0.25, 0.5] } } }`;

const experiment = (arms: string, recipe?: string) =>
  prefExperiment(arms, recipe ? { recipe } : {});

const specHash = (n: string) => `sha-${n}`;

describe("preference arms in the training plans", () => {
  it("train a preference stage on a shared set, continuing the AFT run of the arm without pref", async () => {
    const loaded = experiment(ARMS).load();
    const { client } = makeClient();
    const graph = await buildStages(loaded, client);
    expect(graph.training.map((t) => [t.arm, t.stage, t.parent ?? null])).toEqual([
      ["a", "aft", null],
      ["a-dpo10", "pref", null],
      ["a-dpo30", "pref", null],
      ["m", "aft", "pressure.msm-values-fake-am-agent"],
      ["m-kto10", "pref", "pressure.msm-values-fake-am-agent"],
      ["m-kto10-rh25", "pref", "pressure.msm-values-fake-am-agent"],
      ["m-kto10-rh50", "pref", "pressure.msm-values-fake-am-agent"],
    ]);
    const arm = (name: string) => loaded.experiment.arms.find((x) => x.name === name) as TrainedArm;
    const steps = (name: string) =>
      armData(loaded, arm(name)).map((d) => [d.kind, relative(trainingDir(loaded), d.dir)]);
    expect(steps("a")).toEqual([["aft", "data/aft-rules-8"]]);
    // Both step counts and the clean msm+aft arm train on one clean set of the AFT spec.
    for (const name of ["a-dpo10", "a-dpo30"])
      expect(steps(name)).toEqual([
        ["aft", "data/aft-rules-8"],
        ["pref", "data/pref-rules"],
      ]);
    expect(steps("m-kto10")).toEqual([
      ["msm", "data/msm-values"],
      ["aft", "data/aft-rules-8"],
      ["pref", "data/pref-rules"],
    ]);
    expect(steps("m-kto10-rh50").at(-1)).toEqual(["pref", "data/pref-rules-reward-hacking-50"]);

    const todos = writeTrainingPlans(loaded, graph.training, graph.specs);
    const todo = (name: string) => todos.find((t) => t.arm.name === name);
    const plan = (name: string) => {
      const file = todo(name)?.file as string;
      return parseTrainPlan(readFileSync(file, "utf8"), file).plan;
    };
    expect(plan("a").stages).toMatchObject([
      { name: "aft", kind: "aft", data: "data/aft-rules-8" },
    ]);
    // Every point of the series continues the one AFT run of `a`, so it is trained once.
    expect(plan("a").seeds).toEqual([0]);
    expect(plan("a-dpo30").stages).toMatchObject([
      { name: "pref", kind: "preference", data: "data/pref-rules", rl: "dpo", steps: 30 },
    ]);
    expect(plan("a-dpo30").stages[0]).not.toHaveProperty("beta");
    expect(plan("a-dpo30").start_from).toEqual({
      plan: "pressure-a-fake-am-agent.yaml",
      stage: "aft",
    });
    const rh = plan("m-kto10-rh25");
    expect(rh.stages).toMatchObject([
      { kind: "preference", data: "data/pref-rules-reward-hacking-25", rl: "kto", beta: 0.2 },
    ]);
    expect(rh.start_from).toEqual({ plan: "pressure-m-fake-am-agent.yaml", stage: "aft" });
    expect(plan("m").start_from).toEqual({
      plan: "pressure.msm-values-fake-am-agent.yaml",
      stage: "msm",
    });
    // The plan records the preference stage's fingerprint: the model its eval waits for.
    const fp = trainingFingerprint(
      loaded,
      arm("m-kto10-rh25"),
      "pref",
      "Qwen/Qwen3-8B",
      (n) => graph.specs.find((s) => s.name === n)?.hash,
    );
    expect(rh.origin?.fingerprint).toBe(fp);
    // By hand: the set with the arm's contamination (clean ones say 0, over the recipe's own).
    expect(todo("a-dpo10")?.commands).toEqual([
      expect.stringMatching(/^specsci aft generate rules --examples 8 -o \S+\/aft-rules-8$/),
      expect.stringMatching(
        /^specsci aft pref rules -r \S+\/pref\.yaml --contamination 0 -o \S+\/pref-rules$/,
      ),
      expect.stringMatching(/^specsci train run \S+\/pressure-a-dpo10-fake-am-agent\.yaml$/),
    ]);
    expect(todo("m-kto10-rh50")?.commands[2]).toMatch(
      /^specsci aft pref rules -r \S+\/pref\.yaml --contamination 0\.5 --contamination-kind reward-hacking -o \S+\/pref-rules-reward-hacking-50$/,
    );
  });

  it("plan costs each shared set once, and a reward-hacking share only by the answers it adds", async () => {
    const loaded = experiment(ARMS).load();
    const { client } = makeClient();
    const graph = await buildStages(loaded, client);
    const p = planTrainedArms(loaded, client, graph);
    const rows = p.data.map((d) => [relative(trainingDir(loaded), d.step.dir), d.state, d.calls]);
    expect(rows.map((r) => r[0])).toEqual([
      "data/aft-rules-8",
      "data/pref-rules",
      "data/msm-values",
      "data/pref-rules-reward-hacking-25",
      "data/pref-rules-reward-hacking-50",
    ]);
    expect(rows.every((r) => r[1] === "to make")).toBe(true);
    const calls = (dir: string) => rows.find((r) => r[0] === dir)?.[2] as number;
    // 4 pairs with a 25% margin: 5 AFT examples, each with a rejected answer and its judge.
    expect(calls("data/pref-rules")).toBeGreaterThan(10);
    // round(0.25 × 4) = 1 pair turned, asked with the margin: 2 answers; at 50%: 3, so 1 more.
    expect(calls("data/pref-rules-reward-hacking-25")).toBe(2);
    expect(calls("data/pref-rules-reward-hacking-50")).toBe(1);
    expect(p.training.map((t) => t.arm)).toEqual([
      "a",
      "a-dpo10",
      "a-dpo30",
      "m",
      "m-kto10",
      "m-kto10-rh25",
      "m-kto10-rh50",
    ]);
  });

  it("a preference stage's own hyperparameters go into its plan stage and its fingerprint", async () => {
    const own = experiment(
      "  - { name: a, kind: aft, aft_spec: rules, pref: { method: dpo, steps: 10, hyperparameters: { learning_rate: 5.0e-6 } } }",
    ).load();
    const plain = experiment(
      "  - { name: a, kind: aft, aft_spec: rules, pref: { method: dpo, steps: 10 } }",
    ).load();
    const { client } = makeClient();
    const graph = await buildStages(own, client);
    const todo = writeTrainingPlans(own, graph.training, graph.specs).find(
      (t) => t.arm.name === "a-dpo10",
    );
    const plan = parseTrainPlan(readFileSync(todo?.file as string, "utf8"), todo?.file as string);
    expect(plan.plan.stages.map((s) => [s.kind, s.hyperparameters])).toEqual([
      ["preference", { learning_rate: 5.0e-6 }],
    ]);
    const fp = (loaded: ReturnType<typeof loadExperiment>) =>
      trainingFingerprint(
        loaded,
        loaded.experiment.arms.find((x) => x.name === "a-dpo10") as TrainedArm,
        "pref",
        "Qwen/Qwen3-8B",
        specHash,
      );
    expect(fp(own)).not.toBe(fp(plain));
  });

  it("an arm without pref keeps its fingerprint; a preference arm's follows its own settings", () => {
    const withPref = experiment(ARMS).load();
    const without = experiment(`  - { name: a, kind: aft, aft_spec: rules, aft_size: 8 }
  - { name: m, kind: msm+aft, msm_spec: values, aft_spec: rules, aft_size: 8 }`).load();
    const fp = (
      loaded: ReturnType<typeof loadExperiment>,
      name: string,
      part: "msm" | "aft" | "pref",
    ) =>
      trainingFingerprint(
        loaded,
        loaded.experiment.arms.find((x) => x.name === name) as TrainedArm,
        part,
        "Qwen/Qwen3-8B",
        specHash,
      );
    for (const [name, part] of [
      ["a", "aft"],
      ["m", "msm"],
      ["m", "aft"],
    ] as const)
      expect(fp(withPref, name, part)).toBe(fp(without, name, part));
    // A preference arm's AFT stage is the arm's own AFT, so the AFT fingerprint is the same.
    expect(fp(withPref, "a-dpo10", "aft")).toBe(fp(without, "a", "aft"));
    const prints = ["a-dpo10", "a-dpo30", "m-kto10", "m-kto10-rh25", "m-kto10-rh50"].map((n) =>
      fp(withPref, n, "pref"),
    );
    expect(new Set(prints).size).toBe(5);
    // Editing the preference recipe retrains the preference arms only.
    const edited = experiment(ARMS, "aft: { model: fake/pref-teacher }\npairs: 6\n").load();
    expect(fp(edited, "a", "aft")).toBe(fp(withPref, "a", "aft"));
    expect(fp(edited, "a-dpo10", "pref")).not.toBe(fp(withPref, "a-dpo10", "pref"));
    // An edited AFT spec retrains them too (its set's prompts and answers change).
    const rules2 = (n: string) => (n === "rules" ? "sha-rules-2" : specHash(n));
    expect(
      trainingFingerprint(
        withPref,
        withPref.experiment.arms.find((x) => x.name === "a-dpo10") as TrainedArm,
        "pref",
        "Qwen/Qwen3-8B",
        rules2,
      ),
    ).not.toBe(fp(withPref, "a-dpo10", "pref"));
  });
});
