/**
 * Instruction-tuning (IT) data in experiments: `it:` on AFT arms and under `training:`, the
 * `it-only` arm (the MSM paper's baseline), their data steps, plans and fingerprints, and the
 * errors a user can make with them.
 */
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type Arm, loadExperiment } from "../../src/experiment/config.js";
import { buildStages } from "../../src/experiment/stages.js";
import { planTrainedArms } from "../../src/experiment/trained.js";
import { armData, writeTrainingPlans } from "../../src/experiment/training.js";
import { armPairs } from "../../src/report/arm-pairs.js";
import { parseTrainPlan } from "../../src/train/plan.js";
import { cleanupTempDirs, makeClient, modelRecord, ROOT, tempDir } from "../helpers.js";

afterAll(cleanupTempDirs);

const SAMPLE = join(ROOT, "examples", "sample-data", "it-sample.jsonl");

/** An experiment in a fresh directory holding the shipped IT sample as `it.jsonl`. */
function experiment(arms: string, training = "") {
  const dir = tempDir("specsci-it-arms-");
  copyFileSync(SAMPLE, join(dir, "it.jsonl"));
  const file = join(dir, "e.yaml");
  writeFileSync(
    file,
    `name: itx
specs: { rules: rules, values: value-augmented }
arms:
${arms}
models: [fake/am-agent]
evals: [{ task: agentic-misalignment, conditions: [leaking_explicit-america_replacement] }]
judge: { model: fake/am-judge }
training:
  base_models: { "fake/am-agent": Qwen/Qwen3-8B }
${training}`,
  );
  return { dir, file, load: () => loadExperiment(file) };
}

describe("it: in the experiment file", () => {
  it("training.it is every AFT arm's IT data and an it-only arm's; an arm's own replaces it, it: false drops it", () => {
    const { load } = experiment(
      `  - { name: base, kind: baseline }
  - { name: it-base, kind: it-only }
  - { name: m, kind: msm, msm_spec: values }
  - { name: a, kind: aft, aft_spec: rules }
  - { name: own, kind: aft, aft_spec: rules, it: { files: [it.jsonl], examples: 5, seed: 3 } }
  - { name: none, kind: aft, aft_spec: rules, it: false }
  - { name: g, kind: cross, msm_specs: [values], aft_specs: [rules], aft_sizes: [10, 20] }`,
      "  it: { files: [it.jsonl], fraction: 0.5 }\n",
    );
    const arms = load().experiment.arms;
    const itOf = (name: string) => (arms.find((a) => a.name === name) as { it?: unknown }).it;
    const shared = { files: ["it.jsonl"], fraction: 0.5, seed: 0 };
    expect(itOf("it-base")).toEqual(shared);
    expect(itOf("a")).toEqual(shared);
    expect(itOf("g-values-rules-n10")).toEqual(shared);
    expect(itOf("g-values-rules-n20")).toEqual(shared);
    expect(itOf("own")).toEqual({ files: ["it.jsonl"], examples: 5, seed: 3 });
    expect(itOf("none")).toBeUndefined();
    expect(itOf("m")).toBeUndefined(); // MSM has no AFT stage to mix into
    expect(itOf("base")).toBeUndefined();
  });

  it("refuses a fraction out of range, a count and a share at once, IT on an arm without AFT, and an it-only arm with no IT data", () => {
    const bad = (arms: string, training = "") => experiment(arms, training).load;
    expect(
      bad("  - { name: a, kind: aft, aft_spec: rules, it: { files: [it.jsonl], fraction: 1.5 } }"),
    ).toThrow(/arms\.0\.it\.fraction.*above 0 and at most 1 \(got 1\.5\)/s);
    expect(
      bad("  - { name: a, kind: it-only }", "  it: { files: [it.jsonl], fraction: 0 }\n"),
    ).toThrow(/training\.it\.fraction.*above 0 and at most 1 \(got 0\)/s);
    expect(
      bad(
        "  - { name: a, kind: aft, aft_spec: rules, it: { files: [it.jsonl], examples: 3, fraction: 0.5 } }",
      ),
    ).toThrow(/give examples \(a count\) or fraction/);
    expect(bad("  - { name: m, kind: msm, msm_spec: values, it: { files: [it.jsonl] } }")).toThrow(
      /arms\.0\.it.*arm "m" \(kind msm\) has no AFT stage to train IT data with: remove it, or use kind aft, msm\+aft or it-only/s,
    );
    expect(bad("  - { name: b, kind: baseline, it: { files: [it.jsonl] } }")).toThrow(
      /arm "b" \(kind baseline\) has no AFT stage/,
    );
    expect(bad("  - { name: i, kind: it-only }")).toThrow(
      /arm "i" \(kind it-only\) trains on instruction-tuning data alone: give it: \{ files: \[\.\.\.\] \} here or under training:/,
    );
  });
});

describe("IT data in the stage graph and the training plans", () => {
  const ARMS = `  - { name: base, kind: baseline }
  - { name: it-base, kind: it-only }
  - { name: cell, kind: msm+aft, msm_spec: values, aft_spec: rules, aft_size: 8 }
  - { name: plain, kind: aft, aft_spec: rules, aft_size: 8, it: false }`;
  const TRAINING = "  it: { files: [it.jsonl], examples: 12, seed: 7 }\n";

  it("an it-only arm trains one IT stage; an AFT arm with IT trains on its AFT set with the IT data mixed in", async () => {
    const { dir, load } = experiment(ARMS, TRAINING);
    const loaded = load();
    const { client } = makeClient();
    const graph = await buildStages(loaded, client);
    expect(graph.training.map((t) => [t.arm, t.plan, t.stage, t.parent ?? null])).toEqual([
      ["it-base", "itx-it-base-fake-am-agent", "it", null],
      ["cell", "itx-cell-fake-am-agent", "aft", "itx.msm-values-fake-am-agent"],
      ["plain", "itx-plain-fake-am-agent", "aft", null],
    ]);
    const arm = (name: string) => loaded.experiment.arms.find((a) => a.name === name) as never;
    const steps = (name: string) =>
      armData(loaded, arm(name)).map((d) => [d.kind, d.dir.split("/").at(-1)]);
    const [itOnly] = armData(loaded, arm("it-base"));
    const tag = itOnly?.dir.split("-").at(-1) as string;
    expect(steps("it-base")).toEqual([["mix", `it-${tag}`]]);
    // The same IT settings: the same tag, mixed into the cell's AFT set.
    expect(steps("cell")).toEqual([
      ["msm", "msm-values"],
      ["aft", "aft-rules-8"],
      ["mix", `aft-rules-8-it-${tag}`],
    ]);
    expect(steps("plain")).toEqual([["aft", "aft-rules-8"]]);

    const todos = writeTrainingPlans(loaded, graph.training, graph.specs);
    const plan = (name: string) => {
      const todo = todos.find((t) => t.arm.name === name);
      return {
        plan: parseTrainPlan(readFileSync(todo?.file as string, "utf8"), todo?.file as string).plan,
        commands: todo?.commands ?? [],
      };
    };
    const base = plan("it-base");
    expect(base.plan.stages.map((s) => [s.name, s.kind, s.data, s.set])).toEqual([
      ["it", "aft", `data/it-${tag}`, "reasoning"],
    ]);
    expect(base.plan.start_from).toBeUndefined();
    expect(base.commands[0]).toMatch(
      new RegExp(
        `^specsci aft mix --it \\S+/it\\.jsonl --it-examples 12 --seed 7 -o \\S+/it-${tag}$`,
      ),
    );
    const cell = plan("cell");
    expect(cell.plan.stages.map((s) => [s.name, s.data])).toEqual([
      ["aft", `data/aft-rules-8-it-${tag}`],
    ]);
    expect(cell.commands[2]).toMatch(/^specsci aft mix \S+\/aft-rules-8 --it \S+\/it\.jsonl/);
    expect(plan("plain").plan.stages[0]?.data).toBe("data/aft-rules-8");

    // `plan` lists the IT steps: the mix waits for its AFT set; the IT-only set is to make.
    const p = planTrainedArms(loaded, client, graph);
    const state = (d: (typeof p.data)[number]) => [
      d.step.dir.split("/").at(-1),
      d.state,
      d.calls,
      d.itExamples ?? null,
    ];
    expect(p.data.map(state)).toEqual([
      [`it-${tag}`, "to make", 0, 12],
      ["msm-values", "to make", expect.any(Number), null],
      ["aft-rules-8", "to make", expect.any(Number), null],
      [`aft-rules-8-it-${tag}`, "waits for its AFT set", 0, 12],
    ]);
    expect(p.training.map((t) => t.arm)).toEqual(["it-base", "cell", "plain"]);
    expect(dir).toBeTruthy();
  });

  it("the IT files' content is in the fingerprint: editing one makes its models out of date", async () => {
    const { dir, load } = experiment(ARMS, TRAINING);
    const { client, store } = makeClient();
    const loaded = load();
    const graph = await buildStages(loaded, client);
    const todos = writeTrainingPlans(loaded, graph.training, graph.specs);
    // Register every trained model as its plan wrote it: nothing waits any more.
    for (const todo of todos) {
      const plan = parseTrainPlan(readFileSync(todo.file, "utf8"), todo.file).plan;
      const stage = plan.stages.at(-1)?.name as string;
      store.artifacts.put(
        `model:train-${todo.plan}-seed0:${stage}`,
        "model",
        JSON.stringify(modelRecord(`train-${todo.plan}-seed0/${stage}`, plan.origin)),
        {},
      );
    }
    expect((await buildStages(load(), client)).training).toEqual([]);
    // One chat edited: the arms trained on it (it-only, the cell) retrain; the arm without IT not.
    const file = join(dir, "it.jsonl");
    writeFileSync(file, readFileSync(file, "utf8").replace("Canberra", "Canberra, in the ACT"));
    const edited = await buildStages(load(), client);
    expect(edited.training.map((t) => [t.arm, t.stale])).toEqual([
      ["it-base", true],
      ["cell", true],
    ]);
  });

  it("names a missing IT file, a malformed line (file:line) and a count larger than the files hold", async () => {
    const { client } = makeClient();
    const graphOf = (training: string, write?: (dir: string) => void) => {
      const { dir, load } = experiment("  - { name: i, kind: it-only }", training);
      write?.(dir);
      return buildStages(load(), client);
    };
    await expect(graphOf("  it: { files: [nope.jsonl] }\n")).rejects.toThrow(
      /nope\.jsonl.*it\.files in .*e\.yaml/s,
    );
    await expect(
      graphOf("  it: { files: [it.jsonl, bad.jsonl] }\n", (dir) =>
        writeFileSync(
          join(dir, "bad.jsonl"),
          `${JSON.stringify({ messages: [{ role: "user", content: "hi" }] })}\n{"messages": [{"role": "robot", "content": "x"}]}\n`,
        ),
      ),
    ).rejects.toThrow(/bad\.jsonl:2: messages\.0\.role/);
    await expect(
      graphOf("  it: { files: [it.jsonl, bad.jsonl] }\n", (dir) =>
        writeFileSync(join(dir, "bad.jsonl"), "{not json\n"),
      ),
    ).rejects.toThrow(/bad\.jsonl:1: not JSON/);
    await expect(graphOf("  it: { files: [it.jsonl], examples: 41 }\n")).rejects.toThrow(
      /examples is 41, and the IT files hold 40/,
    );
  });
});

describe("comparisons with an it-only arm", () => {
  it("it-only is the reference of spec arms, and the bare baseline the reference of it-only", () => {
    const it = { files: ["it.jsonl"], seed: 0 };
    const arms: Arm[] = [
      { name: "cell", kind: "msm+aft", msm_spec: "r", aft_spec: "r", reasoning: true, it },
      { name: "it-base", kind: "it-only", it },
      { name: "bare", kind: "baseline" },
      { name: "aft", kind: "aft", aft_spec: "r", reasoning: true, it },
    ];
    expect(armPairs(arms).map(([a, b]) => `${a.name} vs ${b.name}`)).toEqual([
      "cell vs it-base",
      "cell vs bare",
      "cell vs aft",
      "it-base vs bare",
      "aft vs it-base",
      "aft vs bare",
    ]);
  });
});
