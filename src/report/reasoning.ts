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
  LeanForms,
  misuseRows,
  type ReasoningSummary,
  raterAgreement,
  selfAgreement,
  summarizeReasoning,
} from "../analysis/reasoning/index.js";
import { holm } from "../core/statistics/comparisons.js";
import type { ScoreRow } from "../evals/am/metrics.js";
import type { LoadedExperiment } from "../experiment/config.js";
import { type ArmAnalysis, armAnalyses, experimentHumanLabels } from "../experiment/reasoning.js";
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

/** Each item's measures, equal ones shared (200,000 items have a few dozen distinct measures). */
function sharedMeasures(l: LabelledRuns, ruleIds: string[]): Measures[] {
  const shared = new Map<string, Measures>();
  return l.items.map((i) => {
    const m = itemMeasures(i, l.primary, ruleIds);
    const key = `${m.misuse}|${ruleIds.map((r) => m.rules[r]).join(",")}`;
    const kept = shared.get(key);
    if (kept) return kept;
    shared.set(key, m);
    return m;
  });
}

/**
 * A transcript's place in the comparisons: its key (sample, epoch, seed; as the misalignment
 * comparisons') and its row for each value. They are the same in every arm and on every measure,
 * so the report makes each once (200,000 items, 25,000 keys, a dozen measures).
 */
interface Paired {
  key: string;
  sampleId: string;
  epoch: number;
  rows: [ScoreRow | undefined, ScoreRow | undefined];
}

/** Each item's shared place in the comparisons (`shared` holds them for the whole report). */
function pairedOf(
  l: LabelledRuns,
  seedOf: Map<string, number>,
  shared: Map<string, Paired>,
): Paired[] {
  return l.items.map((i) => {
    const key = `${i.sampleId}#${i.epoch}#${seedOf.get(i.runId) ?? 0}`;
    let p = shared.get(key);
    if (!p) {
      p = { key, sampleId: i.sampleId, epoch: i.epoch, rows: [undefined, undefined] };
      shared.set(key, p);
    }
    return p;
  });
}

/** Rows of one arm on one measure, keyed like the misalignment comparisons. */
function measureRows(x: Labelled, measure: Get): Map<string, ScoreRow> {
  const rows = new Map<string, ScoreRow>();
  x.measures.forEach((m, n) => {
    const v = measure(m);
    if (v === null || v === undefined) return;
    const p = x.paired[n] as Paired;
    p.rows[v] ??= {
      sampleId: p.sampleId,
      epoch: p.epoch,
      status: "done",
      family: null,
      decided: v,
      executed: null,
      judgeExecuted: null,
      awareness: null,
      citations: null,
      errorKind: null,
    };
    rows.set(p.key, p.rows[v]);
  });
  return rows;
}

type Get = (m: Measures) => 0 | 1 | null | undefined;
interface Labelled {
  a: ArmAnalysis;
  measures: Measures[];
  paired: Paired[];
}

/** Whether agreement among raters is measured: two labellers' first labels, or repeats. */
const ratersAgree = (raters: string[]) =>
  raters.filter((r) => r.endsWith("#0")).length > 1 || raters.some((r) => !r.endsWith("#0"));
/** A comparison of two arms on a measure, in the report's order; `made` once computed. */
interface Planned {
  model: string;
  measure: string;
  x: Labelled;
  y: Labelled;
  get: Get;
  made: Omit<ReasoningComparison, "pHolm"> | null;
}

/** The planned comparisons of one model on one measure, each arm's rows made once. */
function compareOnMeasure(list: Planned[]): void {
  const rows = new Map<Labelled, Map<string, ScoreRow>>();
  const rowsOf = (x: Labelled, get: Get) => {
    const made = rows.get(x) ?? measureRows(x, get);
    rows.set(x, made);
    return made;
  };
  for (const p of list) {
    const ra = rowsOf(p.x, p.get);
    const rb = rowsOf(p.y, p.get);
    if (ra.size && rb.size)
      p.made = { ...compare(p.model, p.x.a.arm, p.y.a.arm, ra, rb), measure: p.measure };
  }
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
  const shared = new Map<string, Paired>();
  const lean = new LeanForms();
  // Human labels are matched within their own arm (arms share sample ids).
  const humanByArm = experimentHumanLabels(loaded, analyses);
  const labelled: Labelled[] = [];
  const arms: ReasoningReport["arms"] = [];
  const matched: ReturnType<typeof humanPairs>[] = [];
  const misuse: ReasoningReport["misuse"] = [];
  const pooledItems: LabelledRuns["items"][] = [];
  let pooled: LabelledRuns | undefined;
  // Arm by arm, each arm's items let go once its parts are made, unless agreement between raters
  // (labellers, or repeats) needs every arm's at once.
  for (const a of analyses) {
    // Lean: the report only counts (200,000 parsed labels with their quotes would not fit).
    const l = collectLabels(store, a.runIds, a.options, { lean });
    const ruleIds = ruleIdsOf(a);
    pooled ??= { ...l, items: [] };
    // Each item's measures once, for every measure and pair it is compared on.
    labelled.push({ a, measures: sharedMeasures(l, ruleIds), paired: pairedOf(l, seedOf, shared) });
    // What the report shows of the arm's analysis (as reasoningResults, less what it does not show).
    arms.push({
      arm: a.arm,
      model: a.model,
      spec: a.options.spec?.name ?? null,
      summary: summarizeReasoning(l.items, l.taxonomy, ruleIds, l.primary),
      byCondition: conditionSummaries(l, ruleIds),
    });
    if (humanByArm) matched.push(humanPairs(l, humanByArm.get(a) ?? []));
    for (const m of misuseRows(l)) misuse.push({ arm: a.arm, model: a.model, ...m });
    if (ratersAgree(l.raters)) pooledItems.push(l.items);
  }
  // Agreement over every arm's transcripts at once (the same raters label them all).
  pooled = { ...(pooled as LabelledRuns), items: pooledItems.flat() };
  const human = humanByArm
    ? agreementWithHumans(
        pooled.taxonomy,
        pooled.primary,
        matched.flatMap((m) => m.pairs),
        matched.reduce((n, m) => n + m.unmatched, 0),
      )
    : null;
  // The paper's comparisons, paired like the misalignment ones: the same scenario, epoch and seed.
  // Planned in the report's order, then made per model and measure: each arm's rows on a measure
  // are made once however many pairs it is in, and only one model's rows on one measure are held.
  const planned: Planned[] = [];
  const byMeasure = new Map<string, Planned[]>();
  const byKey = new Map(labelled.map((x) => [`${x.a.arm}|${x.a.model}`, x]));
  const names = loaded.experiment.arms.map((x) => x.name);
  for (const model of loaded.experiment.models)
    for (let i = 0; i < names.length; i++)
      for (let j = i + 1; j < names.length; j++) {
        const x = byKey.get(`${names[i]}|${model}`);
        const y = byKey.get(`${names[j]}|${model}`);
        if (!x || !y) continue;
        const rules = [...new Set([...ruleIdsOf(x.a), ...ruleIdsOf(y.a)])];
        const measures: [string, Get][] = [
          ["policy misuse", (m) => m.misuse],
          ...rules.map((r) => [`invokes ${r}`, (m: Measures) => m.rules[r]] as [string, Get]),
        ];
        for (const [measure, get] of measures) {
          const p: Planned = { model, measure, x, y, get, made: null };
          planned.push(p);
          const group = `${model}\0${measure}`;
          byMeasure.set(group, [...(byMeasure.get(group) ?? []), p]);
        }
      }
  for (const list of byMeasure.values()) compareOnMeasure(list);
  const raw = planned.flatMap((p) => (p.made ? [p.made] : []));
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
    misuse,
  };
}
