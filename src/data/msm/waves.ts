/**
 * Generation waves toward a token budget. A wave's plan (which documents to write) is stored
 * before any of them is written, under a key naming the target; a resumed or repeated run
 * replays the stored plans in order, so it writes exactly the documents an uninterrupted run
 * writes, retries the ones whose calls failed, and ignores waves made for other targets.
 */
import { allocateExtra, type BudgetDoc } from "./budget.js";
import { compareKeys } from "./keys.js";
import type { Idea } from "./tree.js";

export interface WavePlan {
  target: number;
  /** Document keys (`<idea key>.r<rep>`), in the order they were allocated. */
  docs: string[];
  /** Strata that got documents in this wave. */
  types: string[];
}

/**
 * A wave is planned for one target and one screening (gates, dedup, contamination): what passes
 * decides what the next wave writes, so a corpus screened otherwise plans its own waves (its
 * documents are still shared where the plans ask for the same ones).
 */
export const waveKey = (target: number, screening: string, n: number) =>
  `wave:${target}:${screening}:${n}`;

/** Most documents one wave may add, so that tiny documents cannot explode a wave. */
const MAX_WAVE = 20_000;

/**
 * The next wave: the missing tokens allocated to live strata (see `allocateExtra`), each
 * stratum's documents given to its ideas with the fewest documents so far (ties in key order),
 * each as that idea's next repetition.
 */
export function planWave(o: {
  target: number;
  kept: BudgetDoc[];
  strata: { domain: string; type: string }[];
  live: ReadonlySet<string>;
  ideas: Idea[];
  /** Every document key of the tree so far (any status). */
  existing: Iterable<string>;
  docsPerIdea: number;
  meanTokens: number;
}): WavePlan {
  const extra = allocateExtra(o.kept, o.strata, o.live, o.target, o.meanTokens);
  const reps = new Map<string, number>();
  const next = new Map<string, number>();
  for (const key of o.existing) {
    const idea = key.replace(/\.r\d+$/, "");
    const rep = Number(/\.r(\d+)$/.exec(key)?.[1] ?? 0);
    reps.set(idea, (reps.get(idea) ?? 0) + 1);
    next.set(idea, Math.max(next.get(idea) ?? o.docsPerIdea, rep + 1));
  }
  const docs: string[] = [];
  const types: string[] = [];
  for (const [type, n] of [...extra].sort((a, b) => compareKeys(a[0], b[0]))) {
    const pool = o.ideas.filter((i) => i.type.key === type);
    if (!pool.length) continue;
    types.push(type);
    for (let k = 0; k < n && docs.length < MAX_WAVE; k++) {
      const idea = pool.reduce((best, i) =>
        (reps.get(i.key) ?? 0) < (reps.get(best.key) ?? 0) ? i : best,
      );
      const rep = Math.max(o.docsPerIdea, next.get(idea.key) ?? 0);
      next.set(idea.key, rep + 1);
      reps.set(idea.key, (reps.get(idea.key) ?? 0) + 1);
      docs.push(`${idea.key}.r${rep}`);
    }
  }
  return { target: o.target, docs, types };
}
