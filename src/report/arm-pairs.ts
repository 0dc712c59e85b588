/**
 * Which arms a report compares. A small design compares every pair; a large one (the paper
 * preset's eighty-odd arms) would drown the comparisons that matter in thousands that do not, and
 * Holm's correction would spend its power on them. There every arm is compared with the
 * references (the bare baseline, the IT-only model), and two arms are compared when they differ in
 * exactly one design factor — MSM spec, AFT spec, reasoning, AFT size, anti-spec share, IT data or
 * prompted spec — which are the contrasts the paper reads off its figures.
 */
import type { Arm } from "../experiment/config.js";

/** Up to this many arms, every pair is compared. */
export const ALL_PAIRS_UP_TO = 16;

const REFERENCE_RANK: Record<string, number> = { baseline: 2, "it-only": 1 };
const referenceRank = (kind: string) => REFERENCE_RANK[kind] ?? 0;

/** An arm's design factors, as comparable strings ("-" where the arm has no such part). */
function factors(arm: Arm): string[] {
  const a = arm as Partial<{
    spec: string;
    msm_spec: string;
    msm_recipe: string;
    aft_spec: string;
    reasoning: boolean;
    aft_size: number;
    it: unknown;
    anti: { spec: string; fraction: number };
  }>;
  const hasAft = a.aft_spec !== undefined;
  return [
    a.spec ?? "-",
    `${a.msm_spec ?? "-"}${a.msm_recipe ? ` ${a.msm_recipe}` : ""}`,
    a.aft_spec ?? "-",
    hasAft ? String(a.reasoning ?? true) : "-",
    hasAft ? String(a.aft_size ?? "default") : "-",
    a.anti ? `${a.anti.spec}@${a.anti.fraction}` : "-",
    a.it ? JSON.stringify(a.it) : "-",
  ];
}

const oneApart = (x: string[], y: string[]) => x.filter((v, i) => v !== y[i]).length === 1;

/**
 * The pairs to compare, each oriented "spec arm against the baseline" (the more basic arm second:
 * a spec arm against it-only or the bare baseline, it-only against the bare baseline), so a
 * difference reads as what the spec (or the IT data) changed.
 */
export function armPairs(arms: readonly Arm[]): [Arm, Arm][] {
  const all = arms.length <= ALL_PAIRS_UP_TO;
  const f = all ? [] : arms.map(factors);
  const pairs: [Arm, Arm][] = [];
  for (let i = 0; i < arms.length; i++)
    for (let j = i + 1; j < arms.length; j++) {
      const [x, y] = [arms[i], arms[j]] as [Arm, Arm];
      const reference = referenceRank(x.kind) > 0 || referenceRank(y.kind) > 0;
      if (!all && !reference && !oneApart(f[i] as string[], f[j] as string[])) continue;
      pairs.push(referenceRank(x.kind) > referenceRank(y.kind) ? [y, x] : [x, y]);
    }
  return pairs;
}
