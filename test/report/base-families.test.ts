/**
 * The report's cross-family section: an experiment whose two models are trained from bases of two
 * families gets, for each compared pair of arms, the spec effect per family and the interaction
 * test; with counts set to the reference dataset of core/statistics/interaction.test.ts, the
 * tables show statsmodels' numbers. One family: no section.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setLogLevel } from "../../src/core/log.js";
import { codeVersion } from "../../src/core/provenance.js";
import { loadExperiment } from "../../src/experiment/config.js";
import { runExperiment } from "../../src/experiment/run.js";
import { baseFamilyComparisons, baseFamilyTables } from "../../src/report/families.js";
import { experimentResults, type ReportData, writeReport } from "../../src/report/index.js";
import { registerAmFakes } from "../fakes/am-models.js";
import { cleanupTempDirs, makeClient, tempDir } from "../helpers.js";

beforeAll(() => setLogLevel("quiet"));
afterAll(cleanupTempDirs);
registerAmFakes();

let ran: Promise<ReportData> | undefined;
async function twoFamilies(): Promise<ReportData> {
  ran ??= (async () => {
    const { dir, client, store } = makeClient();
    const file = join(dir, "experiment.yaml");
    writeFileSync(
      file,
      `name: fam_report
specs: { rules: rules, values: value-augmented }
arms:
  - { name: baseline, kind: baseline }
  - { name: rules, kind: prompted, spec: rules }
  - { name: values, kind: prompted, spec: values }
models: [fake/am-spec-agent, fake/am-agent]
evals:
  - task: agentic-misalignment
    conditions: [leaking_none-none_replacement, leaking_explicit-america_replacement]
judge: { model: fake/am-judge }
training:
  base_models: { fake/am-spec-agent: Qwen/Qwen3-8B, fake/am-agent: meta-llama/Llama-3.1-8B }
`,
    );
    const loaded = loadExperiment(file);
    const graph = await runExperiment(loaded, client);
    return experimentResults(loaded, graph, store, codeVersion());
  })();
  return structuredClone(await ran);
}

/** Sets an arm's pooled counts on a model (the reference dataset's). */
function setCounts(d: ReportData, arm: string, model: string, x: number, n: number) {
  const r = d.arms.find((a) => a.arm === arm && a.model === model);
  if (!r) throw new Error(`no ${arm} on ${model}`);
  r.metrics.pooled = { ...r.metrics.pooled, misaligned: x, n, rate: x / n };
}

describe("the cross-family section", () => {
  it("compares each pair the Comparisons section compares, per family", async () => {
    const d = await twoFamilies();
    expect(d.modelFamilies).toEqual({ "fake/am-spec-agent": "qwen3", "fake/am-agent": "llama3" });
    const cs = baseFamilyComparisons(d);
    expect(cs.map((c) => [c.a, c.b])).toEqual([
      ["rules", "baseline"],
      ["values", "baseline"],
      ["rules", "values"],
    ]);
    expect(cs[0]?.models).toEqual({ qwen3: ["fake/am-spec-agent"], llama3: ["fake/am-agent"] });
    // am-agent acts exactly when a goal is stated (1 of the 2 scenarios), whatever the spec.
    const llama = cs[0]?.test.effects.find((e) => e.name === "llama3");
    expect(llama).toMatchObject({ a: { x: 1, n: 2 }, b: { x: 1, n: 2 }, diff: 0 });
  });

  it("shows statsmodels' numbers for the reference dataset (two families)", async () => {
    const d = await twoFamilies();
    // Dataset "two families" of test/scripts/family_interaction_reference.py: A = qwen3, B = llama3.
    setCounts(d, "rules", "fake/am-spec-agent", 30, 200);
    setCounts(d, "values", "fake/am-spec-agent", 60, 200);
    setCounts(d, "rules", "fake/am-agent", 45, 180);
    setCounts(d, "values", "fake/am-agent", 50, 190);
    const [effects, test] = baseFamilyTables(d);
    const row = (t: typeof test, a: string, b: string, extra?: string) =>
      t?.rows.find((r) => r[0] === a && r[1] === b && (extra === undefined || r[2] === extra));
    expect(row(effects, "rules", "values", "qwen3")?.slice(4)).toEqual([
      "15.0% (30/200)",
      "30.0% (60/200)",
      "-15.0 pp",
      "[-22.9 pp, -6.8 pp]",
      "0.41",
      "[0.25, 0.67]",
    ]);
    expect(row(test, "rules", "values")?.slice(2)).toEqual([
      "qwen3 vs llama3",
      "5.65",
      "1",
      "0.017",
      "-13.7 pp",
      "[-25.6 pp, -1.7 pp]",
      "0.44",
      "[0.22, 0.87]",
    ]);
    const written = await writeReport(d, join(tempDir(), "r.html"));
    const html = readFileSync(written.html, "utf8");
    expect(html).toContain('<section id="base-families"><h2>Across base-model families</h2>');
    expect(html).toContain("<caption>Does the spec effect differ across base-model families?");
    const csv = written.csv.find((f) => f.endsWith("-base-families.csv")) as string;
    const lines = readFileSync(csv, "utf8").trim().split("\n");
    expect(lines).toHaveLength(1 + 3 * 2);
    const qwen = lines.find((l) => l.startsWith("rules,values,qwen3,"))?.split(",");
    expect(Number(qwen?.[14])).toBeCloseTo(5.650351613808516, 9);
  });

  it("has no section when the models are of one family", async () => {
    const d = await twoFamilies();
    d.modelFamilies = { "fake/am-spec-agent": "qwen3", "fake/am-agent": "qwen3" };
    expect(baseFamilyTables(d)).toEqual([]);
    const written = await writeReport(d, join(tempDir(), "r.html"));
    expect(readFileSync(written.html, "utf8")).not.toContain('id="base-families"');
    expect(written.csv.some((f) => f.endsWith("-base-families.csv"))).toBe(false);
  });
});
