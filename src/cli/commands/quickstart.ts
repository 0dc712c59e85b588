import { resolve } from "node:path";
import { checkOutputPath, codeVersion, log } from "../../core/index.js";
import {
  buildStages,
  experimentRunId,
  loadExperiment,
  planExperiment,
  resolveQuickstartModels,
  runExperiment,
  stagesSpend,
  writeQuickstartExperiment,
} from "../../experiment/index.js";
import { DEFAULT_MODELS, defaultModelCacheDir } from "../../llm/index.js";
import { experimentResults, pct, writeReport } from "../../report/index.js";
import type { CliContext } from "../context.js";
import { EXIT_SOME_CALLS_FAILED } from "../exit-codes.js";
import { withInterrupt } from "../interrupt.js";
import { downloadProgress, formatUsd, printJson } from "../output.js";

/** `specsci quickstart` */
export async function quickstart(
  ctx: CliContext,
  opts: { model?: string; judge?: string; demo?: boolean; out: string },
) {
  const out = checkOutputPath(opts.out, "dir", "-o/--out");
  const models = await resolveQuickstartModels({
    model: opts.model,
    judge: opts.judge,
    demo: opts.demo,
    defaults: ctx.config.defaults,
    cacheDir: ctx.config.providers.local?.model_cache_dir ?? defaultModelCacheDir(),
    onDownloadProgress: downloadProgress(),
  });
  if (models.selfJudged)
    log.warn(
      `${models.model} judges its own answers, and a model may grade itself leniently: pass --judge <id> (e.g. --judge ${DEFAULT_MODELS.anthropic.judge}) or set defaults.judge in specsci.yaml for an independent judge`,
    );
  const file = writeQuickstartExperiment(out, models);
  const loaded = loadExperiment(file);
  const client = ctx.llm();
  const plan = planExperiment((await buildStages(loaded, client)).stages, client, ctx.store);
  log.info(
    `specsci quickstart: ${models.model} (from ${models.source}), judged by ${models.judge}${models.synthetic ? "; demo: built-in tiny model, outputs are synthetic" : ""}\n` +
      `${plan.totals.remaining} of ${plan.totals.samples} samples to run (${plan.totals.done} cached); cost at most ${formatUsd(plan.totals.costMax)}\n` +
      `experiment: ${file}`,
  );
  const { summaries, ...graph } = await withInterrupt((signal) =>
    runExperiment(loaded, client, { signal }),
  );
  const data = experimentResults(loaded, graph, ctx.store, codeVersion());
  const written = await writeReport(data, resolve(out, "report.html"));
  const failed = summaries.reduce((n, s) => n + s.errors, 0);
  const spent = stagesSpend(graph.stages, client, experimentRunId(loaded));
  if (ctx.json) {
    printJson({
      models,
      experiment: file,
      report: written,
      arms: data.arms.map((a) => ({ arm: a.arm, model: a.model, ...a.metrics.pooled })),
      failed,
      spentUsd: spent,
    });
  } else {
    const w = process.stdout;
    w.write(
      `\n${models.synthetic ? "[SYNTHETIC OUTPUTS] " : ""}misalignment rate by arm (95% Wilson interval):\n`,
    );
    for (const a of data.arms) {
      const p = a.metrics.pooled;
      w.write(
        `  ${a.arm.padEnd(16)} ${pct(p.rate).padStart(6)}  [${pct(p.ci[0])}, ${pct(p.ci[1])}]  ${p.misaligned}/${p.n}${a.metrics.errors.total ? `  (${a.metrics.errors.total} failed)` : ""}\n`,
      );
    }
    w.write(
      `\nreport: ${written.html}\nspent ${formatUsd(spent)}. Edit ${file} and run \`specsci run ${file}\` to go further; \`specsci report ${file} -o report.html\` redraws the report.\n`,
    );
  }
  if (failed) {
    log.warn(
      `${failed} sample(s) failed and are excluded from every rate; run the quickstart again to retry them`,
    );
    process.exitCode = EXIT_SOME_CALLS_FAILED;
  }
}
