import { exportHumanLabels, humanLabelsOf, resolveTaxonomy } from "../../analysis/index.js";
import { checkOutputPath, log } from "../../core/index.js";
import type { CliContext } from "../context.js";
import { printJson } from "../output.js";

/** `specsci annotate export` */
export async function annotateExport(
  ctx: CliContext,
  runs: string[],
  o: { taxonomy: string; annotator?: string; out?: string },
) {
  if (o.out) checkOutputPath(o.out, "file", "-o/--out");
  const store = ctx.store;
  const runIds = runs.length ? runs : [...new Set(store.annotations.list().map((a) => a.runId))];
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
}
