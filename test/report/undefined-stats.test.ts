import { describe, expect, it } from "vitest";
import { type ArmComparison, compare } from "../../src/analysis/arm-comparison.js";
import { holm, meanInterval, NO_DISCORDANT_PAIRS } from "../../src/core/statistics/comparisons.js";
import type { ScoreRow } from "../../src/evals/am/metrics.js";
import { comparisonsCsv, ratesCsv } from "../../src/report/csv.js";
import {
  type ArmResult,
  comparisonsTable,
  type ReportData,
  seedsTable,
} from "../../src/report/index.js";

/** Rows keyed like the report's pairs: one sample per scenario, with its decision. */
function rows(decisions: (0 | 1)[], prefix = "s"): Map<string, ScoreRow> {
  return new Map(
    decisions.map((decided, i) => [
      `${prefix}${i}#1#0`,
      {
        sampleId: `${prefix}${i}`,
        epoch: 1,
        status: "done",
        family: null,
        decided,
        executed: null,
        judgeExecuted: null,
        awareness: null,
        citations: null,
        errorKind: null,
      },
    ]),
  );
}

/** Only the parts of a report that the comparison and seed tables read. */
function report(parts: { comparisons?: ArmComparison[]; arms?: ArmResult[] }): ReportData {
  return { comparisons: [], arms: [], ...parts } as ReportData;
}

describe("an undefined statistic in the report", () => {
  it("is shown with its reason, kept out of Holm, and empty in the CSV", () => {
    // Paired, and every pair agrees: McNemar has no discordant pair to weigh.
    const concordant = compare("m", "spec", "baseline", rows([0, 1, 0, 0]), rows([0, 1, 0, 0]));
    expect(concordant.pMcnemar).toBeNaN();
    expect(concordant.p).toBeNaN();
    expect(concordant.pUndefinedReason).toBe(NO_DISCORDANT_PAIRS);
    // Unpaired, 0 of 4 in both arms: one possible table, so Fisher's p is 1 (as scipy says).
    const same = compare("m", "other", "baseline", rows([0, 0, 0, 0], "a"), rows([0, 0, 0, 0]));
    expect(same.pMcnemar).toBeNull();
    expect([same.p, same.pUndefinedReason]).toEqual([1, null]);
    // An arm without a single valid sample: no comparison at all.
    const empty = compare("m", "other", "baseline", new Map(), rows([0, 0, 0, 0]));
    expect(empty.pUndefinedReason).toBe("an arm has no samples");
    const defined = compare(
      "m",
      "x",
      "baseline",
      rows([1, 1, 1, 1, 1, 1]),
      rows([0, 0, 0, 0, 0, 0]),
    );
    expect(defined.pUndefinedReason).toBeNull();

    const raw = [concordant, empty, defined];
    const adjusted = holm(raw.map((c) => c.p));
    const comparisons = raw.map((c, i) => ({ ...c, pHolm: adjusted[i] as number }));
    // A family of one: the defined p is not adjusted for the two undefined tests.
    expect(comparisons[2]?.pHolm).toBe(defined.p);

    const table = comparisonsTable(report({ comparisons }));
    const p = table.headers.indexOf("p");
    expect(table.rows.map((r) => [r[p], r[p + 1]])).toEqual([
      ["undefined: no discordant pairs (McNemar)", "–"],
      ["undefined: an arm has no samples (Fisher)", "–"],
      [`${defined.p.toFixed(3)} (McNemar)`, defined.p.toFixed(3)],
    ]);
    const csv = comparisonsCsv(report({ comparisons }));
    const col = (name: string) => csv.rows.map((r) => r[csv.headers.indexOf(name)]);
    expect(col("p")).toEqual(["", "", String(defined.p)]);
    expect(col("p_holm")).toEqual(["", "", String(defined.p)]);
    expect(col("p_undefined_reason")).toEqual([NO_DISCORDANT_PAIRS, "an arm has no samples", ""]);
  });

  it("a per-seed t interval that reaches below 0% is clipped, and the table and CSV say so", () => {
    const arm = (name: string, rates: number[]) =>
      ({
        arm: name,
        model: "m",
        seeds: rates.map((rate, seed) => ({ seed, n: 20, rate })),
        acrossSeeds: meanInterval(rates, { bounds: [0, 1] }),
        metrics: { pooled: { n: 60, misaligned: 0, rate: 0, ci: [0, 0] }, errors: { total: 0 } },
        spec: null,
        kind: "prompted",
      }) as unknown as ArmResult;
    const d = report({ arms: [arm("spread", [0, 0.1, 0.55]), arm("steady", [0.3, 0.35, 0.4])] });
    const t = seedsTable(d);
    const ci = t?.headers.indexOf("95% CI (t)") as number;
    expect(t?.rows.map((r) => r[ci])).toEqual([
      expect.stringMatching(/^\[0\.0%, \d+\.\d%\] \(clipped to 0–100%\)$/),
      "[22.6%, 47.4%]", // scipy: t.interval(0.95, 2, …) = [0.2258, 0.4742]
    ]);
    const csv = ratesCsv(d);
    const col = (name: string) => csv.rows.map((r) => r[csv.headers.indexOf(name)]);
    expect(col("seed_ci_low")).toEqual(["0", expect.any(String)]);
    expect(col("seed_ci_clipped")).toEqual(["true", "false"]);
  });
});
