import { join } from "node:path";
import { checkOutputPath, displayPath, formatCount, log, SpecsciError } from "../../core/index.js";
import {
  buildCorpus,
  checkMsmConfig,
  compareCorpora,
  corpusStats,
  formatCorpusStats,
  loadMsmConfig,
  type MsmConfig,
  planCorpus,
  tokenShares,
  withFailedItems,
  writeCorpus,
  writeFailedItems,
} from "../../data/index.js";
import { scenarioPackTexts } from "../../experiment/light.js";
import { defaultModel } from "../../llm/index.js";
import {
  loadValidSpec,
  type PlaceholderValues,
  type Spec,
  specHash,
  specNameOf,
} from "../../spec/index.js";
import type { CliContext } from "../context.js";
import { withInterrupt } from "../interrupt.js";
import { formatUsd, printJson, printTable, reportItemFailures } from "../output.js";

interface MsmOptions {
  recipe?: string;
  set?: PlaceholderValues;
  targetTokens?: number;
  model?: string;
  batch?: boolean;
}

/** The spec and the config with command-line overrides applied. */
function inputs(
  ref: string,
  o: MsmOptions,
  ctx: CliContext,
): { spec: Spec; path: string; name: string; hash: string; config: MsmConfig } {
  const { spec, path } = loadValidSpec(ref, o.set);
  const config = loadMsmConfig(o.recipe, defaultModel("generator", ctx.config), "-r/--recipe");
  if (o.targetTokens !== undefined) config.budget.target_tokens = o.targetTokens;
  if (o.model) config.model = o.model;
  if (o.batch) config.batch = true;
  checkMsmConfig(config, o.recipe ?? "the MSM recipe");
  const name = specNameOf(spec, path);
  return { spec, path, name, hash: specHash(spec), config };
}

/** `specsci msm plan` */
export function msmPlan(ctx: CliContext, ref: string, o: MsmOptions) {
  const { spec, hash, name, config } = inputs(ref, o, ctx);
  const plan = planCorpus(spec, hash, name, config, ctx.llm());
  if (ctx.json) return printJson(plan);
  process.stdout.write(
    `${name}: corpus ${plan.corpusId}, generator ${config.model}${config.batch ? " (batch)" : ""}\n\n`,
  );
  printTable(
    [
      "stage",
      "model",
      "items",
      "calls",
      "done",
      "input tok",
      "output tok (exp / max)",
      "cost exp",
      "batch exp",
      "cost max",
    ],
    plan.stages.map((s) => [
      s.stage,
      s.model,
      s.items,
      s.calls,
      s.done,
      formatCount(s.inputTokens),
      `${formatCount(s.outputTokensExpected)} / ${formatCount(s.outputTokensMax)}`,
      formatUsd(s.costExpected),
      formatUsd(s.costExpectedBatch),
      formatUsd(s.costMax),
    ]),
  );
  const t = plan.totals;
  const purpose = plan.stages.find((s) => s.statingPurpose)?.statingPurpose;
  process.stdout.write(
    `\n${plan.documents.tree} documents in the tree${plan.documents.forBudget === null ? "" : `; about ${plan.documents.forBudget} for the ${formatCount(config.budget.target_tokens ?? 0)}-token budget (at ${config.budget.doc_tokens_estimate} tokens each, plus 15% for gates and dedup)`}.\n` +
      (purpose
        ? `${purpose.calls} document calls are asked to state the training purpose (knobs.training_purpose); its instruction adds ${formatCount(purpose.extraInputTokens)} input tokens, counted above.\n`
        : "") +
      `${t.calls} calls; cost about ${formatUsd(t.costExpected)} online or ${formatUsd(t.costExpectedBatch)} through batch APIs, at most ${formatUsd(t.costMax)} (list prices). Input tokens are o200k estimates.\n`,
  );
}

/** `specsci msm generate` */
export async function msmGenerate(
  ctx: CliContext,
  ref: string,
  o: MsmOptions & { out?: string; contamination: boolean; enforceContamination?: boolean },
) {
  const { spec, path, name, hash, config } = inputs(ref, o, ctx);
  if (o.enforceContamination) config.contamination.enforce = true;
  if (!o.contamination && config.contamination.enforce)
    throw new SpecsciError(
      "--no-contamination skips the contamination check that --enforce-contamination (or contamination.enforce in the recipe) asks to enforce",
      { hint: "drop one of them" },
    );
  const dir = o.out ?? join("corpora", config.name ?? name);
  checkOutputPath(dir, "dir", o.out ? "-o/--out" : "the corpus directory");
  const client = ctx.llm();
  const contamination = o.contamination ? scenarioPackTexts() : undefined;
  const build = await withFailedItems(ctx.store, dir, () =>
    withInterrupt((signal) =>
      buildCorpus({
        spec,
        specHash: hash,
        specName: name,
        config,
        client,
        signal,
        log: (m) => log.info(m),
        ...(contamination ? { contamination } : {}),
      }),
    ),
  );
  const written = await writeCorpus(build, dir, ctx.store, { spec: displayPath(path) });
  const failures = writeFailedItems(ctx.store, build.ctx.corpusId, dir);
  if (build.documents.length === 0) {
    const lost = Object.entries(build.gates)
      .filter(([, k]) => k > 0)
      .map(([g, k]) => `${g} ${k}`);
    const docs = build.stages.documents;
    const failedDocs = docs?.failed
      ? `; ${docs.failed} document item(s) failed, e.g. ${docs.example}`
      : "";
    throw new SpecsciError(
      `the corpus is empty: none of ${build.generated} generated document(s) passed${lost.length ? ` (${lost.join(", ")})` : ""}${failedDocs}`,
      {
        hint: `${join(dir, "manifest.json")} has the counts; check the generator with \`specsci models test\``,
      },
    );
  }
  if (ctx.json) printJson({ dir, manifest: written.manifest });
  else {
    const g = Object.entries(build.gates)
      .filter(([, k]) => k > 0)
      .map(([gate, k]) => `${gate} ${k}`);
    process.stdout.write(
      `${dir}: ${build.documents.length} documents, ${build.budget.tokens} tokens (${config.tokenizer})\n` +
        `  written ${build.generated} in ${build.waves + 1} wave(s); gated: ${g.length ? g.join(", ") : "none"}; duplicates: ${build.dedup.exact} exact, ${build.dedup.near} near` +
        `${build.budget.trimmed_documents ? `; trimmed ${build.budget.trimmed_documents} to the budget` : ""}\n` +
        `${build.contamination ? `  contamination: ${build.contamination.documents} document(s) share a ${build.contamination.ngram}-word sequence with the scenario pack${build.contamination.enforced ? " (dropped)" : ""}\n` : ""}` +
        `  cost ${formatUsd((written.manifest.usage as { cost_usd: number | null }).cost_usd)}; manifest, card and exports in ${dir}\n`,
    );
  }
  for (const why of build.skipped_gates) log.warn(`gate skipped: ${why}`);
  if (!build.budget.reached)
    log.warn(
      `the budget of ${build.budget.target_tokens} tokens was not reached (${build.budget.tokens_before_trim} after ${build.waves} extra wave(s)); raise budget.max_waves or the tree's counts and run again`,
    );
  reportItemFailures(build.stages, config.attempts, failures.file);
}

/** `specsci msm compare` */
export function msmCompare(ctx: CliContext, a: string, b: string, o: { tolerance: number }) {
  const c = compareCorpora(a, b, o.tolerance);
  if (ctx.json) return printJson(c);
  const row = (what: string, f: (s: typeof c.a) => string | number) => [what, f(c.a), f(c.b)];
  printTable(
    ["", c.a.dir, c.b.dir],
    [
      row("spec", (s) => s.spec),
      row("documents", (s) => s.documents),
      row("tokens", (s) => s.tokens),
      row("generated", (s) => s.generated),
      row("duplicates removed", (s) => s.duplicates),
      row("truncation rate", (s) => `${(s.truncationRate * 100).toFixed(1)}%`),
      ...Object.keys({ ...c.a.gates, ...c.b.gates }).map((g) =>
        row(`gate ${g}`, (s) => s.gates[g] ?? 0),
      ),
      ...Object.keys({ ...c.a.distinct, ...c.b.distinct }).map((k) =>
        row(`distinct-${k}`, (s) => (s.distinct[k] ?? 0).toFixed(3)),
      ),
    ],
  );
  for (const [what, f] of [
    ["domain", (s: typeof c.a) => s.byDomain],
    ["document type", (s: typeof c.a) => s.byDocType],
  ] as const) {
    const ma = tokenShares(f(c.a));
    const mb = tokenShares(f(c.b));
    process.stdout.write(`\n${what} mix (share of tokens):\n`);
    printTable(
      [`${c.a.dir}`, "share", `${c.b.dir}`, "share"],
      Array.from({ length: Math.max(ma.length, mb.length) }, (_, i) => [
        ma[i]?.name ?? "",
        ma[i] ? `${(ma[i].share * 100).toFixed(1)}%` : "",
        mb[i]?.name ?? "",
        mb[i] ? `${(mb[i].share * 100).toFixed(1)}%` : "",
      ]),
    );
  }
  process.stdout.write(
    `\ntokens differ by ${(c.tokenDifference * 100).toFixed(2)}%: ${c.matched ? "matched" : `NOT matched: ${c.problems.join("; ")}`}\n`,
  );
  if (!c.matched) process.exitCode = 1;
}

/** `specsci msm stats` */
export async function msmStats(ctx: CliContext, p: string) {
  const file = p.endsWith(".jsonl") ? p : join(p, "dataset.jsonl");
  const stats = await corpusStats(file);
  if (ctx.json) return printJson(stats);
  process.stdout.write(`${formatCorpusStats(stats)}\n`);
}
