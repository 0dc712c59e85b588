/**
 * An experiment over several base-model families: one AFT set per turn format. A base of the
 * recipe's turn format keeps the set's directory and fingerprint of old (pinned below); a base of
 * another format trains on the same recipe in its family's template (`-<family>` directories,
 * mixes too), and `plan` counts that set's model calls once: it has the first set's id.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { SpecsciError } from "../../src/core/errors.js";
import { hashValue } from "../../src/core/hash.js";
import { loadExperiment, type TrainedArm } from "../../src/experiment/config.js";
import { buildStages } from "../../src/experiment/stages.js";
import { planTrainedArms } from "../../src/experiment/trained.js";
import {
  armData,
  trainingDir,
  trainingFingerprint,
  writeTrainingPlans,
} from "../../src/experiment/training.js";
import { parseTrainPlan } from "../../src/train/plan.js";
import { IT_CHATS } from "../fixtures/it-chats.js";
import { cleanupTempDirs, makeClient, tempDir } from "../helpers.js";

afterAll(cleanupTempDirs);

const QWEN = "Qwen/Qwen3-8B";
const LLAMA = "meta-llama/Llama-3.1-8B";

/** An experiment over `bases` (one model each), with `training` lines added. */
function experiment(bases: Record<string, string>, arms: string, training = "") {
  const dir = tempDir("specsci-families-");
  writeFileSync(join(dir, "it.jsonl"), `${IT_CHATS}\n`);
  writeFileSync(join(dir, "aft-llama.yaml"), "chat_template: llama3\n");
  const file = join(dir, "e.yaml");
  writeFileSync(
    file,
    `name: fam
specs: { rules: rules, values: value-augmented, selfish: anti-spec }
arms:
${arms}
models: [${Object.keys(bases).join(", ")}]
evals: [{ task: agentic-misalignment, conditions: [leaking_explicit-america_replacement] }]
judge: { model: fake/am-judge }
training:
  base_models: { ${Object.entries(bases)
    .map(([m, b]) => `"${m}": ${b}`)
    .join(", ")} }
${training}`,
  );
  return loadExperiment(file);
}

const specHash = (n: string) => `sha-${n}`;
const TWO = { "fake/qwen": QWEN, "fake/llama": LLAMA };

describe("one AFT set per turn format", () => {
  it("gives the Llama base its own sets (the dose mix follows) and leaves the Qwen ones as they were", () => {
    const loaded = experiment(
      TWO,
      `  - { name: plain, kind: aft, aft_spec: rules, aft_size: 8 }
  - { name: dose, kind: aft, aft_spec: rules, aft_size: 8, anti: { spec: selfish, fractions: [0.25] } }`,
    );
    const root = trainingDir(loaded);
    const dirs = (name: string, base: string) =>
      armData(loaded, loaded.experiment.arms.find((a) => a.name === name) as TrainedArm, base).map(
        (d) => [relative(root, d.dir), d.kind === "aft" ? (d.chatTemplate ?? null) : null],
      );
    expect(dirs("plain", QWEN)).toEqual([["data/aft-rules-8", null]]);
    expect(dirs("plain", LLAMA)).toEqual([["data/aft-rules-8-llama3", "llama3"]]);
    expect(dirs("dose-anti25", LLAMA)).toEqual([
      ["data/aft-rules-8-llama3", "llama3"],
      ["data/aft-selfish-8-llama3", "llama3"],
      ["data/aft-rules-8-llama3-anti-selfish-25", null],
    ]);
    // The Qwen fingerprint is built as before families were known; the Llama one names its template.
    const plain = loaded.experiment.arms.find((a) => a.name === "plain") as TrainedArm;
    const aft = { spec: "sha-rules", recipe: "", size: 8, reasoning: true };
    const common = (base: string) => ({ base, engine: "axolotl", hyperparameters: {} });
    expect(trainingFingerprint(loaded, plain, "aft", QWEN, specHash)).toBe(
      hashValue({ ...common(QWEN), aft }),
    );
    expect(trainingFingerprint(loaded, plain, "aft", LLAMA, specHash)).toBe(
      hashValue({ ...common(LLAMA), aft: { ...aft, chat_template: "llama3" } }),
    );
  });

  it("keeps the pinned directories and fingerprints of Qwen arms when a Llama model is added", () => {
    // The pins of test/experiment/anti-arms.test.ts (computed on main before anti-spec arms).
    const loaded = experiment(
      TWO,
      `  - { name: plain, kind: aft, aft_spec: rules, aft_size: 8, it: false }
  - { name: cell, kind: msm+aft, msm_spec: values, aft_spec: rules, reasoning: false }`,
      "  it: { files: [it.jsonl], examples: 2, seed: 5 }\n",
    );
    const arm = (n: string) => loaded.experiment.arms.find((a) => a.name === n) as TrainedArm;
    expect(trainingFingerprint(loaded, arm("plain"), "aft", QWEN, specHash)).toBe(
      "3fcfdb7d8d412c2c24fb7c499acd3d1f7403f922b8260c4537a718974582220e",
    );
    expect(trainingFingerprint(loaded, arm("cell"), "msm", QWEN, specHash)).toBe(
      "4a5b9b53c25ebeeba2b6778f55009f4f85376b1493d069e2aa983a39c50a043f",
    );
    // MSM corpora are plain documents: one per spec, whatever the family; the mix follows the set.
    expect(
      armData(loaded, arm("cell"), LLAMA).map((d) => relative(trainingDir(loaded), d.dir)),
    ).toEqual(["data/msm-values", "data/aft-rules-llama3", "data/aft-rules-llama3-it-792b505c"]);
  });

  it("writes each model's plan on its own set, and plans the second set's calls as the first's", async () => {
    const loaded = experiment(TWO, "  - { name: plain, kind: aft, aft_spec: rules, aft_size: 8 }");
    const { client } = makeClient();
    const graph = await buildStages(loaded, client);
    const todos = writeTrainingPlans(loaded, graph.training, graph.specs);
    const planData = todos.map((t) => {
      const p = parseTrainPlan(readFileSync(t.file, "utf8"), t.file).plan;
      return [p.base_model, p.stages[0]?.data];
    });
    expect(planData).toEqual([
      [QWEN, "data/aft-rules-8"],
      [LLAMA, "data/aft-rules-8-llama3"],
    ]);
    expect(todos[1]?.commands[0]).toMatch(
      /^specsci aft generate rules --examples 8 --chat-template llama3 -o .*aft-rules-8-llama3$/,
    );
    const plan = planTrainedArms(loaded, client, graph);
    const [qwen, llama] = plan.data;
    expect(qwen).toMatchObject({ state: "to make" });
    expect(qwen?.sharesCallsWith).toBeUndefined();
    expect(qwen?.calls).toBeGreaterThan(0);
    expect(llama).toMatchObject({
      state: "to make",
      calls: 0,
      costExpected: 0,
      sharesCallsWith: qwen?.step.dir,
    });
  });

  it("counts sets of other sizes (other calls) on their own, and a recipe in Llama's format turns the suffix round", async () => {
    const loaded = experiment(
      TWO,
      "  - { name: ladder, kind: aft, aft_spec: rules, aft_sizes: [4, 8] }",
      "  data: { aft: aft-llama.yaml }\n",
    );
    const { client } = makeClient();
    const graph = await buildStages(loaded, client);
    const plan = planTrainedArms(loaded, client, graph);
    expect(
      plan.data.map((d) => [relative(trainingDir(loaded), d.step.dir), d.sharesCallsWith ?? null]),
    ).toEqual([
      ["data/aft-rules-4-qwen3", null],
      ["data/aft-rules-4", join(trainingDir(loaded), "data/aft-rules-4-qwen3")],
      ["data/aft-rules-8-qwen3", null],
      ["data/aft-rules-8", join(trainingDir(loaded), "data/aft-rules-8-qwen3")],
    ]);
  });

  it("shares one set between bases of one turn format (Qwen3 and Qwen2.5: ChatML)", () => {
    const loaded = experiment(
      { "fake/q3": QWEN, "fake/q25": "Qwen/Qwen2.5-7B-Instruct" },
      "  - { name: plain, kind: aft, aft_spec: rules }",
    );
    const arm = loaded.experiment.arms[0] as TrainedArm;
    for (const base of [QWEN, "Qwen/Qwen2.5-7B-Instruct"])
      expect(armData(loaded, arm, base).map((d) => relative(trainingDir(loaded), d.dir))).toEqual([
        "data/aft-rules",
      ]);
  });

  it("refuses at plan a base axolotl cannot place in a family, and leaves it to Together", async () => {
    const arms = "  - { name: plain, kind: aft, aft_spec: rules }";
    const local = { "fake/mine": "/models/my-copy" };
    const { client } = makeClient();
    const refused = experiment(local, arms);
    const graph = await buildStages(refused, client);
    const refusal = (() => {
      try {
        planTrainedArms(refused, client, graph);
      } catch (e) {
        return e as SpecsciError;
      }
    })();
    expect(refusal?.message).toMatch(
      /^training\.base_models\.fake\/mine in .*e\.yaml: "\/models\/my-copy" is not a known base-model family/,
    );
    expect(refusal?.hint).toContain('training.base_families: { "/models/my-copy": <family> }');
    const together = experiment(local, arms, "  engine: together\n");
    const planned = planTrainedArms(together, client, await buildStages(together, client));
    expect(planned.data.map((d) => relative(trainingDir(together), d.step.dir))).toEqual([
      "data/aft-rules",
    ]);
  });
});

describe("training.base_families", () => {
  const arms = "  - { name: plain, kind: aft, aft_spec: rules }";
  const local = { "fake/qwen": QWEN, "fake/mine": "/models/llama-copy" };

  it("names the family of a base whose name says none: its own set, and base_family in its plan", async () => {
    const loaded = experiment(local, arms, '  base_families: { "/models/llama-copy": llama3 }\n');
    const { client } = makeClient();
    const graph = await buildStages(loaded, client);
    const todos = writeTrainingPlans(loaded, graph.training, graph.specs);
    const plans = todos.map((t) => parseTrainPlan(readFileSync(t.file, "utf8"), t.file).plan);
    expect(plans.map((p) => [p.base_model, p.base_family, p.stages[0]?.data])).toEqual([
      [QWEN, undefined, "data/aft-rules"],
      ["/models/llama-copy", "llama3", "data/aft-rules-llama3"],
    ]);
    const arm = loaded.experiment.arms[0] as TrainedArm;
    const aft = { spec: "sha-rules", recipe: "", size: null, reasoning: true };
    expect(trainingFingerprint(loaded, arm, "aft", "/models/llama-copy", specHash)).toBe(
      hashValue({
        base: "/models/llama-copy",
        base_family: "llama3",
        engine: "axolotl",
        hyperparameters: {},
        aft: { ...aft, chat_template: "llama3" },
      }),
    );
    expect(planTrainedArms(loaded, client, graph).data.map((d) => d.sharesCallsWith)).toEqual([
      undefined,
      join(trainingDir(loaded), "data/aft-rules"),
    ]);
  });

  it("leaves fingerprints and plans as they were when it names a base's own family", async () => {
    const plain = experiment(TWO, arms);
    const named = experiment(TWO, arms, `  base_families: { "${LLAMA}": llama3 }\n`);
    const arm = (l: typeof plain) => l.experiment.arms[0] as TrainedArm;
    expect(trainingFingerprint(named, arm(named), "aft", LLAMA, specHash)).toBe(
      trainingFingerprint(plain, arm(plain), "aft", LLAMA, specHash),
    );
    const { client } = makeClient();
    const graph = await buildStages(named, client);
    const [, todo] = writeTrainingPlans(named, graph.training, graph.specs);
    expect(parseTrainPlan(readFileSync(todo?.file as string, "utf8"), "p").plan.base_family).toBe(
      undefined,
    );
  });

  it("refuses an unknown family id and a key that is no base, naming the setting and the families", () => {
    expect(() =>
      experiment(local, arms, '  base_families: { "/models/llama-copy": llama4 }\n'),
    ).toThrow(
      /training\.base_families\.\/models\/llama-copy.*unknown base family "llama4": use one of qwen2\.5, qwen3, llama3, gemma3, olmo2, mistral, mistral-small/s,
    );
    expect(() => experiment(local, arms, "  base_families: { fake/mine: llama3 }\n")).toThrow(
      /training\.base_families\.fake\/mine.*"fake\/mine" is not a base in training\.base_models \(bases: Qwen\/Qwen3-8B, \/models\/llama-copy\); base_families is keyed by the base, not the model/s,
    );
  });
});
