/**
 * The report's numbers as CSV for analysis elsewhere: raw values (rates as fractions, full
 * precision, empty where undefined), one row per observation, no formatting.
 */
import type { RateCell } from "../evals/am/metrics.js";
import type { ReportData } from "./results.js";
import { agreementCells, type Table } from "./tables.js";

const num = (x: number | null | undefined) =>
  x === null || x === undefined || !Number.isFinite(x) ? "" : String(x);

export function ratesCsv(d: ReportData): Table {
  return {
    title: "rates",
    headers: [
      "arm",
      "kind",
      "spec",
      "spec_sha256",
      "model",
      "n",
      "misaligned",
      "rate",
      "ci_low",
      "ci_high",
      "mean_over_scenarios",
      "errors",
      "truncated",
      "refused",
      "seeds",
      "seed_mean",
      "seed_sem",
      "seed_ci_low",
      "seed_ci_high",
      "seed_ci_clipped",
    ],
    rows: d.arms.map((a) => {
      const p = a.metrics.pooled;
      return [
        a.arm,
        a.kind,
        a.spec?.name ?? "",
        a.spec?.hash ?? "",
        a.model,
        num(p.n),
        num(p.misaligned),
        num(p.rate),
        num(p.ci[0]),
        num(p.ci[1]),
        num(a.metrics.meanOverConditions),
        num(a.metrics.errors.total),
        num(a.metrics.truncated),
        num(a.metrics.refused),
        num(a.seeds.length),
        num(a.acrossSeeds?.mean),
        num(a.acrossSeeds?.sem),
        num(a.acrossSeeds?.ci[0]),
        num(a.acrossSeeds?.ci[1]),
        a.acrossSeeds ? String(a.acrossSeeds.clipped) : "",
      ];
    }),
  };
}

export function comparisonsCsv(d: ReportData): Table {
  return {
    title: "comparisons",
    headers: [
      "model",
      "arm",
      "vs",
      "n_arm",
      "n_vs",
      "rate_arm",
      "rate_vs",
      "difference",
      "diff_ci_low",
      "diff_ci_high",
      "bootstrap_ci_low",
      "bootstrap_ci_high",
      "risk_ratio",
      "ratio_ci_low",
      "ratio_ci_high",
      "paired_n",
      "p_mcnemar",
      "p_fisher",
      "p",
      "p_holm",
      "p_undefined_reason",
    ],
    rows: d.comparisons.map((c) => [
      c.model,
      c.a,
      c.b,
      num(c.nA),
      num(c.nB),
      num(c.rateA),
      num(c.rateB),
      num(c.diff),
      num(c.diffCi[0]),
      num(c.diffCi[1]),
      num(c.bootstrapCi?.[0]),
      num(c.bootstrapCi?.[1]),
      num(c.ratio),
      num(c.ratioCi[0]),
      num(c.ratioCi[1]),
      num(c.pairs),
      num(c.pMcnemar),
      num(c.pFisher),
      num(c.p),
      num(c.pHolm),
      c.pUndefinedReason ?? "",
    ]),
  };
}

/** Every breakdown cell (scenario, family, eval-awareness label) of every arm, in long format. */
export function breakdownsCsv(d: ReportData): Table {
  const rows: string[][] = [];
  const add = (arm: string, model: string, breakdown: string, cells: RateCell[]) => {
    for (const c of cells)
      rows.push([
        arm,
        model,
        breakdown,
        c.key,
        num(c.n),
        num(c.misaligned),
        num(c.rate),
        num(c.ci[0]),
        num(c.ci[1]),
        num(c.errors),
        num(c.truncated),
        num(c.refused),
      ]);
  };
  for (const a of d.arms) {
    add(a.arm, a.model, "scenario", a.metrics.byCondition);
    add(a.arm, a.model, "family", a.metrics.byFamily);
    add(a.arm, a.model, "eval_awareness", a.metrics.byAwareness);
  }
  return {
    title: "breakdowns",
    headers: [
      "arm",
      "model",
      "breakdown",
      "key",
      "n",
      "misaligned",
      "rate",
      "ci_low",
      "ci_high",
      "errors",
      "truncated",
      "refused",
    ],
    rows,
  };
}

/** Judge–evidence agreement: per arm, model and judge verdict (executed, decided), its 2×2. */
export function agreementCsv(d: ReportData): Table {
  return {
    title: "agreement",
    headers: [
      "arm",
      "model",
      "judge_verdict",
      "n",
      "both",
      "judge_only",
      "evidence_only",
      "neither",
      "agreement",
      "kappa",
      "kappa_undefined_reason",
    ],
    rows: agreementCells(d).map(({ arm, model, verdict, agreement: g }) => [
      arm,
      model,
      verdict,
      ...[g.n, g.both, g.judgeOnly, g.evidenceOnly, g.neither, g.observed, g.kappa].map(num),
      g.kappaUndefined ?? "",
    ]),
  };
}

/**
 * Reasoning rates, one row per arm, model, condition (`all`, then each scenario) and measure
 * (category, rule cited, rule invoked, policy misuse).
 */
export function reasoningCsv(d: ReportData): Table {
  const rows: string[][] = [];
  for (const arm of d.reasoning?.arms ?? [])
    for (const [condition, summary] of [
      ["all", arm.summary] as const,
      ...Object.entries(arm.byCondition),
    ])
      reasoningRows(rows, { arm: arm.arm, model: arm.model, condition, summary });
  return {
    title: "reasoning",
    headers: ["arm", "model", "condition", "measure", "present", "n", "rate", "ci_low", "ci_high"],
    rows,
  };
}

type ReasoningSummary = NonNullable<ReportData["reasoning"]>["arms"][number]["summary"];

/** One summary's rows: every category, every rule (cited by id, invoked at all), policy misuse. */
function reasoningRows(
  rows: string[][],
  a: { arm: string; model: string; condition: string; summary: ReasoningSummary },
): void {
  const row = (
    measure: string,
    f: { present: number; n: number; interval: [number, number] | null },
  ) =>
    rows.push([
      a.arm,
      a.model,
      a.condition,
      measure,
      String(f.present),
      String(f.n),
      num(f.n ? f.present / f.n : null),
      num(f.interval?.[0]),
      num(f.interval?.[1]),
    ]);
  for (const c of a.summary.categories) row(`category:${c.id}`, c);
  for (const r of a.summary.rules) {
    row(`rule_cited:${r.rule}`, r.explicit);
    row(`rule_invoked:${r.rule}`, r.any);
  }
  row("policy_misuse", a.summary.misuse.rate);
}

/** Every task metric per arm and model, overall and per breakdown group, one row each. */
export function taskMetricsCsv(d: ReportData): Table {
  return {
    title: "task metrics",
    headers: [
      ...["eval", "task", "arm", "model", "metric", "scale", "better", "by", "group"],
      ...["items", "samples", "mean", "sem", "ci_low", "ci_high", "invalid"],
    ],
    rows: d.tasks.flatMap((t) =>
      t.arms.flatMap((a) =>
        a.summary.metrics.flatMap((m) =>
          [{ field: "", cells: [m.overall] }, ...m.by].flatMap((g) =>
            g.cells.map((c) => [
              ...[t.eval, t.task, a.arm, a.model, m.metric.name, m.metric.scale, m.metric.better],
              g.field,
              g.field ? c.key : "",
              num(c.items),
              num(c.samples),
              num(c.mean),
              num(c.sem),
              num(c.ci[0]),
              num(c.ci[1]),
              num(c.invalid),
            ]),
          ),
        ),
      ),
    ),
  };
}

/** Every task comparison on its headline metric, with the test and the report-wide Holm p. */
export function taskComparisonsCsv(d: ReportData): Table {
  return {
    title: "task comparisons",
    headers: [
      ...["eval", "model", "arm", "vs", "metric", "mean_a", "mean_b", "items_a", "items_b"],
      ...[
        "pairs",
        "diff",
        "ci_low",
        "ci_high",
        "test",
        "t",
        "df",
        "p",
        "p_undefined_reason",
        "p_holm",
      ],
    ],
    rows: d.tasks.flatMap((t) =>
      t.comparisons.map((c) => [
        ...[c.eval, c.model, c.a, c.b, c.metric],
        ...[num(c.meanA), num(c.meanB), num(c.itemsA), num(c.itemsB), num(c.pairs)],
        ...[num(c.diff), num(c.ci[0]), num(c.ci[1]), c.test, num(c.t), num(c.df), num(c.p)],
        c.undefinedReason ?? "",
        num(c.pHolm),
      ]),
    ),
  };
}
