/**
 * Anti-spec dose arms (`anti:` on aft, msm+aft and cross arms): the paper's App. I contamination
 * series, its config, data steps, plans and fingerprints; and that arms without it keep theirs.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type Arm, loadExperiment, type TrainedArm } from "../../src/experiment/config.js";
import { buildStages } from "../../src/experiment/stages.js";
import { planTrainedArms } from "../../src/experiment/trained.js";
import {
  armData,
  type TrainedStage,
  trainingDir,
  trainingFingerprint,
  writeTrainingPlans,
} from "../../src/experiment/training.js";
import { parseTrainPlan } from "../../src/train/plan.js";
import { IT_CHATS } from "../fixtures/it-chats.js";
import { cleanupTempDirs, makeClient, tempDir } from "../helpers.js";

afterAll(cleanupTempDirs);

/** An experiment in a fresh directory with `it.jsonl`; `arms` is YAML list items. */
function experiment(arms: string) {
  const dir = tempDir("specsci-anti-arms-");
  writeFileSync(join(dir, "it.jsonl"), `${IT_CHATS}\n`);
  const file = join(dir, "e.yaml");
  writeFileSync(
    file,
    `name: dose
specs: { rules: rules, values: value-augmented, selfish: anti-spec }
arms:
${arms}
models: [fake/am-agent]
evals: [{ task: agentic-misalignment, conditions: [leaking_explicit-america_replacement] }]
judge: { model: fake/am-judge }
training:
  base_models: { "fake/am-agent": Qwen/Qwen3-8B }
  it: { files: [it.jsonl], examples: 2, seed: 5 }
`,
  );
  return { dir, file, load: () => loadExperiment(file) };
}

/** Spec hashes fixed by name, so the pins below depend on the fingerprint's code alone. */
const specHash = (n: string) => `sha-${n}`;

describe("arms without anti-spec data keep their data directories and fingerprints", () => {
  // Computed on main before anti-spec arms existed (commit 67483af): a change here retrains
  // every model users have trained.
  it("a plain AFT arm, AFT and msm+aft arms with IT data, and an it-only arm", () => {
    const { load } =
      experiment(`  - { name: plain, kind: aft, aft_spec: rules, aft_size: 8, it: false }
  - { name: with-it, kind: aft, aft_spec: rules, aft_size: 8 }
  - { name: cell, kind: msm+aft, msm_spec: values, aft_spec: rules, reasoning: false }
  - { name: it-base, kind: it-only }`);
    const loaded = load();
    const root = trainingDir(loaded);
    const seen = loaded.experiment.arms.map((a) => {
      const arm = a as TrainedArm;
      const parts: TrainedStage[] =
        arm.kind === "it-only" ? ["it"] : arm.kind === "msm+aft" ? ["msm", "aft"] : ["aft"];
      return {
        arm: arm.name,
        dirs: armData(loaded, arm).map((d) => relative(root, d.dir)),
        fingerprints: parts.map((p) =>
          trainingFingerprint(loaded, arm, p, "Qwen/Qwen3-8B", specHash),
        ),
      };
    });
    expect(seen).toEqual([
      {
        arm: "plain",
        dirs: ["data/aft-rules-8"],
        fingerprints: ["3fcfdb7d8d412c2c24fb7c499acd3d1f7403f922b8260c4537a718974582220e"],
      },
      {
        arm: "with-it",
        dirs: ["data/aft-rules-8", "data/aft-rules-8-it-792b505c"],
        fingerprints: ["7546eb326c747dbe86dabeb30819232d918635a0678777693f4dca19005ed781"],
      },
      {
        arm: "cell",
        dirs: ["data/msm-values", "data/aft-rules", "data/aft-rules-it-792b505c"],
        fingerprints: [
          "4a5b9b53c25ebeeba2b6778f55009f4f85376b1493d069e2aa983a39c50a043f",
          "fc6fb84e98d8b85b6f1f00c4d6099bf3caf48273d744147f28eaef2e5e30016b",
        ],
      },
      {
        arm: "it-base",
        dirs: ["data/it-792b505c"],
        fingerprints: ["3b61cc895122aca98876699863294c8c0f4edbfa5b66fca45aa99d75efe92351"],
      },
    ]);
  });
});

describe("anti: in the experiment file", () => {
  it("expands into one arm per fraction after the arm itself, in fraction order, also in ladders and grids", () => {
    const arms =
      experiment(`  - { name: a, kind: aft, aft_spec: rules, anti: { spec: selfish, fractions: [0.2, 0.02, 0.005] } }
  - { name: l, kind: msm+aft, msm_spec: values, aft_spec: rules, aft_sizes: [4, 8], anti: { spec: selfish, fractions: [0.5], seed: 3 } }
  - { name: g, kind: cross, msm_specs: [values], aft_specs: [rules], anti: { spec: selfish, fractions: [0.1] } }`)
        .load()
        .experiment.arms.filter((x) => x.kind !== "baseline");
    expect(arms.map((x) => x.name)).toEqual([
      "a",
      "a-anti0.5",
      "a-anti2",
      "a-anti20",
      "l-n4",
      "l-n4-anti50",
      "l-n8",
      "l-n8-anti50",
      "g-values-rules",
      "g-values-rules-anti10",
    ]);
    const arm = (name: string) => arms.find((x) => x.name === name) as Arm & { anti?: unknown };
    expect(arm("a").anti).toBeUndefined();
    expect(arm("a").design).toBeUndefined();
    expect(arm("a-anti2")).toMatchObject({
      kind: "aft",
      aft_spec: "rules",
      anti: { spec: "selfish", fraction: 0.02, seed: 0 },
      design: { from: "a", anti: true },
    });
    expect(arm("l-n8-anti50")).toMatchObject({
      kind: "msm+aft",
      aft_size: 8,
      anti: { spec: "selfish", fraction: 0.5, seed: 3 },
      design: { from: "l", ladder: true, anti: true },
    });
    expect(arm("l-n8").design).toEqual({ from: "l", ladder: true });
    expect(arm("g-values-rules-anti10")).toMatchObject({
      kind: "msm+aft",
      design: { from: "g", cross: true, anti: true },
    });
  });

  it("refuses a share out of range, an unknown spec, the arm's own AFT spec, arms without an AFT set and names that collide", () => {
    const bad = (arms: string) => experiment(arms).load;
    for (const f of [0, 1, 1.5])
      expect(
        bad(
          `  - { name: a, kind: aft, aft_spec: rules, anti: { spec: selfish, fractions: [0.1, ${f}] } }`,
        ),
      ).toThrow(
        new RegExp(
          `arms\\.0\\.anti\\.fractions\\.1.*an anti-spec share must be above 0 and below 1 \\(got ${f}\\)`,
          "s",
        ),
      );
    expect(
      bad("  - { name: a, kind: aft, aft_spec: rules, anti: { spec: nope, fractions: [0.1] } }"),
    ).toThrow(
      /arms\.0\.anti\.spec.*no spec named "nope" under specs: \(known: rules, values, selfish\)/s,
    );
    expect(
      bad(
        "  - { name: g, kind: cross, msm_specs: [values], aft_specs: [rules, selfish], anti: { spec: selfish, fractions: [0.1] } }",
      ),
    ).toThrow(/arms\.0\.anti\.spec.*the anti-spec "selfish" is also this arm's AFT spec/s);
    for (const arm of [
      "{ name: b, kind: baseline",
      "{ name: b, kind: prompted, spec: rules",
      "{ name: b, kind: msm, msm_spec: values",
      "{ name: b, kind: it-only",
    ])
      expect(bad(`  - ${arm}, anti: { spec: selfish, fractions: [0.1] } }`)).toThrow(
        /arms\.0\.anti.*arm "b" \(kind [a-z-]+\) has no AFT set to mix anti-spec data into: remove it, or use kind aft, msm\+aft or cross/s,
      );
    expect(
      bad(`  - { name: a, kind: aft, aft_spec: rules, anti: { spec: selfish, fractions: [0.1] } }
  - { name: a-anti10, kind: baseline }`),
    ).toThrow(
      /arm name "a-anti10" is used twice \(after cross grids, size ladders, anti-spec doses/,
    );
  });
});

describe("dose arms in the stage graph and the training plans", () => {
  const ARMS = `  - { name: a, kind: aft, aft_spec: rules, aft_size: 8, it: false, anti: { spec: selfish, fractions: [0.25] } }
  - { name: c, kind: msm+aft, msm_spec: values, aft_spec: rules, aft_size: 8, anti: { spec: selfish, fractions: [0.25, 0.5] } }`;

  it("train on their AFT set mixed with the shared anti-spec set (and the IT data), made by one mix", async () => {
    const { load } = experiment(ARMS);
    const loaded = load();
    const { client } = makeClient();
    const graph = await buildStages(loaded, client);
    expect(graph.training.map((t) => [t.arm, t.plan, t.stage, t.parent ?? null])).toEqual([
      ["a", "dose-a-fake-am-agent", "aft", null],
      ["a-anti25", "dose-a-anti25-fake-am-agent", "aft", null],
      ["c", "dose-c-fake-am-agent", "aft", "dose.msm-values-fake-am-agent"],
      ["c-anti25", "dose-c-anti25-fake-am-agent", "aft", "dose.msm-values-fake-am-agent"],
      ["c-anti50", "dose-c-anti50-fake-am-agent", "aft", "dose.msm-values-fake-am-agent"],
    ]);
    const arm = (name: string) => loaded.experiment.arms.find((x) => x.name === name) as TrainedArm;
    const steps = (name: string) =>
      armData(loaded, arm(name)).map((d) => [d.kind, relative(trainingDir(loaded), d.dir)]);
    expect(steps("a")).toEqual([["aft", "data/aft-rules-8"]]);
    expect(steps("a-anti25")).toEqual([
      ["aft", "data/aft-rules-8"],
      ["aft", "data/aft-selfish-8"],
      ["mix", "data/aft-rules-8-anti-selfish-25"],
    ]);
    const tag = "792b505c"; // training.it's, as pinned above
    expect(steps("c-anti50")).toEqual([
      ["msm", "data/msm-values"],
      ["aft", "data/aft-rules-8"],
      ["aft", "data/aft-selfish-8"],
      ["mix", `data/aft-rules-8-anti-selfish-50-it-${tag}`],
    ]);

    const todos = writeTrainingPlans(loaded, graph.training, graph.specs);
    const todo = (name: string) => todos.find((t) => t.arm.name === name);
    const stageData = (name: string) => {
      const file = todo(name)?.file as string;
      return parseTrainPlan(readFileSync(file, "utf8"), file).plan.stages.map((s) => s.data);
    };
    expect(stageData("a-anti25")).toEqual(["data/aft-rules-8-anti-selfish-25"]);
    expect(stageData("c-anti50")).toEqual([`data/aft-rules-8-anti-selfish-50-it-${tag}`]);
    // By hand: the anti-spec set is generated like any AFT set, at the arm's size, then mixed.
    expect(todo("a-anti25")?.commands).toEqual([
      expect.stringMatching(/^specsci aft generate rules --examples 8 -o \S+\/aft-rules-8$/),
      expect.stringMatching(/^specsci aft generate anti-spec --examples 8 -o \S+\/aft-selfish-8$/),
      expect.stringMatching(
        /^specsci aft mix \S+\/aft-rules-8 --anti \S+\/aft-selfish-8 --fraction 0\.25 --seed 0 -o \S+\/aft-rules-8-anti-selfish-25$/,
      ),
      expect.stringMatching(/^specsci train run \S+\/dose-a-anti25-fake-am-agent\.yaml$/),
    ]);
    expect(todo("c-anti50")?.commands[3]).toMatch(
      /^specsci aft mix \S+\/aft-rules-8 --anti \S+\/aft-selfish-8 --fraction 0\.5 --it \S+\/it\.jsonl --it-examples 2 --it-seed 5 --seed 0 -o \S+\/aft-rules-8-anti-selfish-50-it-/,
    );

    // `plan` lists each set once: the anti-spec set is shared, the mixes wait for their AFT sets.
    const p = planTrainedArms(loaded, client, graph);
    expect(
      p.data.map((d) => [
        relative(trainingDir(loaded), d.step.dir),
        d.state,
        d.calls > 0,
        d.itExamples ?? null,
      ]),
    ).toEqual([
      ["data/aft-rules-8", "to make", true, null],
      ["data/aft-selfish-8", "to make", true, null],
      ["data/aft-rules-8-anti-selfish-25", "waits for its AFT set", false, null],
      ["data/msm-values", "to make", true, null],
      [`data/aft-rules-8-it-${tag}`, "waits for its AFT set", false, 2],
      [`data/aft-rules-8-anti-selfish-25-it-${tag}`, "waits for its AFT set", false, 2],
      [`data/aft-rules-8-anti-selfish-50-it-${tag}`, "waits for its AFT set", false, 2],
    ]);
    expect(p.training.map((t) => t.arm)).toEqual(["a", "a-anti25", "c", "c-anti25", "c-anti50"]);
  });

  it("a dose arm's fingerprint has the anti-spec's content, the share and the seed", () => {
    const loaded = experiment(ARMS).load();
    const fp = (name: string, hashes: (n: string) => string = specHash) =>
      trainingFingerprint(
        loaded,
        loaded.experiment.arms.find((x) => x.name === name) as TrainedArm,
        "aft",
        "Qwen/Qwen3-8B",
        hashes,
      );
    const prints = ["a", "a-anti25", "c", "c-anti25", "c-anti50"].map((n) => fp(n));
    expect(new Set(prints).size).toBe(5);
    // An edited anti-spec retrains the dose arms only.
    const edited = (n: string) => (n === "selfish" ? "sha-selfish-2" : specHash(n));
    expect(fp("a", edited)).toBe(fp("a"));
    expect(fp("c", edited)).toBe(fp("c"));
    expect(fp("a-anti25", edited)).not.toBe(fp("a-anti25"));
    expect(fp("c-anti50", edited)).not.toBe(fp("c-anti50"));
    // Another seed of the choice is another model.
    const reseeded = experiment(
      ARMS.replace("fractions: [0.25] }", "fractions: [0.25], seed: 1 }"),
    ).load();
    const arm = reseeded.experiment.arms.find((x) => x.name === "a-anti25") as TrainedArm;
    expect(trainingFingerprint(reseeded, arm, "aft", "Qwen/Qwen3-8B", specHash)).not.toBe(
      fp("a-anti25"),
    );
  });
});
