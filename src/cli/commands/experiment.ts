import { basename, relative } from "node:path";
import { formatCount, log } from "../../core/index.js";
import {
  type AppliedPreset,
  antiPercent,
  blockedReasons,
  buildStages,
  type DataStep,
  type ExperimentPlan,
  experimentModelIds,
  experimentRunId,
  type LoadedExperiment,
  loadExperiment,
  manualSteps,
  type PresetValue,
  planExperiment,
  planTrainedArms,
  reasoningProgress,
  runExperiment,
  type StageGraph,
  specSource,
  stageStatus,
  stagesSpend,
  type TrainedArmsPlan,
} from "../../experiment/index.js";
import type { CliContext } from "../context.js";
import { EXIT_SOME_CALLS_FAILED, EXIT_USER_ERROR } from "../exit-codes.js";
import { withInterrupt } from "../interrupt.js";
import { formatTable, formatUsd, printJson, printTable, unscoredColumns } from "../output.js";

async function load(
  ctx: CliContext,
  file: string,
): Promise<{ loaded: LoadedExperiment; graph: StageGraph }> {
  const loaded = loadExperiment(file);
  const graph = await buildStages(loaded, ctx.llm());
  return { loaded, graph };
}

/** What a data step holds, for tables: its spec, and what a mix adds to it (and how much). */
function dataLabel(d: {
  step: DataStep;
  itExamples?: number;
  antiExamples?: number;
  sharesCallsWith?: string;
}): string {
  const step = d.step;
  if (step.kind === "pref") {
    const c = step.contamination;
    return `${step.spec} preference pairs${c ? ` (${antiPercent(c.fraction)}% ${c.kind})` : ""}`;
  }
  if (step.kind !== "mix")
    return d.sharesCallsWith
      ? `${step.spec} (${step.chatTemplate} template; model calls of ${basename(d.sharesCallsWith)})`
      : step.recipe
        ? `${step.spec} (recipe ${step.recipe})`
        : step.spec;
  const it = !step.it ? "" : d.itExamples !== undefined ? `${d.itExamples} IT examples` : "IT data";
  if (!step.spec) return `${it} only`;
  const anti = step.anti
    ? ` + ${antiPercent(step.anti.fraction)}% ${step.anti.spec}${d.antiExamples !== undefined ? ` (${d.antiExamples} examples)` : ""}`
    : "";
  return `${step.spec}${anti}${it ? ` + ${it}` : ""}`;
}

/** A value a preset set, short enough for a table cell (an added arm by name and kind). */
function presetCell(v: PresetValue): [string, string] {
  if (v.path.startsWith("arms.")) {
    const arm = v.value as { name: string; kind: string };
    return ["arms", `+ ${arm.name} (${arm.kind})`];
  }
  return [v.path, JSON.stringify(v.value).replaceAll('"', "").replaceAll(",", ", ")];
}

/** Every value the preset set, and what it could not (so the plan hides nothing it chose). */
function printPreset(preset: AppliedPreset): void {
  const out = process.stdout;
  out.write(`preset ${preset.name} set ${preset.values.length} value(s) the file leaves out:\n`);
  out.write(
    formatTable(
      ["setting", "value", "why"],
      preset.values.map((v) => [...presetCell(v), v.why]),
    ),
  );
  for (const note of preset.notes) out.write(`note: ${note}\n`);
  out.write("\n");
}

function printPlan(
  loaded: LoadedExperiment,
  graph: StageGraph,
  plan: ExperimentPlan,
  trained: TrainedArmsPlan,
): void {
  const out = process.stdout;
  if (loaded.preset) printPreset(loaded.preset);
  out.write(`${loaded.experiment.name}: ${graph.stages.length} eval stage(s)\n\n`);
  out.write(
    formatTable(
      ["spec", "sha256", "source"],
      [
        ...graph.specs.map((s) => [s.name, s.hash.slice(0, 16), specSource(s)]),
        ...graph.pending.map((s) => [
          s.name,
          "-",
          `to derive from ${s.from} by ${s.transform}${s.model ? ` with ${s.model}` : ""} (on \`run\`)`,
        ]),
      ],
    ),
  );
  out.write("\n");
  printTable(
    [
      "stage",
      "samples",
      "cached",
      "to run",
      "agent calls",
      "judge calls",
      "input tok",
      "output tok (max)",
      "cost max",
      "batch max",
    ],
    plan.stages.map((p) => [
      p.key,
      p.samples,
      p.done,
      p.remaining,
      p.agentCalls,
      p.judgeCalls,
      formatCount(p.agentInputTokens + p.judgeInputTokensMax),
      formatCount(p.agentOutputTokensMax + p.judgeOutputTokensMax),
      formatUsd(p.costMax),
      formatUsd(p.costMaxBatch),
    ]),
  );
  const t = plan.totals;
  out.write(
    `\ntotal: ${t.remaining} of ${t.samples} samples to run (${t.done} cached), ${t.agentCalls} agent and ${t.judgeCalls} judge calls at most;\n` +
      `cost at most ${formatUsd(t.costMax)} online, ${formatUsd(t.costMaxBatch)} through batch APIs (list prices; every answer at its full output budget).\n` +
      "Token counts use the o200k tokenizer for every model: an estimate. Judge retries can add calls.\n",
  );
  if (graph.waiting.length)
    out.write(
      `\n${graph.waiting.length} more stage(s) wait for spec variants that \`run\` writes first (${graph.pending.map((s) => s.name).join(", ")}); they are planned once those exist, and neither they nor the calls that write the variants are in the totals above:\n${graph.waiting.map((w) => `  ${w.key} (needs ${w.spec})`).join("\n")}\n`,
    );
  if (graph.training.length) {
    out.write(
      `\n${graph.training.length} stage(s) of trained arms wait for their models; \`run\` makes their data, trains and serves them first:\n${graph.training.map((t) => `  ${t.key} (${t.stale ? "retrains" : "needs"} ${t.run}/${t.stage})`).join("\n")}\n\n`,
    );
    printTable(
      ["data", "spec", "state", "calls", "cost (expected)"],
      trained.data.map((d) => [
        relative(process.cwd(), d.step.dir) || d.step.dir,
        dataLabel(d),
        d.state,
        d.calls,
        formatUsd(d.costExpected),
      ]),
    );
    const missing = trained.training.find((t) => t.missing)?.missing;
    const toMake = trained.data.filter((d) => d.state === "to make");
    const dataCost = toMake.some((d) => d.costExpected === null)
      ? null
      : toMake.reduce((a, d) => a + (d.costExpected ?? 0), 0);
    const runs = trained.training.reduce((n, t) => n + t.seeds.length, 0);
    out.write(
      `\ndata to make: ${toMake.length} of ${trained.data.length}, about ${formatUsd(dataCost)} expected (the recipes' estimate at list prices; not in the totals above).\n` +
        `training: ${trained.training.length} arm plan(s), ${runs} run(s) with ${trained.training[0]?.engine} (MSM runs shared by the cells that continue them come on top)${missing ? `; ${missing}, so \`run\` will stop before training` : ""}. \`--json\` lists them.\n`,
    );
  }
  const reasoning = loaded.experiment.analysis?.reasoning;
  if (reasoning) {
    const raters = reasoning.labellers.length * reasoning.repeats;
    out.write(
      `\nreasoning analysis after the evals: about ${t.samples * raters} labelling call(s) (${t.samples} transcripts × ${reasoning.labellers.length} labeller(s) × ${reasoning.repeats} repeat(s), plus retries and one reading per misuse claim) by ${reasoning.labellers.join(", ")}; not in the totals above.\n`,
    );
  }
  const limit = loaded.experiment.budget?.max_usd;
  if (limit !== undefined)
    out.write(`budget: ${formatUsd(limit)}; the run stops, resumably, once it is spent.\n`);
}

/** `specsci plan` */
export async function plan(ctx: CliContext, file: string) {
  const { loaded, graph } = await load(ctx, file);
  const client = ctx.llm();
  const ids = experimentModelIds(loaded.experiment);
  for (const id of ids) client.notices.check(id);
  const unpriced = ids.filter((id) => !client.prices.knows(id));
  if (unpriced.length)
    log.warn(
      `no list price for ${unpriced.join(", ")}: costs that include them show as unknown; add their prices under prices: in specsci.yaml`,
    );
  const plan = planExperiment(graph.stages, client, ctx.store);
  const trained = planTrainedArms(loaded, ctx.llm(), graph);
  if (ctx.json)
    return printJson({
      experiment: loaded.experiment.name,
      ...(loaded.preset ? { preset: loaded.preset } : {}),
      specs: graph.specs.map((s) => ({ name: s.name, hash: s.hash, source: specSource(s) })),
      pending: graph.pending,
      waiting: graph.waiting,
      training: graph.training,
      trainedArms: trained,
      ...plan,
    });
  printPlan(loaded, graph, plan, trained);
}

/** `specsci run` */
export async function run(ctx: CliContext, file: string) {
  const loaded = loadExperiment(file);
  const client = ctx.llm();
  const result = await withInterrupt((signal) => runExperiment(loaded, client, { signal }));
  const { stages, summaries, training, trainedArms, blocked } = result;
  const todos = trainedArms?.todos ?? [];
  const failed = summaries.reduce((n, s) => n + s.errors, 0);
  const truncated = summaries.filter((s) => s.truncated > 0);
  const refused = summaries.reduce((n, s) => n + s.refused, 0);
  const spent = stagesSpend(
    stages,
    client,
    experimentRunId(loaded),
    trainedArms?.data.map((d) => d.runId),
  );
  // Stages held up (not served) have no summary: summaries are matched by run id.
  const ran = new Map(summaries.map((s) => [s.runId, s]));
  if (ctx.json) {
    printJson({
      experiment: loaded.experiment.name,
      summaries,
      spentUsd: spent,
      data: trainedArms?.data ?? [],
      trained: trainedArms?.trained.map((a) => a.id) ?? [],
      blocked,
      training: todos,
    });
  } else {
    if (trainedArms?.data.length)
      printTable(
        ["data", "spec", "state"],
        trainedArms.data.map((d) => [d.step.dir, dataLabel(d), d.made ? "made now" : "up to date"]),
      );
    if (trainedArms?.trained.length)
      process.stdout.write(`\ntrained: ${trainedArms.trained.map((a) => a.id).join(", ")}\n\n`);
    const unscored = unscoredColumns(summaries);
    printTable(
      ["stage", "run", "done now", "resumed", "failed", ...unscored.heads],
      stages.map((st) => {
        const s = ran.get(st.runId);
        return s
          ? [st.key, st.runId, s.done, s.resumed, s.errors, ...unscored.cells(s)]
          : [st.key, st.runId, "not run", "", "", ...unscored.cells(null)];
      }),
    );
    process.stdout.write(
      `\nspent ${formatUsd(spent)}. Next: specsci report ${file} -o report.html\n`,
    );
    if (blocked.length) {
      const unserved = blocked.filter((b) => b.key).length;
      process.stdout.write(
        `\nnot run here: ${training.length} eval stage(s) wait for a trained model${unserved ? `, ${unserved} for a server` : ""}:\n`,
      );
      for (const r of blockedReasons(blocked))
        process.stdout.write(`  ${r.whats.join(", ")}: ${r.reason}\n    → ${r.hint}\n`);
      const steps = manualSteps(loaded, result);
      if (steps) {
        process.stdout.write(
          `\nBy hand, where the hardware is (with this workspace and these files):\n${steps.map((c) => `  ${c}`).join("\n")}\nthen run this again.\n`,
        );
      }
    }
  }
  if (blocked.length) {
    log.warn(
      `${blocked.length} trained arm step(s) could not run here (above); everything before them is done`,
    );
    process.exitCode = EXIT_USER_ERROR;
  }
  const labelFailures = result.analyses.reduce((n, a) => n + (a.failures ?? 0), 0);
  if (labelFailures) {
    log.warn(
      `${labelFailures} reasoning label(s) or misuse reading(s) failed; they are in no rate. Run again to retry failed calls.`,
    );
    process.exitCode = EXIT_SOME_CALLS_FAILED;
  }
  if (failed) {
    log.warn(
      `${failed} sample(s) failed; they are excluded from every rate. Run the same command again to retry them.`,
    );
    process.exitCode = EXIT_SOME_CALLS_FAILED;
  }
  if (truncated.length) {
    const n = truncated.reduce((k, s) => k + s.truncated, 0);
    const budgets = [...new Set(truncated.map((s) => s.maxTokens))].join(", ");
    log.warn(
      `${n} answer(s) were cut off at their output budget (max_tokens ${budgets}); they are excluded from every rate. Set retry_max_tokens (larger than max_tokens) on the eval in ${file} and run again to redraw only them, or raise max_tokens to rerun every sample.`,
    );
    process.exitCode = EXIT_SOME_CALLS_FAILED;
  }
  if (refused)
    log.warn(
      `${refused} sample(s) were refused by the provider; they are excluded from every rate.`,
    );
}

/** `specsci status` */
export async function status(ctx: CliContext, file: string) {
  const { loaded, graph } = await load(ctx, file);
  const status = stageStatus(graph.stages, ctx.llm());
  const spent = stagesSpend(graph.stages, ctx.llm(), experimentRunId(loaded));
  const reasoning = reasoningProgress(loaded, graph, ctx.store);
  if (ctx.json)
    return printJson({
      experiment: loaded.experiment.name,
      reasoning,
      pending: graph.pending,
      stages: status,
      waiting: graph.waiting,
      training: graph.training,
      spentUsd: spent,
    });
  const unscored = unscoredColumns(status);
  const blank = ["", "", ...unscored.cells(null), "", "", ""];
  printTable(
    ["stage", "state", "done", "failed", ...unscored.heads, "samples", "spent", "run"],
    [
      ...graph.pending.map((p) => [`spec/${p.name}`, "not derived yet", ...blank]),
      ...status.map((s) => [
        s.key,
        s.state,
        s.done,
        s.errors,
        ...unscored.cells(s),
        s.samples,
        formatUsd(s.spentUsd),
        s.runId,
      ]),
      ...graph.waiting.map((w) => [w.key, `waits for spec/${w.spec}`, ...blank]),
      ...graph.training.map((t) => [
        t.key,
        t.stale
          ? `retrain ${t.run}/${t.stage}: its spec, recipe or settings changed`
          : `waits for model ${t.run}/${t.stage}`,
        ...blank,
      ]),
    ],
  );
  const done = status.filter((s) => s.state === "done").length;
  const total = status.length + graph.waiting.length + graph.training.length;
  process.stdout.write(`\n${done}/${total} stage(s) done; spent ${formatUsd(spent)}\n`);
  if (reasoning)
    process.stdout.write(
      `reasoning analysis: ${reasoning.labelled} of ${reasoning.transcripts} transcript(s) labelled, ${reasoning.failed} failed, ${reasoning.pending} not labelled yet\n`,
    );
}
