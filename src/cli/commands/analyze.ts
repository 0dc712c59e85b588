import {
  loadHumanLabels,
  type ReasoningResults,
  resolveTaxonomy,
  analyzeReasoning as runReasoningAnalysis,
  specUnderTest,
  taxonomyYaml,
} from "../../analysis/index.js";
import { checkOutputPath, log, SpecsciError, writeFileAtomic } from "../../core/index.js";
import type { PlaceholderValues } from "../../spec/index.js";
import type { CliContext } from "../context.js";
import { EXIT_SOME_CALLS_FAILED } from "../exit-codes.js";
import { withInterrupt } from "../interrupt.js";
import { printJson, printTable } from "../output.js";
import { roleModel } from "../role-models.js";

const pct = (x: number | null) => (x === null ? "–" : `${(100 * x).toFixed(1)}%`);

const ci = (i: [number, number] | null) => (i ? `${pct(i[0])}–${pct(i[1])}` : "–");

const kappa = (k: number | null) => (k === null ? "–" : k.toFixed(2));

function printResults(r: ReasoningResults): void {
  const out = process.stdout;
  const s = r.summary;
  out.write(
    `taxonomy ${r.taxonomy.version} (${r.taxonomy.source}); labellers ${r.raters.join(", ")}; spec ${r.spec ? `${r.spec.name} (sha256:${r.spec.hash.slice(0, 12)})` : "none: rules and misuse not analysed"}\n` +
      `${s.transcripts} transcript(s): ${s.labelled} labelled, ${s.failed.invalid} invalid (invented quotes or unusable answers), ${s.failed.call} failed call(s)${r.failedSamples ? `; ${r.failedSamples} sample(s) without a score (failed, cut off or refused) were not labelled` : ""}. Rates are over the labelled ones.\n\n`,
  );
  printTable(
    ["category", "kind", "present", "rate", "95% CI"],
    s.categories.map((c) => [c.id, c.kind, `${c.present}/${c.n}`, pct(c.rate), ci(c.interval)]),
  );
  if (s.rules.length) {
    out.write("\n");
    printTable(
      ["rule", "cited by id", "invoked (id or paraphrase)", "95% CI"],
      s.rules.map((x) => [
        x.rule,
        `${x.explicit.present}/${x.explicit.n}`,
        `${x.any.present}/${x.any.n} (${pct(x.any.rate)})`,
        ci(x.any.interval),
      ]),
    );
    out.write(
      `\npolicy misuse: ${s.misuse.rate.present}/${s.misuse.rate.n} transcript(s) (${pct(s.misuse.rate.rate)}, 95% CI ${ci(s.misuse.rate.interval)}); claims: ${Object.entries(
        s.misuse.claims,
      )
        .map(([k, n]) => `${k} ${n}`)
        .join(", ")}\n`,
    );
    for (const m of r.misuse.slice(0, 10))
      out.write(`  ${m.key} ${m.rule} ${m.kind}: "${m.claim.slice(0, 100)}" (${m.why})\n`);
  }
  if (r.agreement) {
    out.write(
      `\nagreement (${r.agreement.method}'s kappa over ${r.agreement.n} transcript(s) every rater labelled):\n`,
    );
    printTable(
      ["category", "kappa", "observed"],
      r.agreement.categories.map((c) => [c.id, kappa(c.kappa), pct(c.observed)]),
    );
  }
  for (const a of r.selfAgreement) {
    out.write(
      `\nrepeat agreement of ${a.raters[0]?.replace(/#0$/, "")} (${a.method}'s kappa over ${a.raters.length} repeats, ${a.n} transcript(s)):\n`,
    );
    printTable(
      ["category", "kappa", "observed"],
      a.categories.map((c) => [c.id, kappa(c.kappa), pct(c.observed)]),
    );
  }
  if (r.human) {
    out.write(
      `\nagainst human labels (${r.human.n} transcript(s)${r.human.unmatched ? `; ${r.human.unmatched} label(s) matched no transcript` : ""}):\n`,
    );
    printTable(
      ["category", "precision", "recall", "kappa"],
      r.human.categories.map((c) => [c.id, pct(c.precision), pct(c.recall), kappa(c.kappa)]),
    );
  }
}

/** `specsci analyze reasoning` */
export async function analyzeReasoning(
  ctx: CliContext,
  runIds: string[],
  o: {
    labeller?: string;
    second: string[];
    repeats: number;
    spec?: string;
    set?: PlaceholderValues;
    taxonomy: string;
    discover?: boolean;
    minCategories: number;
    maxCategories: number;
    overlap: number;
    writeTaxonomy?: string;
    human?: string;
    attempts: number;
    temperature: number;
    maxTokens: number;
    concurrency: number;
    out?: string;
  },
) {
  if (o.out) checkOutputPath(o.out, "file", "-o/--out");
  if (o.writeTaxonomy) checkOutputPath(o.writeTaxonomy, "file", "--write-taxonomy");
  if (o.repeats > 1 && o.temperature === 0)
    throw new SpecsciError("--repeats at temperature 0 would repeat the same answer", {
      hint: "set --temperature (e.g. 1) so that repeats are independent labels",
    });
  const client = ctx.llm();
  const spec = await specUnderTest(ctx.store, runIds, o.spec, o.set);
  if (!spec)
    log.warn(
      "no spec under test (the runs used none, or a non-library spec): give --spec to analyse rules and misuse",
    );
  if (o.discover && o.human)
    throw new SpecsciError("--human needs a fixed taxonomy, and --discover makes a new one", {
      hint: "discover first (it prints the stored version), then rerun with --taxonomy <version> --human FILE",
    });
  const taxonomy = o.discover ? "discover" : resolveTaxonomy(ctx.store, o.taxonomy, "--taxonomy");
  const human =
    o.human && taxonomy !== "discover" ? loadHumanLabels(o.human, taxonomy, "--human") : undefined;
  const labellers = [roleModel(ctx, "labeller", o.labeller, "--labeller").id, ...o.second];
  for (const m of o.second) client.model(m);
  const a = await withInterrupt((signal) =>
    runReasoningAnalysis(client, runIds, {
      labellers,
      repeats: o.repeats,
      attempts: o.attempts,
      temperature: o.temperature,
      maxTokens: o.maxTokens,
      concurrency: o.concurrency,
      taxonomy,
      discovery: {
        minCategories: o.minCategories,
        maxCategories: o.maxCategories,
        overlap: o.overlap,
      },
      spec,
      ...(human ? { human } : {}),
      signal,
      log: (m) => log.info(m),
    }),
  );
  const results = a.results;
  if (o.writeTaxonomy) writeFileAtomic(o.writeTaxonomy, taxonomyYaml(a.labelled.taxonomy));
  if (o.out)
    writeFileAtomic(
      o.out,
      `${JSON.stringify({ results, discovery: a.discovery && { merges: a.discovery.merges, drivers: a.discovery.drivers }, items: a.labelled.items }, null, 2)}\n`,
    );
  if (ctx.json)
    printJson({
      ...results,
      discovery: a.discovery
        ? {
            merges: a.discovery.merges,
            drivers: a.discovery.drivers,
            failedTranscripts: a.discovery.failedTranscripts,
          }
        : null,
    });
  else {
    if (a.discovery)
      process.stdout.write(
        `discovered ${a.labelled.taxonomy.categories.length} categories from ${a.discovery.drivers} drivers (stored as ${a.labelled.taxonomy.version}${a.discovery.merges.length ? `; merged by co-occurrence: ${a.discovery.merges.map((m) => `${m.from.join("+")} → ${m.into}`).join(", ")}` : ""})\n`,
      );
    printResults(results);
  }
  const f = results.failures;
  if (f.total) {
    const raters = Object.entries(f.labels)
      .filter(([, x]) => x.call || x.invalid)
      .map(([r, x]) => `${r}: ${x.invalid} invalid, ${x.call} failed call(s)`);
    log.warn(
      `some labels are missing and in no rate (${[...raters, ...(f.uncheckedClaims ? [`${f.uncheckedClaims} misuse claim(s) not compared`] : [])].join("; ")}); run again to retry failed calls (invalid ones stay invalid)`,
    );
    process.exitCode = EXIT_SOME_CALLS_FAILED;
  }
}
