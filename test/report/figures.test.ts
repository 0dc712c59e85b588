import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { XMLValidator } from "fast-xml-parser";
import { PDFDict, PDFDocument, PDFName, PDFRawStream } from "pdf-lib";
import * as vega from "vega";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setLogLevel } from "../../src/core/log.js";
import { codeVersion } from "../../src/core/provenance.js";
import { loadExperiment } from "../../src/experiment/config.js";
import { runExperiment } from "../../src/experiment/run.js";
import { installFigureFontMetrics, PRINT_FONT } from "../../src/report/figures-pdf.js";
import {
  experimentResults,
  OKABE_ITO,
  type ReportData,
  reportCharts,
  writeFigures,
} from "../../src/report/index.js";
import { registerAmFakes } from "../fakes/am-models.js";
import { cleanupTempDirs, makeClient, tempDir } from "../helpers.js";

beforeAll(() => setLogLevel("quiet"));
afterAll(cleanupTempDirs);
registerAmFakes();

let ran: Promise<ReportData> | undefined;

/** One model, three arms, eval awareness on: every AM chart but the design heatmap. */
async function experiment() {
  ran ??= (async () => {
    const { dir, client, store } = makeClient();
    const file = join(dir, "experiment.yaml");
    writeFileSync(
      file,
      `name: figures
specs: { rules: rules }
arms:
  - { name: baseline, kind: baseline }
  - { name: rules_only, kind: prompted, spec: rules }
models: [fake/am-agent]
evals:
  - task: agentic-misalignment
    conditions: [leaking_none-none_replacement, leaking_explicit-america_replacement]
    epochs: 2
    eval_awareness: true
judge: { model: fake/am-judge }
`,
    );
    const loaded = loadExperiment(file);
    const graph = await runExperiment(loaded, client);
    return experimentResults(loaded, graph, store, codeVersion());
  })();
  return structuredClone(await ran);
}

/** vega's SVG draws each mark as a group of paths; a chart with no data draws none. */
const dataMarks = (svg: string) =>
  svg.match(/class="mark-(rect|symbol|line|rule|text)[^"]*"[^>]*>\s*<(path|text)\b/g) ?? [];

interface Index {
  figures: {
    id: string;
    name: string;
    caption: string;
    column: string;
    width: number;
    height: number;
    files: { svg: string; pdf: string; spec: string };
  }[];
}

describe("paper figures", () => {
  it("writes each chart as SVG, PDF (font embedded) and vega-lite spec, with an index of captions", async () => {
    const data = await experiment();
    const dir = join(tempDir(), "figures");
    const written = await writeFigures(data, dir);
    const index = JSON.parse(readFileSync(join(dir, "index.json"), "utf8")) as Index;
    expect(index.figures.map((f) => f.name)).toEqual([
      "am-rates",
      "am-family-heatmap",
      "am-family-rates",
      "am-rule-citations",
      "am-eval-awareness",
      "am-awareness-split",
    ]);
    expect(written.figures.map((f) => f.files.pdf)).toEqual(
      index.figures.map((f) => join(dir, f.files.pdf)),
    );
    const main = index.figures.find((f) => f.name === "am-rates");
    expect(main).toMatchObject({ column: "single", width: 252 });
    expect(main?.caption).toContain("Misalignment rate by arm");
    for (const f of index.figures.filter((x) => x.id !== "main"))
      expect(f).toMatchObject({ column: "double", width: 504 });

    for (const f of index.figures) {
      const svg = readFileSync(join(dir, f.files.svg), "utf8");
      expect(XMLValidator.validate(svg), f.name).toBe(true);
      expect(dataMarks(svg).length, f.name).toBeGreaterThan(0);
      expect(Number(/<svg[^>]*\swidth="([\d.]+)"/.exec(svg)?.[1])).toBeLessThanOrEqual(f.width);
      expect(svg).toContain(`font-family="${PRINT_FONT.family}"`);
      // Every colour from the palette (or the heatmaps' scale): none of vega-lite's default blue.
      expect(svg.toLowerCase()).not.toContain("#4c78a8");

      const spec = JSON.parse(readFileSync(join(dir, f.files.spec), "utf8"));
      expect(spec.config.range.category).toEqual(OKABE_ITO);
      expect(spec.data.values.length).toBeGreaterThan(0);

      const bytes = readFileSync(join(dir, f.files.pdf));
      expect(bytes.subarray(0, 5).toString("latin1")).toBe("%PDF-");
      const pdf = await PDFDocument.load(bytes);
      expect(pdf.getPageCount()).toBe(1);
      const size = pdf.getPage(0).getSize();
      expect(size.width).toBe(f.width);
      expect(size.height).toBeCloseTo(f.height, 3);
      // The font is embedded: a descriptor of DejaVu Sans with its TrueType program.
      const descriptors = pdf.context
        .enumerateIndirectObjects()
        .map(([, o]) => o)
        .filter((o): o is PDFDict => o instanceof PDFDict && o.has(PDFName.of("FontFile2")));
      expect(descriptors.length, f.name).toBeGreaterThan(0);
      const fontName = descriptors[0]?.get(PDFName.of("FontName"))?.toString() ?? "";
      expect(fontName).toMatch(/DejaVuSans/);
      const program = descriptors[0]?.lookup(PDFName.of("FontFile2"));
      expect(program).toBeInstanceOf(PDFRawStream);
      expect((program as PDFRawStream).getContents().length).toBeGreaterThan(1000);
    }

    // The main figure labels every arm and draws its bars in the palette's first colours.
    const mainSvg = readFileSync(join(dir, "am-rates.svg"), "utf8");
    for (const arm of ["baseline", "rules_only"]) expect(mainSvg).toContain(`>${arm}</text>`);
    expect(mainSvg).toContain(`fill="${OKABE_ITO[0]}"`);
  });

  it("holds markup in an arm name as text", async () => {
    const data = await experiment();
    const evil = "<script>x</script>";
    for (const a of data.arms) if (a.arm === "baseline") a.arm = evil;
    const dir = join(tempDir(), "figures");
    await writeFigures(data, dir);
    const svg = readFileSync(join(dir, "am-rates.svg"), "utf8");
    expect(XMLValidator.validate(svg)).toBe(true);
    expect(svg).not.toMatch(/<script/i);
    expect(svg).toContain(">&lt;script&gt;x&lt;/script&gt;</text>");
  });

  it("lays the print font out with its own widths, and leaves the report's estimate alone", async () => {
    await installFigureFontMetrics();
    const metrics = (
      vega as unknown as { textMetrics: { width: (i: object, t: string) => number } }
    ).textMetrics;
    const print = { font: PRINT_FONT.family, fontSize: 10 };
    // vega's estimate gives every character 0.8 em; DejaVu Sans's "i" is far narrower than its "M".
    expect(metrics.width(print, "iiii")).toBeLessThan(metrics.width(print, "MMMM") / 2);
    expect(metrics.width({ fontSize: 10 }, "iiii")).toBe(32);
  });

  it("draws the HTML report's charts in the same palette", async () => {
    const data = await experiment();
    const charts = await reportCharts(data);
    const main = charts.find((c) => c.id === "main");
    const config = main?.spec.config as { range?: { category?: string[] } } | undefined;
    expect(config?.range?.category).toEqual(OKABE_ITO);
    expect(main?.svg).toContain(`fill="${OKABE_ITO[0]}"`);
  });
});
