/**
 * The `paper` preset: it fills the MSM paper's values where the file leaves them out (the file's
 * own always win), lists each value it set, adds the paper's arms, and builds the
 * agentic-misalignment eval without a scratchpad for reasoning models only.
 */
import { copyFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadExperiment } from "../../src/experiment/config.js";
import { applyPreset, PAPER_JUDGE, PAPER_LADDER } from "../../src/experiment/preset.js";
import { buildStages } from "../../src/experiment/stages.js";
import { planTrainedArms } from "../../src/experiment/trained.js";
import { cleanupTempDirs, makeClient, ROOT, tempDir } from "../helpers.js";

afterAll(cleanupTempDirs);

function experimentFile(body: string) {
  const dir = tempDir("specsci-preset-");
  copyFileSync(join(ROOT, "examples", "sample-data", "it-sample.jsonl"), join(dir, "it.jsonl"));
  const file = join(dir, "e.yaml");
  writeFileSync(file, body);
  return file;
}

describe("applyPreset", () => {
  it("fills only what the file leaves out, and records each value it set", () => {
    const raw = {
      name: "x",
      preset: "paper",
      seeds: [7],
      arms: [{ name: "a", kind: "aft", aft_spec: "rules" }],
      evals: [{ task: "am", epochs: 5 }, { task: "mcq" }],
      training: { hyperparameters: { sequence_len: 2048 } },
    };
    const { raw: out, preset } = applyPreset(raw, "e.yaml");
    const e = out as Record<string, unknown>;
    expect(e.preset).toBeUndefined();
    expect(e.seeds).toEqual([7]);
    expect(e.judge).toEqual({ model: PAPER_JUDGE });
    expect(e.evals).toEqual([
      { task: "am", epochs: 5, temperature: 0.7, toggles: { scratchpad: "auto" } },
      { task: "mcq" },
    ]);
    expect((e.training as { hyperparameters: unknown }).hyperparameters).toEqual({
      sequence_len: 2048,
    });
    const paths = preset?.values.map((v) => v.path) ?? [];
    expect(paths).not.toContain("seeds");
    expect(paths).not.toContain("evals.0.epochs");
    expect(paths).not.toContain("training.hyperparameters.sequence_len");
    expect(paths).toContain("evals.0.temperature");
    expect(paths).toContain("training.base_models.vllm/Qwen/Qwen3-14B");
    // No IT data named: no it-only baseline, and a note saying what to add.
    expect(preset?.notes.join(" ")).toMatch(/training\.it/);
    const arms = (e.arms as { name: string }[]).map((a) => a.name);
    expect(arms).toEqual([
      "a",
      "ladder-aft",
      "ladder-msm+aft",
      "dose-aft",
      "dose-msm+aft",
      "a-nocot",
      "ladder-aft-nocot",
      "ladder-msm+aft-nocot",
      "dose-aft-nocot",
      "dose-msm+aft-nocot",
    ]);
    // The input is not changed.
    expect(raw.arms).toHaveLength(1);
    expect(raw.preset).toBe("paper");
  });

  it("leaves parts out with without:, and keeps an arm that sets reasoning as it is", () => {
    const { raw: out } = applyPreset(
      {
        preset: { name: "paper", without: ["ladder", "anti-spec"] },
        arms: [
          { name: "cot", kind: "aft", aft_spec: "rules", reasoning: true },
          { name: "g", kind: "cross", msm_specs: ["rules"], aft_specs: ["rules"] },
          { name: "p", kind: "prompted", spec: "rules" },
        ],
        training: { it: { files: ["it.jsonl"] } },
      },
      "e.yaml",
    );
    const e = out as { arms: { name: string }[]; specs: Record<string, unknown> };
    expect(e.arms.map((a) => a.name)).toEqual(["cot", "g", "p", "it-baseline", "g-nocot"]);
    expect(e.specs).toEqual({});
  });

  it("says what is wrong with a preset it does not know", () => {
    expect(() => applyPreset({ preset: "papr" }, "e.yaml")).toThrow(/e\.yaml: preset: .*paper/);
    expect(() => applyPreset({ preset: { name: "paper", without: ["lader"] } }, "e.yaml")).toThrow(
      /preset:/,
    );
  });
});

describe("an experiment with preset: paper", () => {
  it("loads, lists what it set, and gives reasoning models no scratchpad", async () => {
    const file = experimentFile(`name: p
preset: { name: paper, without: [ladder, anti-spec, no-cot] }
specs: { rules: rules }
arms:
  - { name: base, kind: baseline }
  - { name: aft, kind: aft, aft_spec: rules }
models: [vllm/Qwen/Qwen3-14B, vllm/Qwen/Qwen2.5-14B-Instruct]
seeds: [0, 1]
evals:
  - { task: am, conditions: [leaking_explicit-america_replacement], epochs: 1 }
  - { task: mcq, limit: 1 }
training:
  it: { files: [it.jsonl] }
`);
    const loaded = loadExperiment(file);
    const e = loaded.experiment;
    expect(e.arms.map((a) => a.name)).toEqual(["base", "aft", "it-baseline"]);
    expect(e.training?.hyperparameters.sequence_len).toBe(8192);
    expect(e.training?.base_models).toEqual({
      "vllm/Qwen/Qwen3-14B": "Qwen/Qwen3-14B",
      "vllm/Qwen/Qwen2.5-14B-Instruct": "Qwen/Qwen2.5-14B-Instruct",
    });
    expect(e.judge.model).toBe(PAPER_JUDGE);
    expect(loaded.preset?.values.map((v) => v.path)).toEqual([
      "judge",
      "evals.0.temperature",
      "evals.0.toggles.scratchpad",
      "training.hyperparameters.sequence_len",
      "training.base_models.vllm/Qwen/Qwen3-14B",
      "training.base_models.vllm/Qwen/Qwen2.5-14B-Instruct",
      "arms.2",
    ]);
    const { client } = makeClient();
    const graph = await buildStages(loaded, client);
    const system = (model: string) =>
      graph.stages.find((s) => s.model === model)?.task.dataset[0]?.input[0]?.content ?? "";
    expect(system("vllm/Qwen/Qwen2.5-14B-Instruct")).toContain("<scratchpad>");
    expect(system("vllm/Qwen/Qwen3-14B")).not.toContain("<scratchpad>");
    // Trained arms wait for models of both kinds; their bases decide the scratchpad later.
    expect(new Set(graph.training.map((t) => t.base))).toEqual(
      new Set(["Qwen/Qwen3-14B", "Qwen/Qwen2.5-14B-Instruct"]),
    );
    // Each plan trains each seed once, though both evals wait for it.
    const plans = planTrainedArms(loaded, client, graph).training;
    expect(plans).toHaveLength(4);
    for (const p of plans) expect(p.seeds).toEqual([0, 1]);
  });

  it("adds the ladder at the paper's sizes", () => {
    const file = experimentFile(`name: l
preset: { name: paper, without: [anti-spec, no-cot] }
arms: [{ name: base, kind: baseline }]
`);
    const arms = loadExperiment(file).experiment.arms.map((a) => a.name);
    expect(arms).toEqual([
      "base",
      ...PAPER_LADDER.map((n) => `ladder-aft-n${n}`),
      ...PAPER_LADDER.map((n) => `ladder-msm+aft-n${n}`),
    ]);
  });
});
