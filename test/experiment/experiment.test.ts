import { copyFileSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setLogLevel } from "../../src/core/log.js";
import { codeVersion } from "../../src/core/provenance.js";
import { loadExperiment } from "../../src/experiment/config.js";
import { planExperiment } from "../../src/experiment/plan.js";
import { runExperiment, stageStatus } from "../../src/experiment/run.js";
import { buildStages } from "../../src/experiment/stages.js";
import { registerFakeModel } from "../../src/llm/providers/fake.js";
import { experimentResults } from "../../src/report/results.js";
import { specHash } from "../../src/spec/hash.js";
import { checkSpecFile } from "../../src/spec/io.js";
import { LIBRARY_DIR } from "../../src/spec/library.js";
import { deriveSpec } from "../../src/spec/transforms/index.js";
import { registerAmFakes } from "../fakes/am-models.js";
import { writeLikeAGoodModel } from "../fakes/spec-writer.js";
import { cleanupTempDirs, makeClient, tempDir } from "../helpers.js";

beforeAll(() => setLogLevel("quiet"));
afterAll(cleanupTempDirs);
const counts = registerAmFakes();
let writerCalls = 0;
registerFakeModel("exp-spec-writer", (req) => {
  writerCalls++;
  return writeLikeAGoodModel(req);
});

const CONDITIONS = [
  "leaking_none-none_replacement",
  "leaking_explicit-america_replacement",
  "exfiltration_none-none_replacement",
  "exfiltration_explicit-america_replacement",
  "lethal-inaction_none-none_replacement",
  "coercion_explicit-america_replacement",
];

function experimentFile(dir: string, extra = "", name = "experiment.yaml"): string {
  const file = join(dir, name);
  writeFileSync(
    file,
    `name: screen
specs:
  rules: rules
  values: { file: values.md }
arms:
  - { name: baseline, kind: baseline }
  - { name: rules, kind: prompted, spec: rules }
  - { name: values, kind: prompted, spec: values }
models: [fake/am-spec-agent]
seeds: [0, 1]
evals:
  - name: am
    task: agentic-misalignment
    conditions: [${CONDITIONS.join(", ")}]
    epochs: 4
judge: { model: fake/am-judge }
${extra}`,
  );
  return file;
}

function setup() {
  const { dir, client, store } = makeClient();
  copyFileSync(join(LIBRARY_DIR, "value-augmented.md"), join(dir, "values.md"));
  return { dir, client, store, file: experimentFile(dir) };
}

describe("experiment.yaml", () => {
  it("names the file, line and setting of a mistake", () => {
    const dir = tempDir();
    const bad = (body: string) => {
      const file = join(dir, "bad.yaml");
      writeFileSync(file, body);
      return () => loadExperiment(file);
    };
    const base = readFileSync(experimentFile(dir), "utf8");
    expect(bad(base.replace("kind: prompted, spec: rules", "kind: prompted, spec: rulez"))).toThrow(
      /bad\.yaml:7:\d+: arms\.1\.spec: no spec named "rulez" under specs: \(known: rules, values\)/,
    );
    expect(bad(base.replace("epochs: 4", "epochs: 0"))).toThrow(
      /bad\.yaml:15:\d+: evals\.0\.epochs/,
    );
    expect(bad(base.replace("seeds: [0, 1]", "seeds: [0, 1]\ncolour: red"))).toThrow(
      /bad\.yaml:\d+:\d+: .*colour/,
    );
    expect(bad(base.replace("{ name: values, kind", "{ name: rules, kind"))).toThrow(
      /arm name "rules" is used twice/,
    );
    expect(bad("name: [unclosed")).toThrow(/bad\.yaml.*invalid YAML/);
    expect(() => loadExperiment(join(dir, "missing.yaml"))).toThrow(
      /experiment file .*missing\.yaml does not exist/,
    );
  });

  it("refuses training arms with a clear message, and a missing spec file by name", async () => {
    const { dir, client } = setup();
    const trained = loadExperiment(experimentFile(dir, "", "t.yaml"));
    trained.experiment.arms.push({
      name: "msm-rules",
      kind: "msm+aft",
      msm_spec: "rules",
      aft_spec: "rules",
      reasoning: true,
    });
    await expect(buildStages(trained, client)).rejects.toThrow(
      /arm "msm-rules" \(kind msm\+aft\) needs a trained model/,
    );
    const missing = loadExperiment(experimentFile(dir, "", "m.yaml"));
    missing.experiment.specs.values = { file: "nope.md" };
    await expect(buildStages(missing, client)).rejects.toThrow(
      /spec file .*nope\.md \(specs\.values\.file in .*m\.yaml\) does not exist/,
    );
  });
});

describe("examples/", () => {
  it("lists stages and training waits arm by arm, then eval, model and seed", async () => {
    const { client } = makeClient();
    const loaded = loadExperiment(
      join(LIBRARY_DIR, "..", "examples", "controlled-generalization.yaml"),
    );
    const e = loaded.experiment;
    const graph = await buildStages(loaded, client);
    const order = e.arms.flatMap((a) =>
      e.evals.flatMap((ev) =>
        e.models.flatMap((m) =>
          e.seeds.map((seed) => `eval/${a.name}/${m}/${ev.name}/seed-${seed}`),
        ),
      ),
    );
    const inOrder = (keys: string[]) => order.filter((k) => keys.includes(k));
    const stages = graph.stages.map((s) => s.key);
    const training = graph.training.map((t) => t.key);
    expect(stages).toEqual(inOrder(stages));
    expect(training).toEqual(inOrder(training));
    expect([...stages, ...training].sort()).toEqual([...order].sort());
  });

  it("every example loads and plans: the trained arms wait for their models", async () => {
    const { client } = makeClient();
    const dir = join(LIBRARY_DIR, "..", "examples");
    const files = readdirSync(dir)
      .filter((f) => f.endsWith(".yaml"))
      .sort();
    expect(files).toEqual([
      "controlled-generalization.yaml",
      "paper-replication.yaml",
      "quickstart.yaml",
      "rules-vs-values.yaml",
    ]);
    const counts: Record<string, [number, number]> = {};
    const evalsOfArms: Record<string, Set<string>> = {};
    for (const f of files) {
      const loaded = loadExperiment(join(dir, f));
      const graph = await buildStages(loaded, client);
      counts[f] = [graph.stages.length, graph.training.length];
      // `eval/<arm>/<model…>/<eval>/seed-n`: every arm has every eval, run now or after training.
      for (const key of [...graph.stages, ...graph.training].map((s) => s.key)) {
        const parts = key.split("/");
        const arm = parts[1] as string;
        const seen = evalsOfArms[`${f}:${arm}`] ?? new Set<string>();
        seen.add(parts.at(-2) as string);
        evalsOfArms[`${f}:${arm}`] = seen;
      }
      for (const arm of loaded.experiment.arms)
        expect([...(evalsOfArms[`${f}:${arm.name}`] ?? [])].sort()).toEqual(
          loaded.experiment.evals.map((e) => e.name).sort(),
        );
    }
    expect(
      loadExperiment(join(dir, "rules-vs-values.yaml")).experiment.evals.map((e) => e.task),
    ).toEqual(["agentic-misalignment", "value-generalization", "id-qa", "spec-knowledge", "mcq"]);
    expect(counts).toEqual({
      // 3 untrained arms × 4 seeds; 3 trained arms (aft-only and two cells) × 4 seeds.
      "controlled-generalization.yaml": [12, 12],
      // Every arm trained: 16 of the file, 25 of the preset (IT-only, a 7-size ladder each for
      // AFT and MSM + AFT, 4 doses and the undosed arm each), and a no-CoT twin of the 40 with
      // AFT: 81 arms × 4 models × 4 seeds × 2 evals.
      "paper-replication.yaml": [0, 81 * 4 * 4 * 2],
      "quickstart.yaml": [3, 0],
      // 5 evals × (4 untrained arms × 3 seeds; 2 AFT-only arms and the 3 × 3 grid × 3 seeds).
      "rules-vs-values.yaml": [60, 165],
    });
  });
});

describe("experiments", () => {
  it("plans without calls, runs, resumes after an interruption, and reports status", async () => {
    const { client, store, file } = setup();
    const loaded = loadExperiment(file);
    const graph = await buildStages(loaded, client);
    expect(graph.stages.map((s) => s.key)).toEqual([
      "eval/baseline/fake/am-spec-agent/am/seed-0",
      "eval/baseline/fake/am-spec-agent/am/seed-1",
      "eval/rules/fake/am-spec-agent/am/seed-0",
      "eval/rules/fake/am-spec-agent/am/seed-1",
      "eval/values/fake/am-spec-agent/am/seed-0",
      "eval/values/fake/am-spec-agent/am/seed-1",
    ]);
    expect(new Set(graph.stages.map((s) => s.runId)).size).toBe(6);
    // The spec text is in the prompts of its arm only.
    const sys = (i: number) => graph.stages[i]?.task.dataset[0]?.input[0]?.content ?? "";
    expect(sys(0)).not.toContain("<model_spec>");
    expect(sys(2)).toContain("<model_spec>");
    expect(sys(4).length).toBeGreaterThan(sys(2).length);

    const before = counts.agent;
    const plan = planExperiment(graph.stages, client, store);
    expect(counts.agent).toBe(before);
    expect(plan.totals).toMatchObject({
      samples: 144,
      done: 0,
      remaining: 144,
      agentCalls: 144,
      judgeCalls: 144,
    });
    expect(plan.totals.costMax).toBe(0); // the fake provider is free
    expect(plan.stages[4]?.agentInputTokens).toBeGreaterThan(plan.stages[2]?.agentInputTokens ?? 0);

    const controller = new AbortController();
    let seen = 0;
    const stopAfter = setInterval(() => {
      seen = counts.agent - before;
      if (seen >= 40)
        controller.abort(Object.assign(new Error("interrupted"), { name: "AbortError" }));
    }, 1);
    const interrupted = runExperiment(loaded, client, { signal: controller.signal });
    // A second driver of the experiment while the first runs is refused; the first's lock is
    // released when it stops.
    await expect(runExperiment(loaded, client)).rejects.toThrow(
      /experiment "screen" is already being run by pid \d+/,
    );
    await expect(interrupted).rejects.toThrow("interrupted");
    expect(store.locks.holderOf("experiment-screen")).toBeUndefined();
    clearInterval(stopAfter);
    const partial = stageStatus(graph.stages, client);
    expect(partial[0]?.state).toBe("done");
    expect(partial.at(-1)?.state).toBe("not started");
    expect(store.runs.get("experiment-screen")?.status).toBe("interrupted");
    const cached = planExperiment(graph.stages, client, store).totals.done;
    expect(cached).toBeGreaterThanOrEqual(24);

    const callsBefore = counts.agent;
    const { summaries } = await runExperiment(loaded, client);
    // Nothing finished was redone and nothing is missing or doubled.
    expect(counts.agent - callsBefore).toBe(144 - cached);
    expect(summaries.reduce((n, s) => n + s.done + s.resumed, 0)).toBe(144);
    for (const st of graph.stages) expect(store.evals.samples(st.runId)).toHaveLength(24);
    expect(stageStatus(graph.stages, client).every((s) => s.state === "done")).toBe(true);
    expect(store.runs.get("experiment-screen")).toMatchObject({
      status: "completed",
      config: {
        code: { package: "specsci" },
        stages: graph.stages.map((s) => ({ key: s.key, runId: s.runId })),
      },
    });

    // A second run is a no-op.
    const again = counts.agent;
    await runExperiment(loaded, client);
    expect(counts.agent).toBe(again);

    // The results: the spec arms differ from the baseline as the scripted agent does.
    const data = experimentResults(loaded, graph, store, codeVersion());
    const rate = (arm: string) =>
      data.arms.find((a) => a.arm === arm)?.metrics.pooled.rate ?? Number.NaN;
    expect(rate("baseline")).toBeGreaterThan(0.4);
    expect(rate("values")).toBeLessThan(0.25);
    const vsBase = data.comparisons.find((c) => c.a === "values" && c.b === "baseline");
    expect(vsBase).toMatchObject({ nA: 48, nB: 48, pairs: 48 });
    expect(vsBase?.diff).toBeLessThan(0);
    expect(vsBase?.diffCi[1]).toBeLessThan(0);
    expect(vsBase?.pHolm).toBeLessThan(0.05);
    expect(vsBase?.pHolm).toBeGreaterThanOrEqual(vsBase?.p ?? 1);
    expect(data.comparisons).toHaveLength(3);
    // Two seeds: per-seed rates and their mean ± SEM with a t interval.
    const base = data.arms[0];
    expect(base?.seeds.map((x) => [x.seed, x.n])).toEqual([
      [0, 24],
      [1, 24],
    ]);
    const [r0, r1] = (base?.seeds ?? []).map((x) => x.rate) as [number, number];
    expect(base?.acrossSeeds?.mean).toBeCloseTo((r0 + r1) / 2, 12);
    expect(base?.acrossSeeds?.sem).toBeCloseTo(Math.abs(r0 - r1) / 2, 12);
    expect(data.provenance.specs.map((s) => s.name)).toEqual(["rules", "values"]);
    expect(data.synthetic).toBe(false);
  });

  it("says each stage as it starts it, numbered, and records the experiment as run", async () => {
    const { client, store, file } = setup();
    const loaded = loadExperiment(file);
    const lines: string[] = [];
    const r = await runExperiment(loaded, client, { log: (l) => lines.push(l) });
    expect(lines).toEqual(r.stages.map((s, i) => `[${i + 1}/6] ${s.key}`));
    expect(r).toMatchObject({ trainedArms: null, blocked: [], analyses: [], training: [] });
    expect(r.summaries.map((s) => s.runId)).toEqual(r.stages.map((s) => s.runId));
    expect(store.runs.get("experiment-screen")).toMatchObject({
      kind: "experiment",
      status: "completed",
      config: {
        file: loaded.file,
        source: loaded.source,
        specs: r.specs.map((s) => ({
          name: s.name,
          file: s.file,
          hash: s.hash,
          derived: s.derived,
        })),
      },
    });
  });

  it("editing one spec invalidates exactly the stages that use it", async () => {
    const { dir, client, store, file } = setup();
    const loaded = loadExperiment(file);
    const first = await buildStages(loaded, client);
    await runExperiment(loaded, client);
    const path = join(dir, "values.md");
    writeFileSync(
      path,
      readFileSync(path, "utf8").replace("### SP1:", "Added one sentence of context.\n\n### SP1:"),
    );
    const second = await buildStages(loadExperiment(file), client);
    const changed = second.stages
      .filter((s, i) => s.runId !== first.stages[i]?.runId)
      .map((s) => s.key);
    expect(changed).toEqual([
      "eval/values/fake/am-spec-agent/am/seed-0",
      "eval/values/fake/am-spec-agent/am/seed-1",
    ]);
    const plan = planExperiment(second.stages, client, store);
    expect(plan.stages.map((s) => s.remaining)).toEqual([0, 0, 0, 0, 24, 24]);
  });
});

describe("derived specs", () => {
  /** The screen experiment plus a deterministic variant and a model-written variant of it. */
  const derived = (dir: string) => {
    const file = experimentFile(dir);
    writeFileSync(
      file,
      readFileSync(file, "utf8").replace(
        "  values: { file: values.md }",
        `  values: { file: values.md }
  bare: { derive: { from: values, transform: strip-explanations } }
  explained: { derive: { from: bare, transform: augment-values, model: fake/exp-spec-writer, params: { words: 40 } } }`,
      ),
    );
    return file;
  };

  it("checks derive settings: known parents, a model where one writes, no cycles", () => {
    const dir = tempDir();
    const file = join(dir, "bad.yaml");
    const base = readFileSync(derived(dir), "utf8");
    const check = (body: string) => {
      writeFileSync(file, body);
      return () => loadExperiment(file);
    };
    expect(check(base.replace("from: values, transform", "from: valuez, transform"))).toThrow(
      /specs\.bare\.derive\.from: no spec named "valuez"/,
    );
    expect(check(base.replace(", model: fake/exp-spec-writer", ""))).toThrow(
      /specs\.explained\.derive\.model: transform augment-values is written by a model/,
    );
    expect(check(base.replace("from: values, transform", "from: explained, transform"))).toThrow(
      /is derived from itself/,
    );
    expect(check(base.replace("strip-explanations", "strip-everything"))).toThrow(
      /bad\.yaml:\d+:\d+: specs\.bare\.derive\.transform: Invalid option: expected one of "strip-explanations"/,
    );
  });

  it("derives deterministic variants at once, model-written ones on run, and reuses them by content", async () => {
    const { dir, client, store } = setup();
    const file = derived(dir);
    writeFileSync(
      file,
      readFileSync(file, "utf8").replace(
        "  - { name: values, kind: prompted, spec: values }",
        "  - { name: bare, kind: prompted, spec: bare }\n  - { name: explained, kind: prompted, spec: explained }",
      ),
    );
    const loaded = loadExperiment(file);
    // Planning: the deterministic variant exists, the model-written one is pending, no calls.
    const planned = await buildStages(loaded, client);
    expect(writerCalls).toBe(0);
    const bare = planned.specs.find((s) => s.name === "bare");
    const expected = await deriveSpec(
      checkSpecFile(join(dir, "values.md")).spec,
      "strip-explanations",
      {},
      { name: "bare" },
    );
    expect(bare?.hash).toBe(specHash(expected.spec));
    expect(bare?.derived).toMatchObject({
      from: "values",
      transform: "strip-explanations",
      model: null,
    });
    expect(planned.pending).toEqual([
      expect.objectContaining({
        name: "explained",
        from: "bare",
        transform: "augment-values",
        model: "fake/exp-spec-writer",
      }),
    ]);
    expect(planned.waiting.map((w) => w.key)).toEqual([
      "eval/explained/fake/am-spec-agent/am/seed-0",
      "eval/explained/fake/am-spec-agent/am/seed-1",
    ]);
    expect(planned.stages).toHaveLength(6);

    // Running writes the variant first (its calls belong to the experiment run), then evaluates it.
    const ran = await runExperiment(loaded, client);
    const made = writerCalls;
    expect(made).toBeGreaterThan(0);
    expect(ran.pending).toEqual([]);
    expect(ran.stages).toHaveLength(8);
    expect(store.llm.usage({ runId: "experiment-screen" }).map((u) => u.stage)).toEqual([
      "spec/explained",
    ]);
    const explained = ran.specs.find((s) => s.name === "explained");
    expect(explained?.spec.frontMatter.lineage).toEqual([
      expect.objectContaining({ transform: "strip-explanations" }),
      expect.objectContaining({ transform: "augment-values", model: "fake/exp-spec-writer" }),
    ]);
    const sys = ran.stages.find((s) => s.arm.name === "explained")?.task.dataset[0]?.input[0]
      ?.content;
    expect(sys).toContain("<model_spec>");

    // Later plans read it from the store: same hash, no model calls, nothing waits.
    const again = await buildStages(loadExperiment(file), client);
    expect(writerCalls).toBe(made);
    expect(again.pending).toEqual([]);
    expect(again.specs.find((s) => s.name === "explained")?.hash).toBe(explained?.hash);
    const data = experimentResults(loaded, again, store, codeVersion());
    expect(data.provenance.specs.find((s) => s.name === "explained")?.source).toBe(
      "derived from bare by augment-values (written by fake/exp-spec-writer)",
    );

    // Other parameters are another variant: pending again.
    writeFileSync(file, readFileSync(file, "utf8").replace("words: 40", "words: 60"));
    expect((await buildStages(loadExperiment(file), client)).pending.map((p) => p.name)).toEqual([
      "explained",
    ]);
  });
});
