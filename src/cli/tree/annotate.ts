import type { Command } from "commander";
import type { ContextFactory } from "../context.js";
import { implementedIn } from "../lazy.js";

export function registerAnnotateCommands(program: Command, context: ContextFactory): void {
  const action = implementedIn(() => import("../commands/annotate.js"), context);
  const annotate = program
    .command("annotate")
    .description("human labels of transcripts, stored in the run store");
  annotate
    .command("export")
    .description(
      "write the stored labels as the JSONL that `analyze reasoning --human` reads (stdout without -o)",
    )
    .argument("[runs...]", "eval run ids (default: every run with labels)")
    .option("--taxonomy <ref>", "the taxonomy the labels were given under", "builtin")
    .option(
      "--annotator <name>",
      "only this person's labels (needed when two labelled one transcript)",
    )
    .option("-o, --out <file>", "the JSONL file to write")
    .action(action("annotateExport"));
}
