import type { Command } from "commander";
import type { ContextFactory } from "../context.js";
import { implementedIn } from "../lazy.js";

export function registerReportCommand(program: Command, context: ContextFactory): void {
  const action = implementedIn(() => import("../commands/report.js"), context);
  program
    .command("report")
    .description(
      "write the report of an experiment or eval run: one self-contained HTML file, plus Markdown, LaTeX and CSV tables beside it",
    )
    .argument("<target>", "experiment file, or an eval run id")
    .option("-o, --out <file>", "the HTML file to write", "report.html")
    .option(
      "--examples <n>",
      "sample transcripts per arm and model",
      (v) => Number.parseInt(v, 10),
      2,
    )
    .option(
      "--figures <dir>",
      "also write each chart as a paper figure: SVG, PDF (font embedded) and vega-lite spec, with index.json",
    )
    .action(action("report"));
}
