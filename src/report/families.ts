/**
 * The report's cross-family comparison: for each pair of arms the Comparisons section compares,
 * when results exist on models of at least two base-model families, the spec effect per family
 * (the family's models pooled) and whether it differs across families: the likelihood-ratio test
 * of the arm × family terms of a logistic regression, and for two families the difference of
 * differences and the ratio of odds ratios (core/statistics/interaction.ts).
 */
import {
  type InteractionTest,
  interactionTest,
  type Stratum,
} from "../core/statistics/interaction.js";
import type { ArmResult, ReportData } from "./results.js";
import { diffInterval, pct, pval, signedPct, type Table } from "./tables.js";

export interface BaseFamilyComparison {
  /** The arms, as the Comparisons section orients them (spec arm first). */
  a: string;
  b: string;
  /** Each family's models, in the experiment's order. */
  models: Record<string, string[]>;
  test: InteractionTest;
}

/** The models of each base family that have results, in the experiment's order. */
function familiesOf(d: ReportData): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const model of d.provenance.models) {
    const family = d.modelFamilies?.[model];
    if (family) out.set(family, [...(out.get(family) ?? []), model]);
  }
  return out;
}

/** An arm's valid samples and misaligned ones over some models (pooled). */
function pooled(d: ReportData, arm: string, models: string[]) {
  const results = d.arms.filter((r: ArmResult) => r.arm === arm && models.includes(r.model));
  return {
    x: results.reduce((t, r) => t + r.metrics.pooled.misaligned, 0),
    n: results.reduce((t, r) => t + r.metrics.pooled.n, 0),
  };
}

/** One comparison per compared pair with results in two families or more; none otherwise. */
export function baseFamilyComparisons(d: ReportData): BaseFamilyComparison[] {
  if (!d.am) return [];
  const families = familiesOf(d);
  if (families.size < 2) return [];
  const pairs = new Map<string, [string, string]>();
  for (const c of d.comparisons) pairs.set(JSON.stringify([c.a, c.b]), [c.a, c.b]);
  const out: BaseFamilyComparison[] = [];
  for (const [a, b] of pairs.values()) {
    const strata: Stratum[] = [...families].map(([name, models]) => ({
      name,
      a: pooled(d, a, models),
      b: pooled(d, b, models),
    }));
    const withResults = strata.filter((s) => s.a.n > 0 && s.b.n > 0);
    if (withResults.length < 2) continue;
    out.push({
      a,
      b,
      models: Object.fromEntries(
        withResults.map((s) => [s.name, families.get(s.name) as string[]]),
      ),
      test: interactionTest(withResults),
    });
  }
  return out;
}

const rate = (c: { x: number; n: number }) => `${pct(c.x / c.n)} (${c.x}/${c.n})`;
const ratio = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : "–");
const ratioCi = (ci: [number, number] | null, why: string | null) =>
  ci ? `[${ratio(ci[0])}, ${ratio(ci[1])}]` : why ? `undefined: ${why}` : "–";

/** The two tables; none without results on two families. */
export function baseFamilyTables(d: ReportData): Table[] {
  const cs = baseFamilyComparisons(d);
  if (!cs.length) return [];
  return [
    {
      title: "Spec effect by base-model family (first arm minus second)",
      labelColumns: 4,
      headers: [
        "arm",
        "vs",
        "family",
        "models",
        "arm rate",
        "vs rate",
        "difference",
        "95% CI",
        "odds ratio",
        "95% CI",
      ],
      rows: cs.flatMap((c) =>
        c.test.effects.map((e) => [
          c.a,
          c.b,
          e.name,
          (c.models[e.name] ?? []).join(", "),
          rate(e.a),
          rate(e.b),
          signedPct(e.diff),
          diffInterval(e.diffCi),
          ratio(e.oddsRatio),
          ratioCi(e.oddsRatioCi, e.undefinedReason),
        ]),
      ),
      note: "Each family's models pooled. Difference with Newcombe's hybrid-score interval; the sample odds ratio with Woolf's (logit) interval, undefined with a zero cell.",
    },
    {
      title: "Does the spec effect differ across base-model families?",
      labelColumns: 3,
      headers: [
        "arm",
        "vs",
        "families",
        "LR χ²",
        "df",
        "p",
        "difference of differences",
        "95% CI",
        "ratio of odds ratios",
        "95% CI",
      ],
      rows: cs.map((c) => {
        const t = c.test;
        const dd = t.diffOfDiffs;
        const ror = t.ratioOfOdds;
        return [
          c.a,
          c.b,
          [t.tested.join(" vs "), ...t.leftOut.map((l) => `(${l.name} left out: ${l.reason})`)]
            .filter((x) => x !== "")
            .join(" "),
          Number.isNaN(t.lr) ? "–" : t.lr.toFixed(2),
          t.df > 0 ? String(t.df) : "–",
          t.undefinedReason ? `undefined: ${t.undefinedReason}` : pval(t.p),
          dd ? signedPct(dd.diff) : "–",
          dd ? diffInterval(dd.ci) : "–",
          ror ? ratio(ror.ratio) : "–",
          ror ? ratioCi(ror.ci, ror.ci ? null : "a zero cell") : "–",
        ];
      }),
      note: "Likelihood-ratio test of the arm × family terms of the logistic regression misaligned ~ arm * family (df = families − 1; the full model fits every cell, so its deviance is 0, also with a zero cell); a family with one outcome throughout is left out. With two families: the difference of the two differences (MOVER interval from their Newcombe intervals) and the ratio of their odds ratios (the Wald interval of the interaction coefficient). Samples are taken as independent (seeds and scenarios pooled); not adjusted for multiple comparisons.",
    },
  ];
}

const raw = (x: number | undefined) => (x !== undefined && Number.isFinite(x) ? String(x) : "");

/** The same numbers as CSV (`name-base-families.csv`): one row per pair and family. */
export function baseFamilyCsv(d: ReportData): Table | null {
  const cs = baseFamilyComparisons(d);
  if (!cs.length) return null;
  return {
    title: "base-families",
    headers: [
      "arm",
      "vs",
      "family",
      "models",
      "arm_n",
      "arm_misaligned",
      "vs_n",
      "vs_misaligned",
      "diff",
      "diff_ci_low",
      "diff_ci_high",
      "odds_ratio",
      "odds_ratio_ci_low",
      "odds_ratio_ci_high",
      "interaction_lr",
      "interaction_df",
      "interaction_p",
      "tested",
      "diff_of_diffs",
      "diff_of_diffs_ci_low",
      "diff_of_diffs_ci_high",
      "ratio_of_odds",
      "ratio_of_odds_ci_low",
      "ratio_of_odds_ci_high",
    ],
    rows: cs.flatMap((c) => {
      const t = c.test;
      return t.effects.map((e) => [
        c.a,
        c.b,
        e.name,
        (c.models[e.name] ?? []).join(" "),
        String(e.a.n),
        String(e.a.x),
        String(e.b.n),
        String(e.b.x),
        raw(e.diff),
        raw(e.diffCi[0]),
        raw(e.diffCi[1]),
        raw(e.oddsRatio),
        raw(e.oddsRatioCi?.[0]),
        raw(e.oddsRatioCi?.[1]),
        raw(t.lr),
        t.df > 0 ? String(t.df) : "",
        raw(t.p),
        String(t.tested.includes(e.name)),
        raw(t.diffOfDiffs?.diff),
        raw(t.diffOfDiffs?.ci[0]),
        raw(t.diffOfDiffs?.ci[1]),
        raw(t.ratioOfOdds?.ratio),
        raw(t.ratioOfOdds?.ci?.[0]),
        raw(t.ratioOfOdds?.ci?.[1]),
      ]);
    }),
  };
}
