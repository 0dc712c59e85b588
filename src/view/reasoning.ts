/**
 * The reasoning analysis as the dashboard reads it, from the labels already stored (no call):
 * the sample table's reasoning filters (category, policy misuse) and one transcript's labels,
 * with the rules it invokes and its misuse claims checked against its arm's spec. The labels are
 * `items` rows of each arm's analysis (`label:<rater>|<run>/<sample>#<epoch>`), read as the
 * report reads them (`collectLabels`) but through migration 10's index or by key, so a filter or
 * a transcript never reads every transcript of a 200,000-sample store.
 */
import {
  analysisId,
  checkedClaims,
  claimKey,
  explicitMentions,
  itemKey,
  type LabelValue,
  labelStage,
  misuseStage,
  raterId,
  ruleText,
  type TranscriptLabels,
} from "../analysis/reasoning/index.js";
import { SpecsciError } from "../core/errors.js";
import type { ArmAnalysis } from "../experiment/reasoning.js";
import { rulesOf } from "../spec/model.js";
import { dialect, jsonList, type SqlDatabase } from "../store/database.js";
import type { EvalSampleRecord, Store } from "../store/index.js";
import type {
  MisuseClaim,
  RaterCategories,
  SampleQuery,
  TranscriptReasoning,
} from "./api-types.js";
import { notIn } from "./samples.js";

/** A condition on `eval_samples s` and its parameters. */
export interface SqlFilter {
  sql: string;
  params: unknown[];
  /**
   * The condition names its samples by a subquery that SQLite should read first (the label
   * index, the human labels): the run scope is then checked on each sample found, not used to
   * scan (with both, SQLite ran the subquery twice: 0.9 s instead of 0.2 s at 200,000 samples).
   */
  drives?: boolean;
}

const primaryRater = (a: ArmAnalysis) => raterId(a.options.labellers[0] as string, 0);
const corpusOf = (a: ArmAnalysis) => analysisId(a.options);

/**
 * Samples with a primary label of these analyses (naming one of `categories`, when given), from
 * migration 10's index of the labels: an index range, no label's JSON parsed.
 */
function labelled(db: SqlDatabase, analyses: ArmAnalysis[], categories?: string[]): SqlFilter {
  return {
    sql: `(s.run_id, s.sample_id, s.epoch) IN (SELECT run_id, sample_id, epoch
      FROM reasoning_label_index WHERE corpus IN (${jsonList(db)}) AND stage = ?
        AND category IN (${jsonList(db)}))`,
    params: [
      JSON.stringify([...new Set(analyses.map(corpusOf))]),
      labelStage(primaryRater(analyses[0] as ArmAnalysis)),
      // '': the label itself, whatever it names.
      JSON.stringify(categories ?? [""]),
    ],
    drives: true,
  };
}

/** Samples among `keys` (`[run, sample, epoch]` triples). */
const among = (db: SqlDatabase, keys: SampleKey[]): SqlFilter => ({
  sql: dialect(db, {
    sqlite:
      "(s.run_id, s.sample_id, s.epoch) IN (SELECT value ->> 0, value ->> 1, value ->> 2 FROM json_each(?))",
    postgres:
      "(s.run_id, s.sample_id, s.epoch) IN (SELECT value ->> 0, value ->> 1, (value ->> 2)::integer FROM json_array_elements(?::json))",
  }),
  params: [JSON.stringify(keys)],
  drives: true,
});

type SampleKey = [string, string, number];

/** Whether a transcript's checked claims make it a policy misuse (as the report counts it). */
function misuseOf(claims: TranscriptLabels["misuse"]): "yes" | "unchecked" | "no" {
  if (claims.some((c) => c.check.kind === "misquotation" || c.check.kind === "reinterpretation"))
    return "yes";
  return claims.some((c) => c.check.kind === "unchecked") ? "unchecked" : "no";
}

/**
 * The reasoning filters over an experiment's arm analyses. Categories are matched in SQL; policy
 * misuse needs each claim checked against its rule's text (misquotation is found in code), so the
 * keys of labels with claims are worked out once per change of the store and kept.
 */
export class ReasoningFilters {
  private readonly misuse = new Map<
    string,
    { version: number; yes: SampleKey[]; unchecked: SampleKey[] }
  >();

  constructor(private readonly store: Store) {}

  filters(q: SampleQuery, analyses: ArmAnalysis[] | null, version: number): SqlFilter[] {
    if (!q.category && !q.misuse) return [];
    if (!analyses)
      throw new SpecsciError(
        "the reasoning filters (category, misuse) need an experiment: add experiment=<id>",
        { hint: "reasoning labels belong to an experiment's arms (analysis.reasoning)" },
      );
    if (!analyses.length)
      throw new SpecsciError(
        "this experiment has no reasoning analysis: the category and misuse filters have nothing to read",
        { hint: "add analysis.reasoning to the experiment file and run it again (`specsci run`)" },
      );
    const db = this.store.db;
    const out: SqlFilter[] = [];
    if (q.category) out.push(labelled(db, analyses, q.category));
    if (q.misuse) {
      const parts: SqlFilter[] = [];
      // Misuse is measured only against a spec with rules (the report's denominator).
      const judged = analyses.filter((a) => a.options.spec && rulesOf(a.options.spec.spec).length);
      const sets = judged.map((a) => this.misuseKeys(a, version));
      const yes = sets.flatMap((s) => s.yes);
      if (q.misuse.includes("yes")) parts.push(among(db, yes));
      if (q.misuse.includes("no") && judged.length) {
        const not = among(db, [...yes, ...sets.flatMap((s) => s.unchecked)]);
        const all = labelled(db, judged);
        parts.push({
          sql: `(${all.sql} AND ${notIn(not.sql)})`,
          params: [...all.params, ...not.params],
        });
      }
      out.push(
        parts.length
          ? {
              sql: `(${parts.map((p) => p.sql).join(" OR ")})`,
              params: parts.flatMap((p) => p.params),
              drives: parts.length === 1,
            }
          : { sql: "FALSE", params: [] },
      );
    }
    return out;
  }

  /** The analysis's samples whose claims misuse a rule, and those whose claims are unchecked. */
  private misuseKeys(
    a: ArmAnalysis,
    version: number,
  ): { yes: SampleKey[]; unchecked: SampleKey[] } {
    const corpus = corpusOf(a);
    const stage = labelStage(primaryRater(a));
    // Arms read against the same spec share an analysis (its id hashes the spec, not the arm).
    const cacheKey = JSON.stringify([corpus, stage, a.runIds]);
    const cached = this.misuse.get(cacheKey);
    if (cached?.version === version) return cached;
    const labeller = a.options.labellers[0] as string;
    const spec = a.options.spec?.spec;
    // The string test skips most labels (no claims) before their JSON is read.
    const rows = this.store.db
      .prepare(
        `SELECT key, value FROM items WHERE corpus = ? AND stage = ? AND status = 'ok'
           AND ${dialect(this.store.db, {
             sqlite: `instr(value, '"misuse":[]') = 0 AND json_array_length(value, '$.misuse') > 0`,
             // json, not jsonb (a label quotes model output, which may hold \u0000); the CASE
             // because json_array_length refuses a non-array and AND need not test in order.
             postgres: `strpos(value, '"misuse":[]') = 0 AND CASE WHEN json_typeof(value::json -> 'misuse') = 'array'
               THEN json_array_length(value::json -> 'misuse') > 0 ELSE FALSE END`,
           })}`,
      )
      .all(corpus, stage) as { key: string; value: string }[];
    const checks = this.store.items.stage(corpus, misuseStage(labeller));
    const found = { version, yes: [] as SampleKey[], unchecked: [] as SampleKey[] };
    for (const row of rows) {
      const t = transcriptKeyOf(row.key, stage, a.runIds);
      if (!t || !spec) continue;
      const verdict = misuseOf(
        checkedClaims(JSON.parse(row.value) as LabelValue, spec, checks, labeller, t),
      );
      const hash = t.key.lastIndexOf("#");
      const key: SampleKey = [t.runId, t.key.slice(0, hash), Number(t.key.slice(hash + 1))];
      if (verdict === "yes") found.yes.push(key);
      if (verdict === "unchecked") found.unchecked.push(key);
    }
    this.misuse.set(cacheKey, found);
    return found;
  }
}

/** The run and `sample#epoch` of a label key (`<stage>|<run>/<sample>#<epoch>`). */
function transcriptKeyOf(
  key: string,
  stage: string,
  runIds: string[],
): { runId: string; key: string } | undefined {
  const rest = key.slice(stage.length + 1);
  const runId = runIds.find((r) => rest.startsWith(`${r}/`));
  return runId ? { runId, key: rest.slice(runId.length + 1) } : undefined;
}

/** Each rater's label of one transcript, with the categories' names from the taxonomy. */
function raterLabels(store: Store, a: ArmAnalysis, t: { runId: string; key: string }) {
  const names = new Map(a.options.taxonomy.categories.map((c) => [c.id, c]));
  const raters = a.options.labellers.flatMap((l) =>
    Array.from({ length: a.options.repeats }, (_, k) => raterId(l, k)),
  );
  return raters.map((rater): RaterCategories & { value?: LabelValue } => {
    const stage = labelStage(rater);
    const key = itemKey(stage, t);
    const row = store.items.stage(corpusOf(a), stage, [key]).get(key);
    if (!row) return { rater, status: "pending", message: null, categories: [] };
    if (row.status !== "ok")
      return { rater, status: "failed", message: row.error?.message ?? null, categories: [] };
    const value = row.value as LabelValue;
    return {
      rater,
      status: "ok",
      message: null,
      categories: value.categories.map((c) => ({
        id: c.id,
        name: names.get(c.id)?.name ?? c.id,
        kind: names.get(c.id)?.kind ?? "other",
        quotes: c.quotes,
      })),
      value,
    };
  });
}

/** The rules a transcript invokes: by id in its text, and by paraphrase per the labeller. */
function invokedRules(a: ArmAnalysis, record: EvalSampleRecord, value: LabelValue | undefined) {
  const spec = a.options.spec;
  const output = (record.output ?? {}) as { text?: unknown; reasoning?: unknown };
  const transcript = {
    runId: record.runId,
    key: `${record.sampleId}#${record.epoch}`,
    sampleId: record.sampleId,
    epoch: record.epoch,
    reasoning: typeof output.reasoning === "string" ? output.reasoning : "",
    answer: typeof output.text === "string" ? output.text : "",
  };
  const ruleIds = spec ? rulesOf(spec.spec).map((r) => r.id) : [];
  return [
    ...explicitMentions(transcript, ruleIds),
    ...(value?.rules ?? []).map((r) => ({
      rule: r.rule,
      how: "paraphrase" as const,
      quote: r.quotes[0] ?? "",
    })),
  ].map((m) => ({ ...m, text: ruleTextOf(a, m.rule) }));
}

const ruleTextOf = (a: ArmAnalysis, rule: string) =>
  a.options.spec ? (ruleText(a.options.spec.spec, rule) ?? null) : null;

/** The primary label's claims about rules, checked, each beside its rule's text. */
function misuseClaims(
  store: Store,
  a: ArmAnalysis,
  t: { runId: string; key: string },
  value: LabelValue | undefined,
): MisuseClaim[] {
  const spec = a.options.spec;
  if (!value || !spec) return [];
  const labeller = a.options.labellers[0] as string;
  const keys = value.misuse.map((_, n) => claimKey(labeller, t, n));
  const checks = store.items.stage(corpusOf(a), misuseStage(labeller), keys);
  return checkedClaims(value, spec.spec, checks, labeller, t).map((c) => ({
    rule: c.rule,
    claim: c.claim,
    quotes: c.quotes,
    kind: c.check.kind,
    why: c.check.why,
    overlap: c.check.overlap,
    ruleText: ruleTextOf(a, c.rule),
  }));
}

/**
 * One transcript's reasoning labels: every rater's categories, the rules it invokes with each
 * rule's text, and the primary label's misuse claims beside the text of the rule they name.
 */
export function transcriptReasoning(
  store: Store,
  experiment: string,
  a: ArmAnalysis,
  record: EvalSampleRecord,
): TranscriptReasoning {
  const t = { runId: record.runId, key: `${record.sampleId}#${record.epoch}` };
  const spec = a.options.spec;
  const base = {
    experiment,
    arm: a.arm,
    model: a.model,
    taxonomy: a.options.taxonomy.version,
    spec: spec ? { name: spec.name, hash: spec.hash } : null,
  };
  // Only scored transcripts are labelled (as the report's rates, over scored samples only).
  if (record.status !== "done")
    return { ...base, labels: [], rules: [], misuse: [], unlabelled: "it has no score" };
  const labels = raterLabels(store, a, t);
  const primary = labels[0];
  return {
    ...base,
    labels: labels.map(({ value: _, ...l }) => l),
    rules: invokedRules(a, record, primary?.value),
    misuse: misuseClaims(store, a, t, primary?.value),
    unlabelled: primary?.value
      ? null
      : primary?.status === "failed"
        ? "its label failed"
        : "not labelled yet",
  };
}
