import type { Command } from "commander";
import { exportHumanLabels, humanLabelsOf } from "../../analysis/annotations/index.js";
import { resolveTaxonomy } from "../../analysis/reasoning/index.js";
import { checkOutputPath } from "../../core/fs.js";
import { log } from "../../core/log.js";
import type { ContextFactory } from "../context.js";
import { printJson } from "../output.js";

export function registerAnnotateCommands(program: Command, context: ContextFactory): void {
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
    .action(async (runs: string[], o: { taxonomy: string; annotator?: string; out?: string }) => {
      const ctx = context();
      if (o.out) checkOutputPath(o.out, "file", "-o/--out");
      const store = ctx.store;
      const runIds = runs.length
        ? runs
        : [...new Set(store.annotations.list().map((a) => a.runId))];
      const options = {
        runIds,
        taxonomy: resolveTaxonomy(store, o.taxonomy, "--taxonomy"),
        ...(o.annotator === undefined ? {} : { annotator: o.annotator }),
      };
      const out = o.out
        ? await exportHumanLabels(store, o.out, options)
        : humanLabelsOf(store, options);
      const s = out.skipped;
      for (const [n, why] of [
        [s.otherTaxonomy, "labelled under another taxonomy (give it with --taxonomy)"],
        [s.stale, "about an answer a rerun has since replaced"],
        [s.policyMisuseUnsure, "unsure about policy misuse, which the taxonomy has as a category"],
      ] as const)
        if (n) log.warn(`${n} label(s) not written: ${why}`);
      if (ctx.json)
        return printJson({
          file: o.out ?? null,
          count: out.lines.length,
          skipped: s,
          ...(o.out ? {} : { lines: out.lines }),
        });
      if (o.out) log.info(`wrote ${out.lines.length} label(s) to ${o.out}`);
      else for (const l of out.lines) process.stdout.write(`${JSON.stringify(l)}\n`);
    });
}
