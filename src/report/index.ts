import { mkdirSync } from "node:fs";
import { dirname, join, parse, resolve } from "node:path";
import { writeFileAtomic } from "../core/fs.js";
import { awarenessCsv, awarenessTables } from "./awareness.js";
import { reportCharts } from "./charts.js";
import {
  agreementCsv,
  breakdownsCsv,
  comparisonsCsv,
  ratesCsv,
  reasoningCsv,
  taskComparisonsCsv,
  taskMetricsCsv,
} from "./csv.js";
import { baseFamilyCsv, baseFamilyTables } from "./families.js";
import { renderHtml } from "./html.js";
import { preferencePressureTables } from "./pref-pressure.js";
import type { ReportData } from "./results.js";
import {
  agreementTable,
  comparisonsTable,
  familyTable,
  markdownEscape,
  ratesTable,
  reasoningTables,
  scenarioTable,
  seedsTable,
  type Table,
  toCsv,
  toLatex,
  toMarkdown,
} from "./tables.js";
import { allTaskTables } from "./task-tables.js";

// report's public surface: results from the store, the report written, its charts and tables.
export { type Chart, mainChart, OKABE_ITO, reportCharts } from "./charts.js";
export {
  COLUMN_WIDTHS,
  type FigureEntry,
  type WrittenFigures,
  writeFigures,
} from "./figures.js";
export { escapeHtml, renderHtml } from "./html.js";
export {
  type ArmRates,
  type ExperimentRates,
  experimentRates,
  ratesOfReport,
} from "./rates.js";
export {
  type ArmResult,
  type ExampleTranscript,
  experimentResults,
  type ReportData,
  runResults,
} from "./results.js";
export {
  armColumns,
  type CellValue,
  type ColumnType,
  type ExportRun,
  experimentSource,
  OUTCOMES,
  runSource,
  type SampleColumn,
  type SampleRow,
  type SampleSource,
  sampleColumns,
  sampleCount,
  sampleDictionary,
  sampleRows,
} from "./samples-export.js";
export {
  dictionaryPath,
  PARQUET_ROW_GROUP,
  SAMPLE_FORMATS,
  type SampleExport,
  type SampleFormat,
  sampleFormat,
  writeSamples,
} from "./samples-writers.js";
export {
  agreementTable,
  comparisonsTable,
  familyTable,
  kappaOrReason,
  markdownEscape,
  pct,
  ratesTable,
  reasoningTables,
  scenarioTable,
  seedsTable,
  type Table,
  toCsv,
  toLatex,
  toMarkdown,
} from "./tables.js";

export interface WrittenReport {
  html: string;
  markdown: string;
  latex: string;
  csv: string[];
}

/**
 * Writes the report: `name.html` (self-contained), and beside it `name.md` (Markdown tables),
 * `name.tex` (booktabs tables) and CSV files of the raw numbers: `name-rates.csv`,
 * `name-comparisons.csv`, `name-breakdowns.csv`, `name-agreement.csv`, `name-awareness.csv` (with
 * the eval-awareness scorer), `name-base-families.csv` (models of two base families or more)
 * (agentic misalignment),
 * `name-tasks.csv` and `name-task-comparisons.csv` (every other task), `name-reasoning.csv`.
 */
export async function writeReport(data: ReportData, htmlPath: string): Promise<WrittenReport> {
  const html = resolve(htmlPath);
  mkdirSync(dirname(html), { recursive: true });
  const { dir, name } = parse(html);
  const charts = await reportCharts(data);
  writeFileAtomic(html, renderHtml(data, charts));
  const amTables = data.am
    ? [
        ratesTable(data),
        agreementTable(data),
        seedsTable(data),
        comparisonsTable(data),
        familyTable(data),
        scenarioTable(data),
        ...awarenessTables(data),
        ...baseFamilyTables(data),
        ...preferencePressureTables(data),
      ]
    : [];
  const tables = [...amTables, ...reasoningTables(data), ...allTaskTables(data)].filter(
    (t): t is Table => t !== null,
  );
  const markdown = join(dir, `${name}.md`);
  writeFileAtomic(
    markdown,
    `# ${data.synthetic ? "[SYNTHETIC OUTPUTS] " : ""}${markdownEscape(data.title)}\n\n${tables.map(toMarkdown).join("\n")}`,
  );
  const latex = join(dir, `${name}.tex`);
  writeFileAtomic(
    latex,
    `% specsci report tables; needs \\usepackage{booktabs}\n${tables.map(toLatex).join("\n")}`,
  );
  const csv = [
    ...(data.am
      ? ([
          [join(dir, `${name}-rates.csv`), ratesCsv(data)],
          [join(dir, `${name}-comparisons.csv`), comparisonsCsv(data)],
          [join(dir, `${name}-breakdowns.csv`), breakdownsCsv(data)],
          [join(dir, `${name}-agreement.csv`), agreementCsv(data)],
        ] as const)
      : []),
    ...(data.am && awarenessCsv(data)
      ? ([[join(dir, `${name}-awareness.csv`), awarenessCsv(data) as Table]] as const)
      : []),
    ...(baseFamilyCsv(data)
      ? ([[join(dir, `${name}-base-families.csv`), baseFamilyCsv(data) as Table]] as const)
      : []),
    ...(data.tasks.length
      ? ([
          [join(dir, `${name}-tasks.csv`), taskMetricsCsv(data)],
          [join(dir, `${name}-task-comparisons.csv`), taskComparisonsCsv(data)],
        ] as const)
      : []),
    ...(data.reasoning
      ? ([[join(dir, `${name}-reasoning.csv`), reasoningCsv(data)]] as const)
      : []),
  ] as const;
  for (const [path, t] of csv) writeFileAtomic(path, toCsv(t));
  return { html, markdown, latex, csv: csv.map(([p]) => p) };
}
