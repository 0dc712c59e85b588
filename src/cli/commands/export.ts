import { existsSync, statSync } from "node:fs";
import { checkOutputPath, createProgress, displayPath, SpecsciError } from "../../core/index.js";
import { buildStages, loadExperiment } from "../../experiment/index.js";
import {
  experimentSource,
  runSource,
  type SampleSource,
  sampleColumns,
  sampleDictionary,
  sampleFormat,
  writeSamples,
} from "../../report/index.js";
import type { CliContext } from "../context.js";
import { printJson } from "../output.js";

/** The runs of an experiment file, or one eval run by id. */
async function samplesOf(ctx: CliContext, target: string): Promise<SampleSource> {
  if (existsSync(target) && statSync(target).isFile()) {
    const loaded = loadExperiment(target);
    return experimentSource(loaded, await buildStages(loaded, ctx.llm()), ctx.store);
  }
  if (!ctx.store.evals.run(target))
    throw new SpecsciError(`"${target}" is neither an experiment file nor an eval run`, {
      hint: "give an experiment.yaml, or a run id from `specsci eval list`",
    });
  return runSource(ctx.store, target);
}

/** `specsci export samples` */
export async function exportSamples(
  ctx: CliContext,
  target: string,
  o: { out?: string; dictionary?: boolean },
) {
  if (o.dictionary) {
    const source = await samplesOf(ctx, target);
    const format = o.out ? sampleFormat(o.out) : "csv";
    process.stdout.write(sampleDictionary(sampleColumns(source), format));
    return;
  }
  if (!o.out)
    throw new SpecsciError("export samples needs -o FILE", {
      hint: "name a .csv, .jsonl or .parquet file, e.g. -o samples.parquet",
    });
  // The extension and the path are checked before any run is read.
  sampleFormat(o.out);
  const file = checkOutputPath(o.out, "file", "-o/--out");
  const source = await samplesOf(ctx, target);
  let bar: ReturnType<typeof createProgress> | undefined;
  const written = writeSamples(ctx.store, source, file, {
    total: (n) => {
      bar = createProgress("export samples", n);
    },
    row: () => bar?.increment(),
  });
  bar?.stop();
  if (ctx.json) return printJson(written);
  process.stdout.write(
    `${written.rows} rows × ${written.columns} columns: ${displayPath(written.file)}\ndictionary: ${displayPath(written.dictionary)}\n`,
  );
}
