import { existsSync, statSync } from "node:fs";
import {
  type CodeVersion,
  checkOutputPath,
  codeVersion,
  log,
  SpecsciError,
} from "../../core/index.js";
import { buildStages, experimentRunId, loadExperiment } from "../../experiment/index.js";
import {
  experimentResults,
  type ReportData,
  runResults,
  writeFigures,
  writeReport,
} from "../../report/index.js";
import type { CliContext } from "../context.js";
import { printJson } from "../output.js";

/** The report for an experiment file, or for one eval run id. */
async function reportData(ctx: CliContext, target: string, examples: number): Promise<ReportData> {
  if (existsSync(target) && statSync(target).isFile()) {
    const loaded = loadExperiment(target);
    const graph = await buildStages(loaded, ctx.llm());
    const recorded = ctx.store.runs.get(experimentRunId(loaded))?.config as
      | { code?: CodeVersion }
      | undefined;
    if (!recorded)
      log.warn(
        `${loaded.experiment.name} has not been run in this workspace: the report will be empty`,
      );
    // The code version that produced the results, not the one drawing the report.
    return experimentResults(loaded, graph, ctx.store, recorded?.code ?? codeVersion(), {
      examplesPerArm: examples,
    });
  }
  if (!ctx.store.evals.run(target))
    throw new SpecsciError(`"${target}" is neither an experiment file nor an eval run`, {
      hint: "give an experiment.yaml, or a run id from `specsci eval list`",
    });
  return runResults(ctx.store, target, codeVersion());
}

/** `specsci report` */
export async function report(
  ctx: CliContext,
  target: string,
  o: { out: string; examples: number; figures?: string },
) {
  checkOutputPath(o.out, "file", o.out === "report.html" ? "the report file" : "-o/--out");
  if (o.figures !== undefined) checkOutputPath(o.figures, "dir", "--figures");
  const data = await reportData(ctx, target, o.examples);
  const written = await writeReport(data, o.out);
  const figures = o.figures === undefined ? undefined : await writeFigures(data, o.figures);
  if (ctx.json) return printJson({ ...written, ...(figures ? { figures } : {}) });
  process.stdout.write(
    `report: ${written.html}\ntables: ${[written.markdown, written.latex, ...written.csv].join(", ")}\n`,
  );
  if (figures)
    process.stdout.write(
      `figures: ${figures.dir} (${figures.figures.map((f) => f.name).join(", ")}; captions in ${figures.index})\n`,
    );
}
