import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadExperiment } from "../../src/experiment/config.js";
import { buildStages } from "../../src/experiment/stages.js";
import { writeTrainingPlans } from "../../src/experiment/training.js";
import { parseTrainPlan } from "../../src/train/plan.js";
import { cleanupTempDirs, makeClient, modelRecord, tempDir } from "../helpers.js";

afterAll(cleanupTempDirs);

const EXPERIMENT = (training = true) => `name: values-trained
specs: { rules: rules, values: value-augmented }
arms:
  - { name: base, kind: baseline }
  - { name: msm-values, kind: msm+aft, msm_spec: values, aft_spec: rules, aft_size: 2000 }
models: [fake/am-agent]
seeds: [0, 1]
evals: [{ task: agentic-misalignment, conditions: [leaking_explicit-america_replacement] }]
judge: { model: fake/am-judge }
${training ? 'training: { base_models: { "fake/am-agent": Qwen/Qwen3-8B }, endpoint: trained }\n' : ""}`;

describe("trained arms in experiments", () => {
  it("wait for their models, with a training plan and the commands that make them", async () => {
    const dir = tempDir("specsci-trained-arms-");
    writeFileSync(join(dir, "experiment.yaml"), EXPERIMENT());
    const loaded = loadExperiment(join(dir, "experiment.yaml"));
    const { client, store } = makeClient();
    const graph = await buildStages(loaded, client);
    expect(graph.stages.map((s) => s.key)).toEqual([
      "eval/base/fake/am-agent/am/seed-0",
      "eval/base/fake/am-agent/am/seed-1",
    ]);
    expect(graph.training.map((t) => [t.key, t.run, t.stage])).toEqual([
      [
        "eval/msm-values/fake/am-agent/am/seed-0",
        "train-values-trained-msm-values-fake-am-agent-seed0",
        "aft",
      ],
      [
        "eval/msm-values/fake/am-agent/am/seed-1",
        "train-values-trained-msm-values-fake-am-agent-seed1",
        "aft",
      ],
    ]);
    const [todo] = writeTrainingPlans(loaded, graph.training, graph.specs);
    const read = (file: string) => parseTrainPlan(readFileSync(file, "utf8"), file).plan;
    // The cell continues a shared MSM run (one per spec, model and seed), written beside it.
    const plan = read(todo?.file as string);
    expect(plan).toMatchObject({
      name: "values-trained-msm-values-fake-am-agent",
      base_model: "Qwen/Qwen3-8B",
      seeds: [0, 1],
      start_from: { plan: "values-trained.msm-values-fake-am-agent.yaml", stage: "msm" },
    });
    expect(plan.stages.map((s) => [s.name, s.kind, s.data, s.set, s.from_previous])).toEqual([
      ["aft", "aft", "data/aft-rules-2000", "reasoning", "adapter"],
    ]);
    const shared = read(
      join(dir, "values-trained-training", "values-trained.msm-values-fake-am-agent.yaml"),
    );
    expect(shared).toMatchObject({ seeds: [0, 1], base_model: "Qwen/Qwen3-8B" });
    expect(shared.stages.map((s) => [s.name, s.kind, s.data])).toEqual([
      ["msm", "midtraining", "data/msm-values"],
    ]);
    // Once training registers the model of seed 0 (from this plan), its eval stage runs on the
    // served model.
    const register = (origin: unknown) =>
      store.artifacts.put(
        "model:train-values-trained-msm-values-fake-am-agent-seed0:aft",
        "model",
        JSON.stringify(
          modelRecord("train-values-trained-msm-values-fake-am-agent-seed0/aft", origin),
        ),
        {},
      );
    register(plan.origin);
    const after = await buildStages(loaded, client);
    const trained = after.stages.find((s) => s.key === "eval/msm-values/fake/am-agent/am/seed-0");
    expect(trained?.model).toBe("trained/values-trained-msm-values-fake-am-agent-seed0-aft");
    expect(after.training).toHaveLength(1);
    // A model trained from other inputs (another AFT size here) is out of date: trained again.
    writeFileSync(
      join(dir, "experiment.yaml"),
      EXPERIMENT().replace("aft_size: 2000", "aft_size: 500"),
    );
    const changed = await buildStages(loadExperiment(join(dir, "experiment.yaml")), client);
    expect(changed.training.map((t) => [t.seed, t.stale ?? false])).toEqual([
      [0, true],
      [1, false],
    ]);
    // So is one with no record of what it was trained from.
    register(undefined);
    expect((await buildStages(loaded, client)).training[0]?.stale).toBe(true);
  });

  it("without a training section, a trained arm is refused by name", async () => {
    const dir = tempDir("specsci-trained-arms-");
    writeFileSync(join(dir, "experiment.yaml"), EXPERIMENT(false));
    const { client } = makeClient();
    await expect(buildStages(loadExperiment(join(dir, "experiment.yaml")), client)).rejects.toThrow(
      /arm "msm-values" \(kind msm\+aft\) needs a trained model: the experiment has no training: section/,
    );
  });
});

describe("experiment designs", () => {
  const load = (arms: string) => {
    const dir = tempDir("specsci-designs-");
    writeFileSync(
      join(dir, "e.yaml"),
      `name: d
specs: { r: rules, v: value-augmented, a: rule-augmented }
arms:
${arms}
models: [fake/am-agent]
evals: [{ task: agentic-misalignment }]
judge: { model: fake/am-judge }
training: { base_models: { "fake/am-agent": Qwen/Qwen3-8B } }
`,
    );
    return () => loadExperiment(join(dir, "e.yaml")).experiment.arms;
  };

  it("a cross grid becomes its MSM(X)+AFT(Y) cells, and a ladder one arm per size", () => {
    const arms =
      load(`  - { name: x, kind: cross, msm_specs: [r, v], aft_specs: [r, a], aft_sizes: [100, 400] }
  - { name: plain, kind: aft, aft_spec: v, reasoning: false }`)();
    expect(arms.map((a) => a.name)).toEqual([
      "x-r-r-n100",
      "x-r-r-n400",
      "x-r-a-n100",
      "x-r-a-n400",
      "x-v-r-n100",
      "x-v-r-n400",
      "x-v-a-n100",
      "x-v-a-n400",
      "plain",
    ]);
    expect(arms[6]).toMatchObject({
      kind: "msm+aft",
      msm_spec: "v",
      aft_spec: "a",
      aft_size: 100,
      reasoning: true,
      design: { from: "x", cross: true, ladder: true },
    });
    expect(arms[8]).toMatchObject({ kind: "aft", reasoning: false });
  });

  it("refuses unknown specs in a grid, two sizes at once, and names that collide once expanded", () => {
    expect(load("  - { name: x, kind: cross, msm_specs: [r, nope], aft_specs: [r] }")).toThrow(
      /arms\.0\.msm_specs\.1.*no spec named "nope"/,
    );
    expect(
      load("  - { name: l, kind: aft, aft_spec: r, aft_size: 5, aft_sizes: [5, 10] }"),
    ).toThrow(/give aft_size \(one size\) or aft_sizes \(a ladder\), not both/);
    expect(
      load(`  - { name: l, kind: aft, aft_spec: r, aft_sizes: [5] }
  - { name: l-n5, kind: baseline }`),
    ).toThrow(
      /arm name "l-n5" is used twice \(after cross grids, size ladders, anti-spec doses and preference series are expanded\)/,
    );
  });
});
