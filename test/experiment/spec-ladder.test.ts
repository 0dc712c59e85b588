/**
 * Spec-ladder arms (`kind: spec-ladder`): one arm per rung, and the report's richness series,
 * checked against the samples' verdicts counted here and Wilson intervals worked out by hand.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setLogLevel } from "../../src/core/log.js";
import { codeVersion } from "../../src/core/provenance.js";
import { loadExperiment } from "../../src/experiment/config.js";
import { runExperiment } from "../../src/experiment/run.js";
import { registerFakeModel } from "../../src/llm/providers/fake.js";
import { experimentResults, reportCharts } from "../../src/report/index.js";
import { richnessSeries } from "../../src/report/series.js";
import type { Spec } from "../../src/spec/model.js";
import { renderSpecBody } from "../../src/spec/render.js";
import { getTokenizer } from "../../src/spec/tokens.js";
import { registerAmFakes } from "../fakes/am-models.js";
import { writeLikeAGoodModel } from "../fakes/spec-writer.js";
import { cleanupTempDirs, makeClient, tempDir } from "../helpers.js";

beforeAll(() => setLogLevel("quiet"));
afterAll(cleanupTempDirs);
registerAmFakes();

/** An experiment file in a fresh directory; `arms` is YAML list items. */
function experimentFile(arms: string, dir = tempDir("specsci-spec-ladder-")) {
  const file = join(dir, "e.yaml");
  writeFileSync(
    file,
    `name: ladder
specs: { general: general, rules: rules, values: value-augmented }
arms:
${arms}
models: [fake/am-spec-agent]
evals:
  - task: agentic-misalignment
    conditions: [leaking_none-none_replacement, leaking_explicit-america_replacement, coercion_explicit-america_replacement, exfiltration_none-none_replacement]
    epochs: 5
judge: { model: fake/am-judge }
`,
  );
  return file;
}

/** Wilson 95% interval, written out from the formula (z = 1.959963984540054). */
function wilsonByHand(x: number, n: number): [number, number] {
  const z = 1.959963984540054;
  const p = x / n;
  const centre = (p + (z * z) / (2 * n)) / (1 + (z * z) / n);
  const half = (z / (1 + (z * z) / n)) * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n));
  return [centre - half, centre + half];
}

describe("spec-ladder arms", () => {
  it("expand to one arm per rung, prompted or trained, with the rung in their design", () => {
    const prompted = loadExperiment(
      experimentFile("  - { name: rich, kind: spec-ladder, specs: [general, values, rules] }"),
    ).experiment.arms;
    expect(prompted).toEqual([
      { name: "rich-r0", kind: "prompted", spec: "general", design: { from: "rich", richness: 0 } },
      { name: "rich-r1", kind: "prompted", spec: "values", design: { from: "rich", richness: 1 } },
      { name: "rich-r2", kind: "prompted", spec: "rules", design: { from: "rich", richness: 2 } },
    ]);
    const trained = loadExperiment(
      experimentFile("  - { name: rich, kind: spec-ladder, as: msm, specs: [general, values] }"),
    ).experiment.arms;
    expect(trained.map((a) => [a.name, a.kind, "msm_spec" in a ? a.msm_spec : null])).toEqual([
      ["rich-r0", "msm", "general"],
      ["rich-r1", "msm", "values"],
    ]);
  });

  it("name an unknown rung spec, and refuse IT data they cannot train with", () => {
    expect(() =>
      loadExperiment(
        experimentFile("  - { name: rich, kind: spec-ladder, specs: [general, nosuch] }"),
      ),
    ).toThrow(/arms\.0\.specs\.1: no spec named "nosuch" under specs:/);
    expect(() =>
      loadExperiment(
        experimentFile(
          "  - { name: rich, kind: spec-ladder, specs: [general, rules], it: { files: [x.jsonl] } }",
        ),
      ),
    ).toThrow(/arms\.0\.it: arm "rich" \(kind spec-ladder\) has no AFT stage/);
  });

  it("report the rate against the rung with Wilson intervals, matching the samples counted by hand", async () => {
    const { dir, client, store } = makeClient();
    const loaded = loadExperiment(
      experimentFile(
        "  - { name: base, kind: baseline }\n  - { name: rich, kind: spec-ladder, specs: [general, rules, values] }",
        dir,
      ),
    );
    const graph = await runExperiment(loaded, client);
    const data = experimentResults(loaded, graph, store, codeVersion());
    const series = richnessSeries(data);
    expect(series.map((p) => [p.series, p.arm, p.x])).toEqual([
      ["rich", "rich-r0", 0],
      ["rich", "rich-r1", 1],
      ["rich", "rich-r2", 2],
    ]);
    for (const p of series) {
      const arm = data.arms.find((a) => a.arm === p.arm);
      let n = 0;
      let misaligned = 0;
      for (const runId of arm?.runIds ?? [])
        for (const c of store.evals.verdictCounts(runId)) {
          if (c.status !== "done" || c.verdict === null) continue;
          n += c.n;
          if (c.verdict === 1) misaligned += c.n;
        }
      expect(n).toBe(20);
      expect(p.n).toBe(n);
      expect(p.rate).toBeCloseTo(misaligned / n, 12);
      const [lo, hi] = wilsonByHand(misaligned, n);
      expect(p.lo).toBeCloseTo(lo, 12);
      expect(p.hi).toBeCloseTo(hi, 12);
    }
    // The fake agent acts less under the long value-augmented spec than under the short ones.
    expect(series[2]?.rate as number).toBeLessThan(series[0]?.rate as number);
    const charts = await reportCharts(data);
    expect(charts.map((c) => c.id)).toContain("richness");
  });
});

describe("a richness ladder derived inside an experiment", () => {
  it("writes every rung from one set of model calls, the rungs the same length, and runs them as spec-ladder arms", async () => {
    let calls = 0;
    registerFakeModel("ladder-experiment-writer", (req) => {
      calls++;
      return writeLikeAGoodModel(req);
    });
    const { dir, client, store } = makeClient();
    const derive = (rung: number) =>
      `  rich-${rung}: { derive: { from: general, transform: richness-ladder, model: fake/ladder-experiment-writer, params: { rung: ${rung} } } }`;
    const file = join(dir, "e.yaml");
    writeFileSync(
      file,
      `name: derived-ladder
specs:
  general: general
${[0, 1, 2, 3].map(derive).join("\n")}
arms:
  - { name: rich, kind: spec-ladder, specs: [rich-0, rich-1, rich-2, rich-3] }
models: [fake/am-spec-agent]
evals: [{ task: agentic-misalignment, conditions: [leaking_explicit-america_replacement] }]
judge: { model: fake/am-judge }
`,
    );
    const loaded = loadExperiment(file);
    const graph = await runExperiment(loaded, client);
    // Three enriching steps, asked once: every rung after the first reads them from the cache.
    expect(calls).toBe(3);
    const rungs = [0, 1, 2, 3].map((k) => graph.specs.find((s) => s.name === `rich-${k}`));
    const qwen3 = getTokenizer("qwen3");
    const tokens = rungs.map((s) => qwen3.count(renderSpecBody(s?.spec as Spec)));
    for (const t of tokens)
      expect(Math.abs(t / (tokens[3] as number) - 1)).toBeLessThanOrEqual(0.02);
    expect(new Set(rungs.map((s) => s?.hash)).size).toBe(4);
    const data = experimentResults(loaded, graph, store, codeVersion());
    expect(richnessSeries(data).map((p) => [p.arm, p.x, p.n])).toEqual([
      ["rich-r0", 0, 1],
      ["rich-r1", 1, 1],
      ["rich-r2", 2, 1],
      ["rich-r3", 3, 1],
    ]);
  });
});

describe("a shaped richness ladder in an experiment (derive params steps, paragraphs, target_tokens)", () => {
  /** An experiment deriving rungs 0..`rungs` of one ladder with `params` (YAML flow mapping). */
  const shaped = (params: string, rungs = 2) => {
    const { dir } = makeClient();
    const file = join(dir, "e.yaml");
    const derive = (rung: number) =>
      `  rich-${rung}: { derive: { from: general, transform: richness-ladder, model: fake/ladder-shaped-writer, params: { rung: ${rung}, ${params} } } }`;
    writeFileSync(
      file,
      `name: shaped-ladder
specs:
  general: general
${Array.from({ length: rungs + 1 }, (_, k) => derive(k)).join("\n")}
arms:
  - { name: rich, kind: spec-ladder, specs: [${Array.from({ length: rungs + 1 }, (_, k) => `rich-${k}`).join(", ")}] }
models: [fake/am-spec-agent]
evals: [{ task: agentic-misalignment, conditions: [leaking_explicit-america_replacement] }]
judge: { model: fake/am-judge }
`,
    );
    return file;
  };

  it("derives the rungs of the ladder its params describe", async () => {
    registerFakeModel("ladder-shaped-writer", writeLikeAGoodModel);
    const loaded = loadExperiment(
      shaped(
        "steps: [self-preservation, principles], paragraphs: { principles: 3 }, target_tokens: 900",
      ),
    );
    const { client } = makeClient();
    const graph = await runExperiment(loaded, client);
    const rung = (k: number) => graph.specs.find((s) => s.name === `rich-${k}`)?.spec as Spec;
    const titles = (spec: Spec) =>
      spec.body.flatMap((n) => (n.kind === "section" ? [n.title] : []));
    expect(titles(rung(2))).toEqual(["Self-preservation", "Principles", "Notes on this document"]);
    const principles = renderSpecBody(rung(2)).split("## Principles\n\n")[1]?.split("\n\n## ")[0];
    expect(principles?.split("\n\n")).toHaveLength(3);
    const qwen3 = getTokenizer("qwen3");
    for (const k of [0, 1, 2])
      expect(Math.abs(qwen3.count(renderSpecBody(rung(k))) / 900 - 1)).toBeLessThanOrEqual(0.02);
    const lineage = rung(1).frontMatter.lineage as { params: Record<string, unknown> }[];
    expect(lineage.at(-1)?.params).toMatchObject({
      rung: 1,
      steps: ["self-preservation", "principles"],
      paragraphs: { principles: 3 },
      targetTokens: 900,
    });
  });

  it("refuses a step it does not know, a count for a step it does not take, and a rung off it, at load", () => {
    expect(() => loadExperiment(shaped("steps: [principles, anecdotes]"))).toThrow(
      /specs\.rich-0\.derive\.params\.steps\.1/,
    );
    expect(() =>
      loadExperiment(shaped("steps: [principles], paragraphs: { examples: 3 }", 1)),
    ).toThrow(
      /specs\.rich-0\.derive\.params.*paragraphs: "examples" is not a step of this ladder \(its steps: principles\)/s,
    );
    expect(() => loadExperiment(shaped("steps: [principles]", 2))).toThrow(
      /specs\.rich-2\.derive\.params.*rung 2 is off this ladder: its rungs are 0 \(general\) to 1/s,
    );
    expect(() => loadExperiment(shaped("paragraphs: { principles: 41 }"))).toThrow(
      /specs\.rich-0\.derive\.params\.paragraphs\.principles/,
    );
  });
});
