import { join } from "node:path";
import {
  checkOutputPath,
  displayPath,
  hashValue,
  log,
  SpecsciError,
  writeFileAtomic,
} from "../../core/index.js";
import {
  type CheckedDerivation,
  checkSpecFile,
  type DeriveOptions,
  type DeriveParams,
  deriveCheckedRichnessLadder,
  deriveCheckedSpec,
  diffSpecs,
  formatDiagnostic,
  formatDiff,
  importSpec,
  isTokenizerName,
  isTransformName,
  loadValidSpec,
  specStats as measureSpec,
  type PlaceholderValues,
  readSpecSource,
  requireValidSpec,
  resolveSpecRef,
  rulesOf,
  subrulesOf,
  TRANSFORMS,
} from "../../spec/index.js";
import type { CliContext } from "../context.js";
import { printJson, printTable } from "../output.js";
import { roleModel } from "../role-models.js";

/** `specsci spec lint` */
export function specLint(
  ctx: CliContext,
  files: string[],
  opts: { strict?: boolean; set?: PlaceholderValues },
) {
  const results = files.map((f) => {
    const path = resolveSpecRef(f);
    return {
      file: displayPath(path),
      diagnostics: checkSpecFile(path, { set: opts.set }).diagnostics,
    };
  });
  if (ctx.json) printJson(results);
  else
    for (const r of results)
      for (const d of r.diagnostics) process.stdout.write(`${formatDiagnostic(r.file, d)}\n`);
  const all = results.flatMap((r) => r.diagnostics);
  const errors = all.filter((d) => d.severity === "error").length;
  const warnings = all.length - errors;
  log.info(`${results.length} file(s): ${errors} error(s), ${warnings} warning(s)`);
  if (errors || (opts.strict && warnings)) process.exitCode = 1;
}

/** `specsci spec stats` */
export function specStats(ctx: CliContext, refs: string[], opts: { set?: PlaceholderValues }) {
  const rows = refs.map((ref) => {
    const { spec: s, path } = loadValidSpec(ref, opts.set);
    return { spec: displayPath(path), ...measureSpec(s) };
  });
  if (ctx.json) return printJson(rows);
  printTable(
    ["spec", "words", "chars", "rules", "subrules", "explanation", "qwen3 tokens", "o200k tokens"],
    rows.map((r) => [
      r.spec,
      r.words,
      r.characters,
      r.rules,
      r.subrules,
      `${Math.round(r.explanationShare * 100)}%`,
      r.tokens.qwen3 ?? 0,
      r.tokens["gpt-o200k"] ?? 0,
    ]),
  );
}

/** `specsci spec diff` */
export function specDiff(ctx: CliContext, a: string, b: string, opts: { set?: PlaceholderValues }) {
  const A = loadValidSpec(a, opts.set);
  const B = loadValidSpec(b, opts.set);
  const d = diffSpecs(A.spec, B.spec);
  if (ctx.json) return printJson(d);
  process.stdout.write(formatDiff(d, [displayPath(A.path), displayPath(B.path)]));
}

/** `specsci spec import` */
export function specImport(
  ctx: CliContext,
  file: string,
  opts: { out?: string; set?: PlaceholderValues },
) {
  const out = opts.out === undefined ? undefined : checkOutputPath(opts.out, "file", "-o/--out");
  const result = importSpec(readSpecSource(file), file, opts.set);
  requireValidSpec(result.spec, result.diagnostics, displayPath(file));
  if (out) writeFileAtomic(out, result.markdown);
  else process.stdout.write(result.markdown);
  const rules = rulesOf(result.spec);
  const summary = {
    out: opts.out ?? null,
    source: displayPath(file),
    layout: result.layout,
    rules: rules.length,
    subrules: rules.reduce((k, r) => k + subrulesOf(r).length, 0),
    set: opts.set ?? {},
  };
  if (ctx.json && opts.out) printJson(summary);
  else
    log.info(
      `${opts.out ? `wrote ${opts.out}` : "imported"} from ${summary.source} (${summary.layout} layout): ${summary.rules} rules, ${summary.subrules} subrules`,
    );
}

/** `specsci spec derive` */
export async function specDerive(
  ctx: CliContext,
  base: string,
  opts: Record<string, unknown> & {
    transform: string;
    out?: string;
    name?: string;
    model?: string;
    set?: PlaceholderValues;
  },
) {
  const transform = opts.transform;
  if (!isTransformName(transform)) throw new SpecsciError(`unknown transform ${transform}`);
  // richness-ladder without --rung writes the whole ladder, one file per rung, into -o DIR.
  const ladder = transform === "richness-ladder" && opts.rung === undefined;
  if (ladder && opts.out === undefined)
    throw new SpecsciError("richness-ladder without --rung writes every rung: give -o DIR", {
      hint: "or pick one rung with --rung N (0 to the number of steps)",
    });
  const out =
    opts.out === undefined
      ? undefined
      : checkOutputPath(opts.out, ladder ? "dir" : "file", "-o/--out");
  const parent = loadValidSpec(base, opts.set);
  const params: DeriveParams = {};
  for (const key of [
    "keepPreamble",
    "rules",
    "sections",
    "modelName",
    "developer",
    "humans",
    "start",
    "words",
    "count",
    "mode",
    "lang",
    "title",
    "tolerance",
    "rounds",
    "rung",
    "steps",
    "paragraphs",
    "targetTokens",
  ] as const) {
    if (opts[key] !== undefined) (params as Record<string, unknown>)[key] = opts[key];
  }
  if (transform === "match-length") {
    if (typeof opts.to !== "string")
      throw new SpecsciError("match-length needs --to OTHER (a spec file or built-in name)");
    const target = loadValidSpec(opts.to, opts.set);
    params.to = {
      spec: target.spec,
      label:
        typeof target.spec.frontMatter.name === "string"
          ? target.spec.frontMatter.name
          : displayPath(target.path),
    };
  }
  if (
    (transform === "match-length" || transform === "richness-ladder") &&
    typeof opts.tokenizer === "string" &&
    isTokenizerName(opts.tokenizer)
  )
    params.tokenizer = opts.tokenizer;
  const needsModel = TRANSFORMS[transform].model;
  const deriveOpts: DeriveOptions = {};
  if (opts.name) deriveOpts.name = opts.name;
  if (needsModel) {
    const model = roleModel(ctx, "generator", opts.model, "--model");
    const runId = `spec-derive-${hashValue({ base: parent.path, transform, opts: { ...opts, model: model.id } }).slice(0, 12)}`;
    ctx.store.runs.ensure({
      id: runId,
      kind: "spec-derive",
      name: `${displayPath(parent.path)} ${transform}`,
    });
    deriveOpts.model = {
      model,
      context: { runId, stage: transform },
      attempts: opts.attempts as number,
      ...(opts.temperature !== undefined ? { temperature: opts.temperature as number } : {}),
    };
  }
  if (ladder) {
    const rungs = await deriveCheckedRichnessLadder(parent.spec, params, deriveOpts);
    const summaries = rungs.map((r) => {
      const file = join(out as string, `${r.spec.frontMatter.name}.md`);
      writeFileAtomic(file, r.markdown);
      return derivedSummary(ctx, r, displayPath(file));
    });
    if (ctx.json) printJson(summaries);
    return;
  }
  const result = await deriveCheckedSpec(parent.spec, transform, params, deriveOpts);
  const markdown = result.markdown;
  if (out) writeFileAtomic(out, markdown);
  else process.stdout.write(markdown);
  const summary = derivedSummary(ctx, result, opts.out);
  if (ctx.json && opts.out) printJson(summary);
}

/** What `spec derive` says of a variant it wrote: its size, its length report, its lineage. */
function derivedSummary(ctx: CliContext, result: CheckedDerivation, out: string | undefined) {
  const stats = measureSpec(result.spec, ["qwen3"]);
  const summary = {
    out: out ?? null,
    name: result.spec.frontMatter.name,
    rules: rulesOf(result.spec).length,
    words: stats.words,
    qwen3_tokens: stats.tokens.qwen3,
    report: result.report ?? null,
    lineage: result.lineage,
  };
  if (!ctx.json || !out) {
    const r = result.report;
    const ratio = !r
      ? ""
      : "rounds" in r
        ? `, length ratio ${r.ratio.toFixed(3)} after ${r.rounds} round(s)`
        : `, rung ${r.rung} (${r.name}), length ratio ${r.ratio.toFixed(3)} with ${r.fillerWords} filler words`;
    log.info(
      `${out ? `wrote ${out}` : "derived"}: ${summary.name}, ${summary.rules} rules, ${summary.words} words, ${summary.qwen3_tokens} Qwen3 tokens${ratio}`,
    );
  }
  return summary;
}
