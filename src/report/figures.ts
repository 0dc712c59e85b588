/**
 * Paper figures: each chart of the report laid out for a paper's column (in points), in the
 * Okabe–Ito palette and an 8 pt DejaVu Sans, written as SVG, as PDF with the font embedded,
 * and as its vega-lite spec (data inlined) for re-styling, with an index of captions.
 */
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { writeFileAtomic } from "../core/fs.js";
import { type Chart, mainChart, type Page, reportCharts } from "./charts.js";
import { figurePdf, installFigureFontMetrics, PRINT_FONT } from "./figures-pdf.js";
import type { ReportData } from "./results.js";

/** A paper's single column (3.5 in) and full width (7 in), in points. */
export const COLUMN_WIDTHS = { single: 252, double: 504 } as const;
export type ColumnWidth = keyof typeof COLUMN_WIDTHS;
/** Text size in points: legible printed, and the size most journals ask for as a minimum. */
const PRINT_TEXT = 8;

const printPage = (width: ColumnWidth): Page => ({
  width: COLUMN_WIDTHS[width],
  font: PRINT_TEXT,
  // A column is narrower than the report's page: let panels narrow to what their labels need.
  minPanel: 110,
  config: { font: PRINT_FONT.family, background: "white" },
});

/** File names (without extension) by chart id: what each figure shows. */
const NAMES: Record<string, string> = {
  main: "am-rates",
  design: "am-design-heatmap",
  heatmap: "am-family-heatmap",
  families: "am-family-rates",
  ladder: "am-aft-size",
  dose: "am-anti-spec-dose",
  richness: "am-spec-richness",
  "pref-steps": "am-preference-steps",
  "pref-contamination": "am-preference-contamination",
  citations: "am-rule-citations",
  awareness: "am-eval-awareness",
  "awareness-split": "am-awareness-split",
};

/** A task chart is named by its eval (registry names; anything else is replaced, for a safe file name). */
const figureName = (id: string) =>
  NAMES[id] ?? `${id.replace(/^task-/, "").replace(/[^A-Za-z0-9_-]+/g, "-")}-scores`;

export interface FigureEntry {
  id: string;
  name: string;
  caption: string;
  column: ColumnWidth;
  /** The figure's size in points (the PDF page). */
  width: number;
  height: number;
  files: { svg: string; pdf: string; spec: string };
}

export interface WrittenFigures {
  dir: string;
  index: string;
  figures: FigureEntry[];
}

/**
 * The charts at print size: the main figure in a single column when it has one panel (one model),
 * every other chart across the page.
 */
async function printCharts(data: ReportData): Promise<{ chart: Chart; column: ColumnWidth }[]> {
  await installFigureFontMetrics();
  const charts = await reportCharts(data, printPage("double"));
  const models = new Set(data.arms.map((a) => a.model)).size;
  const single = data.am && models === 1 ? await mainChart(data, printPage("single")) : undefined;
  return charts.map((chart) =>
    chart.id === "main" && single
      ? { chart: single, column: "single" }
      : { chart, column: "double" },
  );
}

const svgSize = (svg: string) => {
  const open = /^<svg[^>]*>/.exec(svg)?.[0] ?? "";
  const attr = (name: string) => Number(new RegExp(`\\s${name}="([\\d.]+)"`).exec(open)?.[1] ?? 0);
  return { width: attr("width"), height: attr("height") };
};

/**
 * Writes every chart of the report to `dir` as NAME.svg, NAME.pdf and NAME.vl.json, and
 * index.json listing each figure with its caption, column and size.
 */
export async function writeFigures(data: ReportData, dir: string): Promise<WrittenFigures> {
  const out = resolve(dir);
  mkdirSync(out, { recursive: true });
  const figures: FigureEntry[] = [];
  for (const { chart, column } of await printCharts(data)) {
    const name = figureName(chart.id);
    const files = {
      svg: join(out, `${name}.svg`),
      pdf: join(out, `${name}.pdf`),
      spec: join(out, `${name}.vl.json`),
    };
    const width = COLUMN_WIDTHS[column];
    const { height } = svgSize(chart.svg);
    writeFileAtomic(files.svg, chart.svg);
    writeFileAtomic(files.spec, `${JSON.stringify(chart.spec, null, 2)}\n`);
    writeFileAtomic(files.pdf, await figurePdf(chart.svg, { width, height, title: chart.title }));
    figures.push({ id: chart.id, name, caption: chart.title, column, width, height, files });
  }
  const index = join(out, "index.json");
  const relative = (f: FigureEntry) => ({
    ...f,
    files: { svg: `${f.name}.svg`, pdf: `${f.name}.pdf`, spec: `${f.name}.vl.json` },
  });
  writeFileAtomic(
    index,
    `${JSON.stringify(
      {
        title: data.title,
        synthetic: data.synthetic,
        font: `${PRINT_FONT.family} ${PRINT_TEXT} pt (embedded in the PDFs)`,
        palette: "Okabe–Ito",
        units: "pt",
        figures: figures.map(relative),
      },
      null,
      2,
    )}\n`,
  );
  return { dir: out, index, figures };
}
