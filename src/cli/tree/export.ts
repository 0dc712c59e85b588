import type { Command } from "commander";
import type { ContextFactory } from "../context.js";
import { implementedIn } from "../lazy.js";

export function registerExportCommands(program: Command, context: ContextFactory): void {
  const action = implementedIn(() => import("../commands/export.js"), context);
  const exp = program
    .command("export")
    .description("export stored results as tidy data files for pandas, R and other tools");
  exp
    .command("samples")
    .description(
      "one row per sample × epoch of an eval run or of every run of an experiment, as CSV, JSONL or Parquet (by the extension of -o), with a data dictionary beside it (FILE.dictionary.md)",
    )
    .argument("<target>", "experiment file, or an eval run id")
    .option("-o, --out <file>", "the file to write: .csv, .jsonl or .parquet")
    .option("--dictionary", "print the data dictionary of the target's columns and write nothing")
    .action(action("exportSamples"));
}
