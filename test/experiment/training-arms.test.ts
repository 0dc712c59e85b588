import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadExperiment } from "../../src/experiment/config.js";
import { buildStages } from "../../src/experiment/stages.js";
import { writeTrainingPlans } from "../../src/experiment/training.js";
import { parseTrainPlan } from "../../src/train/plan.js";
import { cleanupTempDirs, makeClient, tempDir } from "../helpers.js";

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
    const plan = parseTrainPlan(
      readFileSync(todo?.file as string, "utf8"),
      todo?.file as string,
    ).plan;
    expect(plan).toMatchObject({
      name: "values-trained-msm-values-fake-am-agent",
      base_model: "Qwen/Qwen3-8B",
      seeds: [0, 1],
    });
    expect(plan.stages.map((s) => [s.name, s.kind, s.data])).toEqual([
      ["msm", "midtraining", "data/msm-values"],
      ["aft", "aft", "data/aft-rules-2000"],
    ]);
    expect(todo?.commands[0]).toMatch(
      /^specsci msm generate value-augmented -o .*data\/msm-values$/,
    );
    expect(todo?.commands[1]).toMatch(/--examples 2000 -o .*data\/aft-rules-2000$/);

    // Once training registers the model of seed 0, its eval stage runs on the served model.
    store.artifacts.put(
      "model:train-values-trained-msm-values-fake-am-agent-seed0:aft",
      "model",
      JSON.stringify({ id: "train-values-trained-msm-values-fake-am-agent-seed0/aft" }),
      {},
    );
    const after = await buildStages(loaded, client);
    const trained = after.stages.find((s) => s.key === "eval/msm-values/fake/am-agent/am/seed-0");
    expect(trained?.model).toBe("trained/values-trained-msm-values-fake-am-agent-seed0-aft");
    expect(after.training).toHaveLength(1);
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
