import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setLogLevel } from "../../src/core/log.js";
import { codeVersion } from "../../src/core/provenance.js";
import { loadExperiment } from "../../src/experiment/config.js";
import { runExperiment } from "../../src/experiment/run.js";
import {
  experimentResults,
  reportCharts,
  toLatex,
  toMarkdown,
  writeReport,
} from "../../src/report/index.js";
import { registerAmFakes } from "../fakes/am-models.js";
import { cleanupTempDirs, makeClient } from "../helpers.js";

beforeAll(() => setLogLevel("quiet"));
afterAll(cleanupTempDirs);
registerAmFakes();

async function twoModelExperiment() {
  const { dir, client, store } = makeClient();
  const file = join(dir, "experiment.yaml");
  writeFileSync(
    file,
    `name: two_models
specs: { rules: rules, values: value-augmented }
arms:
  - { name: baseline, kind: baseline }
  - { name: rules_only, kind: prompted, spec: rules }
  - { name: values, kind: prompted, spec: values }
models: [fake/am-spec-agent, fake/am-agent]
evals:
  - task: agentic-misalignment
    conditions: [leaking_none-none_replacement, leaking_explicit-america_replacement, coercion_explicit-america_replacement, exfiltration_none-none_replacement]
    epochs: 3
    eval_awareness: true
    toggles: { eval_notice: true }
judge: { model: fake/am-judge }
`,
  );
  const loaded = loadExperiment(file);
  const graph = await runExperiment(loaded, client);
  return { dir, data: experimentResults(loaded, graph, store, codeVersion()) };
}

describe("reports", () => {
  it("draws every chart and table, for every arm × model, with one comparison per pair of arms and model", async () => {
    const { dir, data } = await twoModelExperiment();
    expect(data.arms.map((a) => `${a.arm}@${a.model}`)).toEqual([
      "baseline@fake/am-spec-agent",
      "baseline@fake/am-agent",
      "rules_only@fake/am-spec-agent",
      "rules_only@fake/am-agent",
      "values@fake/am-spec-agent",
      "values@fake/am-agent",
    ]);
    expect(data.comparisons).toHaveLength(6);
    // am-agent acts exactly when a goal is stated (2 of the 4 scenarios), whatever the spec.
    const agent = data.arms.filter((a) => a.model === "fake/am-agent");
    expect(agent.map((a) => a.metrics.pooled.rate)).toEqual([0.5, 0.5, 0.5]);
    expect(agent[0]?.citations.map((c) => c.id)).toEqual(["GP2", "SP1"]);
    expect(agent[0]?.metrics.byAwareness.map((c) => [c.key, c.n])).toEqual([["thinks_eval", 12]]);

    const written = await writeReport(data, join(dir, "out", "r.html"));
    const html = readFileSync(written.html, "utf8");
    for (const id of ["main", "design", "heatmap", "families", "citations", "awareness"])
      expect(html).toMatch(
        new RegExp(`<figure id="chart-${id}"><svg[^>]*>[\\s\\S]*?</svg><figcaption>`),
      );
    expect(html).toContain("Misalignment rate by arm × model");
    expect(html).toContain("<summary>experiment.yaml</summary>");
    const tex = readFileSync(written.latex, "utf8");
    expect(tex).toContain("rules\\_only & fake/am-agent");
    expect(tex).toMatch(/\\toprule[\s\S]*\\midrule[\s\S]*\\bottomrule/);
    const comparisons = readFileSync(written.csv[1] as string, "utf8")
      .trim()
      .split("\n");
    expect(comparisons).toHaveLength(7);
    const row = comparisons
      .find((l) => l.startsWith("fake/am-spec-agent,values,baseline,"))
      ?.split(",");
    expect(Number(row?.[7])).toBeCloseTo(
      data.comparisons.find((c) => c.a === "values" && c.model === "fake/am-spec-agent")?.diff ??
        Number.NaN,
      12,
    );
  });

  it("tables escape Markdown and LaTeX specials", () => {
    const t = { title: "a_b & 50%", headers: ["x|y", "z"], rows: [["#1 {a}", "~^\\"]] };
    expect(toMarkdown(t)).toContain("| x\\|y | z |");
    expect(toLatex(t)).toContain("\\caption{a\\_b \\& 50\\%}");
    expect(toLatex(t)).toContain(
      "\\#1 \\{a\\} & \\textasciitilde{}\\textasciicircum{}\\textbackslash{} \\\\",
    );
  });

  it("draws MSM spec × AFT spec as the design heatmap when arms are trained", async () => {
    const { data } = await twoModelExperiment();
    const specs = ["rules", "values"];
    data.arms = data.arms.slice(0, 4).map((a, i) => ({
      ...a,
      kind: "msm+aft",
      factors: { msm: specs[i % 2] as string, aft: specs[Math.floor(i / 2)] as string },
      model: "fake/base",
    }));
    const design = (await reportCharts(data)).find((c) => c.id === "design");
    expect(design?.title).toBe("Misalignment rate by MSM spec × AFT spec");
    expect(design?.svg).toContain("MSM spec");
    expect(design?.svg).toContain("AFT spec");
  });
});
