import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Root, RootContent } from "mdast";
import { fromMarkdown } from "mdast-util-from-markdown";
import * as vega from "vega";
import { compile } from "vega-lite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setLogLevel } from "../../src/core/log.js";
import { codeVersion } from "../../src/core/provenance.js";
import { newcombe } from "../../src/core/statistics/comparisons.js";
import { wilson } from "../../src/core/stats.js";
import type { RateCell } from "../../src/evals/am/metrics.js";
import { loadExperiment } from "../../src/experiment/config.js";
import { runExperiment } from "../../src/experiment/run.js";
import { awarenessTables } from "../../src/report/awareness.js";
import {
  type Chart,
  experimentResults,
  markdownEscape,
  type ReportData,
  reportCharts,
  scenarioTable,
  seedsTable,
  toLatex,
  toMarkdown,
  writeReport,
} from "../../src/report/index.js";
import { diffInterval, interval, type Table } from "../../src/report/tables.js";
import { registerAmFakes } from "../fakes/am-models.js";
import { cleanupTempDirs, makeClient, tempDir } from "../helpers.js";

beforeAll(() => setLogLevel("quiet"));
afterAll(cleanupTempDirs);
registerAmFakes();

let ran: Promise<ReportData> | undefined;

/** The experiment runs once; each test gets its own copy of the report data to change. */
async function twoModelExperiment() {
  ran ??= runTwoModels();
  return { dir: tempDir(), data: structuredClone(await ran) };
}

async function runTwoModels() {
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
  return experimentResults(loaded, graph, store, codeVersion());
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
    // The blind judge reads the same actions from the transcript as the evidence does.
    expect(agent[0]?.metrics.agreement.executed).toMatchObject({
      n: 12,
      both: 6,
      judgeOnly: 0,
      evidenceOnly: 0,
      neither: 6,
      kappa: 1,
    });

    const written = await writeReport(data, join(dir, "out", "r.html"));
    const html = readFileSync(written.html, "utf8");
    for (const id of ["main", "design", "heatmap", "families", "citations", "awareness"])
      expect(html).toMatch(
        new RegExp(`<figure id="chart-${id}"><svg[^>]*>[\\s\\S]*?</svg><figcaption>`),
      );
    expect(html).toContain("Misalignment rate by arm × model");
    expect(html).toContain("<caption>Judge vs deterministic evidence");
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

  it("escapes HTML and Markdown in every name and text of report.md", async () => {
    const { dir, data } = await twoModelExperiment();
    const evil = "fx/<svg onload=alert(1)>*bold* _em_ [x](javascript:y) `c` |p| $m$ a&b";
    data.title = "<b>t</b>";
    for (const a of data.arms) if (a.model === "fake/am-agent") a.model = evil;
    const { markdown } = await writeReport(data, join(dir, "r.html"));
    const md = readFileSync(markdown, "utf8");
    expect(md).not.toMatch(/<(svg|b)\b/);
    expect(md).toContain("fx/&lt;svg onload=alert(1)&gt;");
    expect(md.split("\n")[0]).toBe("# &lt;b&gt;t&lt;/b&gt;");
  });

  it("writes Markdown that a CommonMark parser reads back as the same plain text", () => {
    // What a renderer would make of one escaped cell: no HTML, no emphasis, no link, no code.
    const nodes = (s: string) => {
      const out: RootContent[] = [];
      const walk = (n: Root | RootContent) => {
        if (n.type !== "root") out.push(n);
        if ("children" in n) for (const c of n.children) walk(c);
      };
      walk(fromMarkdown(s));
      return out;
    };
    for (const text of [
      "fx/<svg onload=alert(1)>",
      "*bold* __strong__ _em_ ~~gone~~",
      "[link](javascript:alert(1)) ![img](x.png) <http://a.b>",
      "`code` \\ back\\slash & &amp; &lt; #1",
    ]) {
      const parsed = nodes(markdownEscape(text));
      expect(parsed.map((n) => n.type)).toEqual(["paragraph", "text"]);
      expect((parsed[1] as { value: string }).value).toBe(text);
    }
    expect(markdownEscape("two\nlines")).toBe("two<br>lines");
  });

  it("right-aligns every number column in HTML, Markdown and LaTeX; LaTeX writes ± as \\pm and escapes names", async () => {
    const { data } = await twoModelExperiment();
    data.arms[0] = { ...(data.arms[0] as (typeof data.arms)[number]), model: "fx/<svg>|x" };
    // The by-scenario table: its first arm column was aligned as a name.
    const scenarios = scenarioTable(data);
    expect(toLatex(scenarios)).toContain(`\\begin{tabular}{l${"r".repeat(6)}}`);
    expect(toMarkdown(scenarios).split("\n")[3]).toBe(`| --- |${" ---: |".repeat(6)}`);
    expect(toLatex(scenarios)).toContain("fx/\\textless{}svg\\textgreater{}\\textbar{}x");
    data.arms = data.arms.map((a, i) => ({
      ...a,
      seeds: [
        { seed: 0, n: 10, rate: 0.1 * i },
        { seed: 1, n: 10, rate: 0.2 },
      ],
      acrossSeeds: { mean: 0.15, sem: 0.05, ci: [0, 0.78], n: 2, clipped: false },
    }));
    const seeds = toLatex(seedsTable(data) as NonNullable<ReturnType<typeof seedsTable>>);
    expect(seeds).not.toContain("±");
    expect(seeds).toContain("mean $\\pm$ SEM");
    expect(seeds).toContain("15.0\\% $\\pm$ 5.0\\%");
  });

  it("colours a 0% heatmap cell white and draws the eval-awareness rates with their intervals", async () => {
    const { data } = await twoModelExperiment();
    const charts = await reportCharts(data);
    const chart = (id: string) => charts.find((c) => c.id === id) as Chart;
    for (const id of ["heatmap", "design"]) {
      const view = new vega.View(vega.parse(compile(chart(id).spec).spec), { renderer: "none" });
      await view.runAsync();
      const color = view.scale("color") as (x: number) => string;
      expect(color(0)).toBe("rgb(255, 255, 255)");
      expect(color(1)).toMatch(/^rgb\((\d+), 0, 0\)$/);
      view.finalize();
    }
    const cells = data.arms.flatMap((a) => a.metrics.byAwareness);
    expect(cells.length).toBeGreaterThan(0);
    const svg = chart("awareness").svg;
    expect(svg.match(/aria-roledescription="errorbar"/g)).toHaveLength(cells.length);
    expect(svg.match(/aria-roledescription="bar"/g)).toHaveLength(cells.length);
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

  it("relates eval awareness to misalignment per arm, across arms per model, in a table and a chart", async () => {
    const { dir, data } = await twoModelExperiment();
    // Known aware/unaware tables (the references of src/analysis/awareness.test.ts) in place of
    // the fakes' (whose agents are always aware): [aware misaligned, aware aligned, unaware …].
    const tables: Record<string, [number, number, number, number]> = {
      "baseline@fake/am-spec-agent": [12, 18, 20, 50],
      "rules_only@fake/am-spec-agent": [5, 25, 30, 40],
      "values@fake/am-spec-agent": [20, 10, 15, 55],
      "baseline@fake/am-agent": [4, 16, 6, 24],
      "rules_only@fake/am-agent": [9, 11, 12, 18],
      "values@fake/am-agent": [3, 7, 5, 5],
    };
    const cell = (key: string, n: number, misaligned: number) => ({
      ...(data.arms[0]?.metrics.pooled as RateCell),
      key,
      n,
      misaligned,
      rate: misaligned / n,
      ci: wilson(misaligned, n),
    });
    for (const a of data.arms) {
      const [x, y, z, w] = tables[`${a.arm}@${a.model}`] as [number, number, number, number];
      a.metrics.byAwareness = [cell("no_deliberation", z + w, z), cell("thinks_eval", x + y, x)];
    }
    const [splits, homogeneity] = awarenessTables(data) as [Table, Table];
    expect(splits.rows[0]).toEqual([
      "baseline",
      "fake/am-spec-agent",
      "40.0% (12/30)",
      interval(wilson(12, 30)),
      "28.6% (20/70)",
      interval(wilson(20, 70)),
      "+11.4 pp",
      diffInterval(newcombe(12, 30, 20, 70).ci),
      "1.67",
      "0.350",
    ]);
    // p = 1.1e-5 for the spec agent's three arms (scipy reference); the other model's agree more.
    expect(homogeneity.rows.map((r) => [r[0], r[1], r[4], r[5]])).toEqual([
      ["fake/am-spec-agent", "3", "2", "<0.001"],
      ["fake/am-agent", "3", "2", expect.stringMatching(/^0\.\d{3}$/)],
    ]);
    const written = await writeReport(data, join(dir, "out", "r.html"));
    const html = readFileSync(written.html, "utf8");
    expect(html).toContain("<caption>Misalignment rate among eval-aware and unaware samples");
    expect(html).toContain("<caption>Does awareness go with misalignment differently across arms?");
    const svg = /<figure id="chart-awareness-split">([\s\S]*?)<\/figure>/.exec(html)?.[1] ?? "";
    expect(svg.match(/aria-roledescription="errorbar"/g)).toHaveLength(12);
    expect(readFileSync(written.markdown, "utf8")).toContain(
      "| values | fake/am-agent | 30.0% (3/10) |",
    );
    const csv = readFileSync(
      written.csv.find((p) => p.endsWith("r-awareness.csv")) as string,
      "utf8",
    ).split("\n");
    expect(csv[1]?.split(",").slice(0, 7)).toEqual([
      "baseline",
      "fake/am-spec-agent",
      "30",
      "12",
      "0.4",
      String(wilson(12, 30)[0]),
      String(wilson(12, 30)[1]),
    ]);
    // The spec agent's Breslow–Day: χ² 22.83 on 2 df over 3 arms (the scipy reference).
    expect(Number(csv[1]?.split(",").at(-4))).toBeCloseTo(22.829345778745804, 9);
    expect(csv[1]?.split(",").slice(-3)).toEqual(["2", expect.any(String), "3"]);
  });
});
