/**
 * An arm's own MSM recipe (`msm_recipe:`): its corpus, MSM run and fingerprint are its recipe's,
 * every other arm stays as without it (directories, plan names, plan files, fingerprints), and
 * the errors a user can make with it.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type Arm, loadExperiment } from "../../src/experiment/config.js";
import { buildStages } from "../../src/experiment/stages.js";
import { planTrainedArms } from "../../src/experiment/trained.js";
import { armData, trainingFingerprint, writeTrainingPlans } from "../../src/experiment/training.js";
import { armPairs } from "../../src/report/arm-pairs.js";
import { armFactors } from "../../src/report/results.js";
import { cleanupTempDirs, makeClient, tempDir } from "../helpers.js";

afterAll(cleanupTempDirs);

const RECIPE =
  "model: fake/msm-writer\ncounts: { domains: 1, subdomains: 1, assertions: 2, doc_types: 2, ideas: 3 }\n";
const STATED = `${RECIPE}knobs: { training_purpose: { mode: stated, share: 0.5 } }\n`;
const PLAIN_ARMS = `  - { name: m, kind: msm, msm_spec: rules }
  - { name: plain, kind: msm+aft, msm_spec: rules, aft_spec: rules }`;

/** An experiment in a fresh directory with the shared recipe (msm.yaml) and a stated one. */
function experiment(arms: string, data = "{ msm: msm.yaml }") {
  const dir = tempDir("specsci-msm-recipe-");
  writeFileSync(join(dir, "msm.yaml"), RECIPE);
  writeFileSync(join(dir, "stated.yaml"), STATED);
  const file = join(dir, "e.yaml");
  writeFileSync(
    file,
    `name: rx
specs: { rules: rules, values: value-augmented }
arms:
${arms}
models: [fake/am-agent]
evals: [{ task: agentic-misalignment, conditions: [leaking_explicit-america_replacement] }]
judge: { model: fake/am-judge }
training:
  base_models: { "fake/am-agent": Qwen/Qwen3-8B }
  data: ${data}
`,
  );
  return { dir, load: () => loadExperiment(file) };
}

/** What the trained arms come to: runs, data, fingerprints, plan files and commands (dir-free). */
async function trainedView(dir: string, loaded: ReturnType<typeof loadExperiment>) {
  const { client } = makeClient();
  const graph = await buildStages(loaded, client);
  const hash = (n: string) => graph.specs.find((s) => s.name === n)?.hash;
  // Commands name paths relative to the working directory, which may or may not spell out `dir`.
  const rel = (p: string) =>
    p.replaceAll(dir, "<dir>").replaceAll(relative(process.cwd(), dir), "<dir>");
  const arms = loaded.experiment.arms.filter((a) => a.kind !== "baseline");
  const todos = writeTrainingPlans(loaded, graph.training, graph.specs);
  return {
    graph,
    runs: graph.training.map((t) => [t.arm, t.plan, t.stage, t.parent ?? null]),
    arms: Object.fromEntries(
      arms.map((a) => [
        a.name,
        {
          data: armData(loaded, a as never).map((d) => rel(d.dir)),
          fingerprints: (["msm", "aft"] as const).map((part) =>
            trainingFingerprint(loaded, a as never, part, "Qwen/Qwen3-8B", hash),
          ),
        },
      ]),
    ),
    plans: Object.fromEntries(
      todos.map((t) => [
        t.arm.name,
        { file: readFileSync(t.file, "utf8"), commands: t.commands.map(rel) },
      ]),
    ),
  };
}

describe("msm_recipe on an arm", () => {
  it("gives the arm its own corpus and MSM run; the arms without it stay as they were", async () => {
    const before = experiment(PLAIN_ARMS);
    const without = await trainedView(before.dir, before.load());
    const after = experiment(
      `${PLAIN_ARMS}\n  - { name: aware, kind: msm+aft, msm_spec: rules, msm_recipe: stated.yaml, aft_spec: rules }`,
    );
    const loaded = after.load();
    const withOwn = await trainedView(after.dir, loaded);
    // The arms without it: the same runs, directories, fingerprints, plan files and commands.
    expect(without.runs).toEqual([
      ["m", "rx.msm-rules-fake-am-agent", "msm", null],
      ["plain", "rx-plain-fake-am-agent", "aft", "rx.msm-rules-fake-am-agent"],
    ]);
    expect(withOwn.runs.slice(0, 2)).toEqual(without.runs);
    expect(without.arms.plain?.data).toEqual([
      "<dir>/rx-training/data/msm-rules",
      "<dir>/rx-training/data/aft-rules",
    ]);
    for (const name of ["m", "plain"]) {
      expect(withOwn.arms[name]).toEqual(without.arms[name]);
      expect(withOwn.plans[name]).toEqual(without.plans[name]);
    }
    // The arm with it: its recipe's corpus and MSM run, continued by its own AFT.
    expect(withOwn.runs[2]).toEqual([
      "aware",
      "rx-aware-fake-am-agent",
      "aft",
      "rx.msm.stated.rules-fake-am-agent",
    ]);
    const aware = withOwn.arms.aware;
    expect(aware?.data).toEqual([
      "<dir>/rx-training/data/msm.stated.rules",
      "<dir>/rx-training/data/aft-rules",
    ]);
    expect(aware?.fingerprints[0]).not.toBe(withOwn.arms.plain?.fingerprints[0]);
    expect(aware?.fingerprints[1]).not.toBe(withOwn.arms.plain?.fingerprints[1]);
    expect(withOwn.plans.aware?.commands[0]).toMatch(
      /^specsci msm generate \S+ -r \S*<dir>\/stated\.yaml -o \S*msm\.stated\.rules$/,
    );
    const msmPlan = readFileSync(
      join(after.dir, "rx-training", "rx.msm.stated.rules-fake-am-agent.yaml"),
      "utf8",
    );
    expect(msmPlan).toContain("MSM on spec rules with recipe stated.yaml");
    expect(msmPlan).toContain("data: data/msm.stated.rules");
    // Both corpora are planned, each from its recipe (the stated one is not the same corpus).
    const { client } = makeClient();
    const plan = planTrainedArms(loaded, client, withOwn.graph);
    expect(plan.data.map((d) => [d.step.dir.split("/").at(-1), d.state])).toEqual([
      ["msm-rules", "to make"],
      ["aft-rules", "to make"],
      ["msm.stated.rules", "to make"],
    ]);
  });

  it("an edited own recipe retrains its arm only; naming the shared recipe is as without it", async () => {
    const { dir, load } = experiment(
      `${PLAIN_ARMS}\n  - { name: aware, kind: msm, msm_spec: rules, msm_recipe: stated.yaml }\n  - { name: same, kind: msm, msm_spec: values, msm_recipe: ./msm.yaml }`,
    );
    const first = await trainedView(dir, load());
    writeFileSync(join(dir, "stated.yaml"), `${STATED}seed: 7\n`);
    const edited = await trainedView(dir, load());
    expect(edited.arms.aware?.fingerprints).not.toEqual(first.arms.aware?.fingerprints);
    for (const name of ["m", "plain", "same"])
      expect(edited.arms[name]?.fingerprints).toEqual(first.arms[name]?.fingerprints);
    const same = load().experiment.arms.find((a) => a.name === "same");
    expect(same).toEqual({ name: "same", kind: "msm", msm_spec: "values" });
    expect(first.arms.same?.data).toEqual(["<dir>/rx-training/data/msm-values"]);
  });

  it("carries through cross grids and MSM spec ladders", () => {
    const arms = experiment(
      `  - { name: g, kind: cross, msm_specs: [rules, values], aft_specs: [rules], msm_recipe: stated.yaml }
  - { name: l, kind: spec-ladder, as: msm, specs: [rules, values], msm_recipe: stated.yaml }`,
    )
      .load()
      .experiment.arms.map((a) => [a.name, (a as { msm_recipe?: string }).msm_recipe]);
    expect(arms).toEqual([
      ["g-rules-rules", "stated.yaml"],
      ["g-values-rules", "stated.yaml"],
      ["l-r0", "stated.yaml"],
      ["l-r1", "stated.yaml"],
    ]);
  });

  it("refuses it on a prompted ladder, a recipe that is not there, and two recipes of one file name", async () => {
    const bad = (arms: string) => experiment(arms).load;
    expect(
      bad("  - { name: l, kind: spec-ladder, specs: [rules, values], msm_recipe: stated.yaml }"),
    ).toThrow(
      /arms\.0\.msm_recipe.*arm "l" is prompted \(as: prompted\), so it has no MSM corpus to make with a recipe: remove msm_recipe, or set as: msm/s,
    );
    expect(bad("  - { name: p, kind: prompted, spec: rules, msm_recipe: stated.yaml }")).toThrow(
      /arms\.0.*msm_recipe/s,
    );
    expect(
      bad(
        "  - { name: a, kind: msm, msm_spec: rules, msm_recipe: stated.yaml }\n  - { name: b, kind: msm, msm_spec: rules, msm_recipe: other/stated.yaml }",
      ),
    ).toThrow(
      /the MSM recipes stated\.yaml and other\/stated\.yaml have one file name, which names their corpora: rename one/,
    );
    const { dir, load } = experiment(
      "  - { name: a, kind: msm, msm_spec: rules, msm_recipe: nope.yaml }",
    );
    await expect(trainedView(dir, load())).rejects.toThrow(
      /nope\.yaml.*msm_recipe nope\.yaml in /s,
    );
  });

  it("is a design factor of the report: its own row and one factor apart from the arm without it", () => {
    const loaded = experiment(
      `${PLAIN_ARMS}\n  - { name: aware, kind: msm+aft, msm_spec: rules, msm_recipe: recipes/stated.yaml, aft_spec: rules }`,
    ).load();
    const arm = (name: string) => loaded.experiment.arms.find((a) => a.name === name) as Arm;
    expect(armFactors(arm("plain"))).toEqual({ msm: "rules", aft: "rules" });
    expect(armFactors(arm("aware"))).toEqual({ msm: "rules (stated)", aft: "rules" });
    expect(armPairs([arm("plain"), arm("aware")]).map(([x, y]) => [x.name, y.name])).toEqual([
      ["plain", "aware"],
    ]);
  });
});
