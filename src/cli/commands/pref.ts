import { join } from "node:path";
import { checkOutputPath, displayPath, log, SpecsciError } from "../../core/index.js";
import {
  buildPrefSet,
  type ContaminationKind,
  loadPrefConfig,
  withFailedItems,
  writeFailedItems,
  writePrefSet,
} from "../../data/index.js";
import { loadValidSpec, type PlaceholderValues, specHash, specNameOf } from "../../spec/index.js";
import type { CliContext } from "../context.js";
import { withInterrupt } from "../interrupt.js";
import { formatUsd, printJson, reportItemFailures } from "../output.js";

interface PrefOptions {
  recipe?: string;
  set?: PlaceholderValues;
  out?: string;
  pairs?: number;
  model?: string;
  contamination?: number;
  contaminationKind?: ContaminationKind;
}

/** `specsci aft pref` */
export async function aftPref(ctx: CliContext, ref: string, o: PrefOptions) {
  const { spec, path } = loadValidSpec(ref, o.set);
  const config = loadPrefConfig(o.recipe, "-r/--recipe");
  if (o.pairs !== undefined) config.pairs = o.pairs;
  if (o.model) config.aft.model = o.model;
  if (o.contamination !== undefined) {
    if (!(o.contamination >= 0 && o.contamination <= 1))
      throw new SpecsciError(
        `--contamination ${o.contamination}: the contaminated share of the pairs is 0 to 1`,
      );
    config.contamination.fraction = o.contamination;
  }
  if (o.contaminationKind) config.contamination.kind = o.contaminationKind;
  const name = specNameOf(spec, path);
  const dir = o.out ?? join("prefsets", config.name ?? name);
  checkOutputPath(dir, "dir", o.out ? "-o/--out" : "the preference-set directory");
  const client = ctx.llm();
  const b = await withFailedItems(ctx.store, dir, () =>
    withInterrupt((signal) =>
      buildPrefSet({
        spec,
        specHash: specHash(spec),
        specName: name,
        config,
        client,
        signal,
        log: (m) => log.info(m),
      }),
    ),
  );
  const manifest = await writePrefSet(b, dir, ctx.store, { spec: displayPath(path) });
  const failures = writeFailedItems(ctx.store, b.setId, dir);
  const c = b.contamination;
  if (ctx.json) printJson({ dir, manifest });
  else
    process.stdout.write(
      `${dir}: ${b.selection.selected} pairs from ${b.selection.aft_examples} AFT examples (${b.selection.rounds} round(s))\n` +
        `  rejected answers left out: refused ${b.gates.refused}, truncated ${b.gates.truncated}, judged compliant ${b.gates.not_violating}, unjudged ${b.gates.judge_failed}\n` +
        `  contamination: ${c.pairs} of ${b.selection.selected} pairs ${c.kind} (asked ${c.target})\n` +
        `  cost ${formatUsd(manifest.usage.pref.cost_usd)} (pref stages), ${formatUsd(manifest.usage.aft.cost_usd)} (AFT set)\n`,
    );
  if (b.selection.selected === 0)
    throw new SpecsciError("the preference set is empty: no rejected answer passed", {
      hint: `${join(dir, "manifest.json")} has the counts`,
    });
  if (!b.selection.reached)
    log.warn(`the target of ${config.pairs} pairs was not reached (${b.selection.selected})`);
  if (c.pairs < c.target)
    log.warn(`only ${c.pairs} of ${c.target} pairs could be contaminated (${c.gated} gated)`);
  reportItemFailures({ ...b.aft.stages, ...b.items }, config.aft.attempts, failures.file);
}
