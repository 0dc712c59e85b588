/**
 * The report's awareness-conditioned rates: per arm and model, misalignment among samples whose
 * reasoning concluded it was being evaluated against the others, and per model whether that gap
 * differs across arms (see analysis/awareness.ts).
 */
import {
  type AwarenessAnalysis,
  type AwarenessGroup,
  awarenessAnalysis,
} from "../analysis/awareness.js";
import type { RateCell } from "../evals/am/metrics.js";
import type { ArmResult, ReportData } from "./results.js";
import { diffInterval, interval, pct, pval, signedPct, type Table } from "./tables.js";

export function reportAwareness(d: ReportData): AwarenessAnalysis {
  return awarenessAnalysis(
    d.arms.map((a) => ({ arm: a.arm, model: a.model, byAwareness: a.metrics.byAwareness })),
  );
}

const asCell = (key: string, g: AwarenessGroup): RateCell => ({
  key,
  n: g.n,
  misaligned: g.misaligned,
  rate: g.rate,
  ci: g.ci,
  errors: 0,
  truncated: 0,
  refused: 0,
});

/** An arm's aware and unaware rates as rate cells, for the chart (none without the scorer). */
export function awarenessCells(a: ArmResult): RateCell[] {
  const s = awarenessAnalysis([{ arm: a.arm, model: a.model, byAwareness: a.metrics.byAwareness }])
    .splits[0];
  return s ? [asCell("aware", s.aware), asCell("unaware", s.unaware)] : [];
}

const rate = (g: AwarenessGroup) => `${pct(g.rate)} (${g.misaligned}/${g.n})`;
const orText = (x: number) => (Number.isNaN(x) ? "–" : Number.isFinite(x) ? x.toFixed(2) : "∞");

/** The two tables; none when no arm ran the eval-awareness scorer. */
export function awarenessTables(d: ReportData): Table[] {
  const a = reportAwareness(d);
  if (!a.splits.length) return [];
  return [
    {
      title: "Misalignment rate among eval-aware and unaware samples",
      labelColumns: 2,
      headers: [
        "arm",
        "model",
        "aware",
        "95% CI",
        "unaware",
        "95% CI",
        "aware − unaware",
        "95% CI",
        "odds ratio",
        "p (Fisher)",
      ],
      rows: a.splits.map((s) => [
        s.arm,
        s.model,
        rate(s.aware),
        interval(s.aware.ci),
        rate(s.unaware),
        interval(s.unaware.ci),
        signedPct(s.diff),
        diffInterval(s.diffCi),
        orText(s.oddsRatio),
        s.pUndefinedReason ? `undefined: ${s.pUndefinedReason}` : pval(s.pFisher),
      ]),
      note: "Aware: the eval-awareness judge found the reasoning concluded (or leaned toward) being evaluated; unaware: it concluded it was real, or did not consider it. Wilson intervals; the difference with Newcombe's hybrid-score interval; Fisher's exact test, not adjusted for multiple comparisons. Awareness is observed, not assigned: a difference is an association, not its effect.",
    },
    {
      title: "Does awareness go with misalignment differently across arms?",
      labelColumns: 1,
      headers: ["model", "arms", "common odds ratio", "χ²", "df", "p"],
      rows: a.homogeneity.map((h) => [
        h.model,
        String(h.arms.length),
        orText(h.commonOddsRatio),
        Number.isNaN(h.chi2) ? "–" : h.chi2.toFixed(2),
        String(Math.max(0, h.df)),
        h.undefinedReason ? `undefined: ${h.undefinedReason}` : pval(h.p),
      ]),
      note: "Breslow–Day test (Tarone-corrected) that the aware-vs-unaware odds ratio is the same in every arm of a model, each arm a stratum; the common odds ratio is Mantel–Haenszel's. Arms without aware and unaware, misaligned and aligned samples carry no information on their odds ratio and are left out.",
    },
  ];
}

const raw = (x: number) => (Number.isFinite(x) ? String(x) : "");

/**
 * The same numbers as CSV (`name-awareness.csv`): raw values, one row per arm and model, its
 * model's test across arms repeated on each of its rows; empty where undefined.
 */
export function awarenessCsv(d: ReportData): Table | null {
  const a = reportAwareness(d);
  if (!a.splits.length) return null;
  const test = new Map(a.homogeneity.map((h) => [h.model, h]));
  const group = (g: AwarenessGroup) => [g.n, g.misaligned, g.rate, g.ci[0], g.ci[1]].map(raw);
  const half = ["n", "misaligned", "rate", "ci_low", "ci_high"];
  return {
    title: "awareness",
    headers: [
      "arm",
      "model",
      ...half.map((h) => `aware_${h}`),
      ...half.map((h) => `unaware_${h}`),
      "diff",
      "diff_ci_low",
      "diff_ci_high",
      "odds_ratio",
      "p_fisher",
      "breslow_day_chi2",
      "breslow_day_df",
      "breslow_day_p",
      "breslow_day_arms",
    ],
    rows: a.splits.map((s) => {
      const h = test.get(s.model);
      return [
        s.arm,
        s.model,
        ...group(s.aware),
        ...group(s.unaware),
        ...[s.diff, s.diffCi[0], s.diffCi[1], s.oddsRatio, s.pFisher].map(raw),
        raw(h?.chi2 ?? Number.NaN),
        h && h.df > 0 ? String(h.df) : "",
        raw(h?.p ?? Number.NaN),
        h ? String(h.arms.length) : "",
      ];
    }),
  };
}
