/**
 * The reasoning part of an experiment report, from labels already in the store (no calls): each
 * arm's category and rule rates, its policy-misuse rate, comparisons between arms (the paper's:
 * rules invoked, policy misuse) with Newcombe intervals, Fisher's exact p and Holm adjustment
 * across the family, and agreement pooled over every arm.
 */
import {
  type Agreement,
  collectLabels,
  type HumanAgreement,
  humanAgreement,
  type LabelledRuns,
  type ReasoningSummary,
  raterAgreement,
  reasoningResults,
} from "../analysis/reasoning/index.js";
import { fisherExact, holm, newcombe } from "../analysis/stats.js";
import type { LoadedExperiment } from "../experiment/config.js";
import { armAnalyses, experimentHumanLabels } from "../experiment/reasoning.js";
import type { StageGraph } from "../experiment/stages.js";
import type { Store } from "../store/index.js";
import type { Comparison } from "./results.js";

/** A comparison of one reasoning measure between two arms (fields as in misalignment comparisons). */
export interface ReasoningComparison
  extends Pick<
    Comparison,
    "model" | "a" | "b" | "nA" | "nB" | "rateA" | "rateB" | "diff" | "diffCi" | "pHolm"
  > {
  /** `policy misuse`, or `invokes SP1`… */
  measure: string;
  /** Fisher's exact test. */
  p: number;
}

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

export function reasoningReport(
  loaded: LoadedExperiment,
  graph: StageGraph,
  store: Store,
): ReasoningReport | null {
  const analyses = armAnalyses(loaded, graph, store);
  const first = analyses[0];
  if (!first) return null;
  const labelled: { a: (typeof analyses)[number]; l: LabelledRuns }[] = analyses.map((a) => ({
    a,
    l: collectLabels(store, a.runIds, a.options),
  }));
  const arms = labelled.map(({ a, l }) => {
    const r = reasoningResults(l, a.options.spec);
    return {
      arm: a.arm,
      model: a.model,
      spec: a.options.spec?.name ?? null,
      summary: r.summary,
      byCondition: r.byCondition,
    };
  });
  // Agreement over every arm's transcripts at once (the same raters label them all).
  const pooled: LabelledRuns = {
    ...(labelled[0]?.l as LabelledRuns),
    items: labelled.flatMap((x) => x.l.items),
  };
  const human = experimentHumanLabels(loaded, first);
  const raw: Omit<ReasoningComparison, "pHolm">[] = [];
  const byKey = new Map(arms.map((x) => [`${x.arm}|${x.model}`, x]));
  for (const model of loaded.experiment.models) {
    const names = loaded.experiment.arms.map((x) => x.name);
    for (let i = 0; i < names.length; i++)
      for (let j = i + 1; j < names.length; j++) {
        const [x, y] = [byKey.get(`${names[i]}|${model}`), byKey.get(`${names[j]}|${model}`)];
        if (!x || !y) continue;
        const measures: [
          string,
          (s: ReasoningSummary) => { present: number; n: number } | undefined,
        ][] = [
          ["policy misuse", (s) => s.misuse.rate],
          ...[...new Set([...x.summary.rules, ...y.summary.rules].map((r) => r.rule))].map(
            (rule) =>
              [
                `invokes ${rule}`,
                (s: ReasoningSummary) => s.rules.find((r) => r.rule === rule)?.any,
              ] as [string, (s: ReasoningSummary) => { present: number; n: number } | undefined],
          ),
        ];
        for (const [measure, get] of measures) {
          const fa = get(x.summary);
          const fb = get(y.summary);
          if (!fa?.n || !fb?.n) continue;
          const { diff, ci } = newcombe(fa.present, fa.n, fb.present, fb.n);
          raw.push({
            model,
            measure,
            a: x.arm,
            b: y.arm,
            nA: fa.n,
            nB: fb.n,
            rateA: fa.present / fa.n,
            rateB: fb.present / fb.n,
            diff,
            diffCi: ci,
            p: fisherExact(fa.present, fa.n - fa.present, fb.present, fb.n - fb.present).p,
          });
        }
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
    human: human ? humanAgreement(pooled, human) : null,
    misuse: labelled.flatMap(({ a, l }) =>
      reasoningResults(l, a.options.spec).misuse.map((m) => ({ arm: a.arm, model: a.model, ...m })),
    ),
  };
}
