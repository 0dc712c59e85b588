/**
 * The reasoning part of an experiment report, from labels already in the store (no calls): each
 * arm's category and rule rates, its policy-misuse rate, comparisons between arms (the paper's:
 * rules invoked, policy misuse) made like the misalignment comparisons (Newcombe and scenario
 * bootstrap intervals, McNemar on paired transcripts or Fisher, Holm across this family), and
 * agreement pooled over every arm.
 */

import { type ArmComparison, compare } from "../analysis/arm-comparison.js";
import {
  type Agreement,
  agreementWithHumans,
  collectLabels,
  conditionSummaries,
  type HumanAgreement,
  humanPairs,
  itemMeasures,
  type LabelledRuns,
  misuseRows,
  type ReasoningSummary,
  raterAgreement,
  selfAgreement,
  summarizeReasoning,
} from "../analysis/reasoning/index.js";
import { holm } from "../core/statistics/comparisons.js";
import type { ScoreRow } from "../evals/am/metrics.js";
import type { LoadedExperiment } from "../experiment/config.js";
import { armAnalyses, experimentHumanLabels } from "../experiment/reasoning.js";
import type { StageGraph } from "../experiment/stages.js";
import { rulesOf } from "../spec/model.js";
import type { Store } from "../store/index.js";

/** A comparison of one reasoning measure between two arms (as the misalignment comparisons). */
export type ReasoningComparison = ArmComparison & {
  /** `policy misuse`, or `invokes SP1`… */
  measure: string;
};

export interface ReasoningReport {
  taxonomy: {
    version: string;
    source: string;
    categories: { id: string; name: string; kind: string }[];
  };
  labellers: string[];
  arms: {
    arm: string;
    model: string;
    spec: string | null;
    summary: ReasoningSummary;
    byCondition: Record<string, ReasoningSummary>;
  }[];
  comparisons: ReasoningComparison[];
  agreement: Agreement | null;
  selfAgreement: Agreement[];
  human: HumanAgreement | null;
  misuse: {
    arm: string;
    model: string;
    key: string;
    rule: string;
    claim: string;
    kind: string;
    why: string;
  }[];
}

type Measures = ReturnType<typeof itemMeasures>;

/** Rows of one arm on one measure, keyed like the misalignment comparisons (sample, epoch, seed). */
function measureRows(
  l: LabelledRuns,
  measures: Measures[],
  seedOf: Map<string, number>,
  measure: (m: Measures) => 0 | 1 | null | undefined,
): Map<string, ScoreRow> {
  const rows = new Map<string, ScoreRow>();
  l.items.forEach((i, n) => {
    const v = measure(measures[n] as Measures);
    if (v === null || v === undefined) return;
    rows.set(`${i.sampleId}#${i.epoch}#${seedOf.get(i.runId) ?? 0}`, {
      sampleId: i.sampleId,
      epoch: i.epoch,
      status: "done",
      family: null,
      decided: v,
      executed: null,
      judgeExecuted: null,
      awareness: null,
      citations: null,
      errorKind: null,
    });
  });
  return rows;
}

export function reasoningReport(
  loaded: LoadedExperiment,
  graph: StageGraph,
  store: Store,
): ReasoningReport | null {
  const analyses = armAnalyses(loaded, graph, store);
  const first = analyses[0];
  if (!first) return null;
  const seedOf = new Map(graph.stages.map((st) => [st.runId, st.seed]));
  const ruleIdsOf = (a: (typeof analyses)[number]) =>
    a.options.spec ? rulesOf(a.options.spec.spec).map((r) => r.id) : [];
  const labelled = analyses.map((a) => {
    const l = collectLabels(store, a.runIds, a.options);
    const ruleIds = ruleIdsOf(a);
    // Each item's measures once, for every measure and pair it is compared on.
    const measures = l.items.map((i) => itemMeasures(i, l.primary, ruleIds));
    return { a, l, ruleIds, measures, rows: new Map<string, Map<string, ScoreRow>>() };
  });
  // What the report shows of each arm's analysis (as reasoningResults, without what it does not show).
  const arms = labelled.map(({ a, l, ruleIds }) => ({
    arm: a.arm,
    model: a.model,
    spec: a.options.spec?.name ?? null,
    summary: summarizeReasoning(l.items, l.taxonomy, ruleIds, l.primary),
    byCondition: conditionSummaries(l, ruleIds),
  }));
  // An arm's rows on a measure, made once however many pairs it is in.
  const rowsOf = (
    x: (typeof labelled)[number],
    measure: string,
    get: (m: Measures) => 0 | 1 | null | undefined,
  ) => {
    const kept = x.rows.get(measure);
    if (kept) return kept;
    const rows = measureRows(x.l, x.measures, seedOf, get);
    x.rows.set(measure, rows);
    return rows;
  };
  // Agreement over every arm's transcripts at once (the same raters label them all).
  const pooled: LabelledRuns = {
    ...(labelled[0]?.l as LabelledRuns),
    items: labelled.flatMap((x) => x.l.items),
  };
  // Human labels are matched within their own arm (arms share sample ids).
  const humanByArm = experimentHumanLabels(loaded, analyses);
  let human: HumanAgreement | null = null;
  if (humanByArm) {
    const matched = labelled.map(({ a, l }) => humanPairs(l, humanByArm.get(a) ?? []));
    human = agreementWithHumans(
      pooled.taxonomy,
      pooled.primary,
      matched.flatMap((m) => m.pairs),
      matched.reduce((n, m) => n + m.unmatched, 0),
    );
  }
  // The paper's comparisons, paired like the misalignment ones: the same scenario, epoch and seed.
  const byKey = new Map(labelled.map((x) => [`${x.a.arm}|${x.a.model}`, x]));
  const raw: Omit<ReasoningComparison, "pHolm">[] = [];
  const names = loaded.experiment.arms.map((x) => x.name);
  for (const model of loaded.experiment.models)
    for (let i = 0; i < names.length; i++)
      for (let j = i + 1; j < names.length; j++) {
        const x = byKey.get(`${names[i]}|${model}`);
        const y = byKey.get(`${names[j]}|${model}`);
        if (!x || !y) continue;
        const rules = [...new Set([...ruleIdsOf(x.a), ...ruleIdsOf(y.a)])];
        const measures: [string, (m: Measures) => 0 | 1 | null | undefined][] = [
          ["policy misuse", (m) => m.misuse],
          ...rules.map(
            (r) =>
              [`invokes ${r}`, (m: Measures) => m.rules[r]] as [
                string,
                (m: Measures) => 0 | 1 | null | undefined,
              ],
          ),
        ];
        for (const [measure, get] of measures) {
          const ra = rowsOf(x, measure, get);
          const rb = rowsOf(y, measure, get);
          if (!ra.size || !rb.size) continue;
          raw.push({ ...compare(model, x.a.arm, y.a.arm, ra, rb), measure });
        }
      }
  const adjusted = holm(raw.map((c) => c.p));
  return {
    taxonomy: {
      version: first.options.taxonomy.version,
      source: first.options.taxonomy.source,
      categories: first.options.taxonomy.categories.map((c) => ({
        id: c.id,
        name: c.name,
        kind: c.kind,
      })),
    },
    labellers: pooled.raters,
    arms,
    comparisons: raw.map((c, i) => ({ ...c, pHolm: adjusted[i] as number })),
    agreement: raterAgreement(pooled),
    selfAgreement: selfAgreement(pooled),
    human,
    misuse: labelled.flatMap(({ a, l }) =>
      misuseRows(l).map((m) => ({ arm: a.arm, model: a.model, ...m })),
    ),
  };
}
