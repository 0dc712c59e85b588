/**
 * Two arms compared on a 0/1 measure (misaligned or not) of matching score rows: the difference
 * of rates with Newcombe's interval, a cluster bootstrap over scenarios, the risk ratio, and
 * McNemar's exact test on the paired samples (same scenario, epoch and seed) or Fisher's when
 * there are none. The report's comparisons and the reasoning analysis's both come from here.
 */

import {
  clusterBootstrap,
  fisherExact,
  mcnemar,
  newcombe,
  riskMeasures,
  type UndefinedReason,
} from "../core/statistics/comparisons.js";
import type { ScoreRow } from "../evals/am/metrics.js";

export interface ArmComparison {
  model: string;
  a: string;
  b: string;
  nA: number;
  nB: number;
  rateA: number;
  rateB: number;
  /** rateA − rateB with Newcombe's 95% interval. */
  diff: number;
  diffCi: [number, number];
  /** Cluster bootstrap over scenarios (seeded), when both arms share scenarios. */
  bootstrapCi: [number, number] | null;
  ratio: number;
  ratioCi: [number, number];
  /** Paired samples (same scenario, epoch and seed in both arms) and McNemar's exact p on them. */
  pairs: number;
  pMcnemar: number | null;
  pFisher: number;
  /**
   * The p used for the family: McNemar when the design is paired, Fisher otherwise. NaN where the
   * test is undefined (no discordant pairs; both arms 0%), with the reason; Holm leaves it out.
   */
  p: number;
  pUndefinedReason: UndefinedReason;
  pHolm: number;
}

/** Two arms on a 0/1 measure of matching rows: Newcombe, scenario bootstrap, McNemar or Fisher. */
export function compare(
  model: string,
  a: string,
  b: string,
  rowsA: Map<string, ScoreRow>,
  rowsB: Map<string, ScoreRow>,
): Omit<ArmComparison, "pHolm"> {
  const valid = (m: Map<string, ScoreRow>) =>
    [...m.values()].filter((r) => r.status === "done" && r.decided !== null);
  const va = valid(rowsA);
  const vb = valid(rowsB);
  const xA = va.filter((r) => r.decided === 1).length;
  const xB = vb.filter((r) => r.decided === 1).length;
  const { diff, ci } = newcombe(xA, va.length, xB, vb.length);
  const risk = riskMeasures(xA, va.length, xB, vb.length);
  const fisher = fisherExact(xA, va.length - xA, xB, vb.length - xB);
  // Pairs: the same scenario, epoch and seed answered validly in both arms.
  let only1 = 0;
  let only2 = 0;
  const byScenario = new Map<string, [number, number][]>();
  let pairs = 0;
  for (const [key, ra] of rowsA) {
    const rb = rowsB.get(key);
    if (
      !rb ||
      ra.decided === null ||
      rb.decided === null ||
      ra.status !== "done" ||
      rb.status !== "done"
    )
      continue;
    pairs++;
    if (ra.decided === 1 && rb.decided === 0) only1++;
    if (ra.decided === 0 && rb.decided === 1) only2++;
    const list = byScenario.get(ra.sampleId) ?? [];
    list.push([ra.decided, rb.decided]);
    byScenario.set(ra.sampleId, list);
  }
  const paired = pairs > 0;
  const mcnemarTest = paired ? mcnemar(only1, only2) : null;
  // Each scenario reduced to (sum of paired differences, pairs) so a resample costs one pass over
  // the scenarios rather than over every pair: the statistic is the same pooled mean difference.
  const summaries = [...byScenario.values()].map((list) => [
    { sum: list.reduce((t, [x, y]) => t + x - y, 0), n: list.length },
  ]);
  const bootstrapCi =
    summaries.length > 1
      ? clusterBootstrap(
          summaries,
          (cs) => {
            let sum = 0;
            let n = 0;
            for (const c of cs) {
              sum += (c[0] as { sum: number }).sum;
              n += (c[0] as { n: number }).n;
            }
            return sum / n;
          },
          { seed: 20261127, resamples: 2000 },
        ).ci
      : null;
  return {
    model,
    a,
    b,
    nA: va.length,
    nB: vb.length,
    rateA: va.length ? xA / va.length : Number.NaN,
    rateB: vb.length ? xB / vb.length : Number.NaN,
    diff,
    diffCi: ci,
    bootstrapCi,
    ratio: risk.ratio,
    ratioCi: risk.ratioCi,
    pairs,
    pMcnemar: mcnemarTest?.exactP ?? null,
    pFisher: fisher.p,
    p: mcnemarTest ? mcnemarTest.exactP : fisher.p,
    pUndefinedReason: mcnemarTest ? mcnemarTest.undefinedReason : fisher.undefinedReason,
  };
}
