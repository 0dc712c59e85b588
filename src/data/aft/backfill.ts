/**
 * How many more prompts each (domain, category) stratum needs. Each stratum's share of the target
 * (examples, or tokens of the with-reasoning set) is compared with what it has; the shortfall of
 * strata that stopped yielding goes to the live ones; the missing examples become prompts through
 * the stratum's own pass rate and share of prompts surviving dedup. Pure: the same history gives
 * the same plan.
 */

export interface StratumState {
  key: string;
  share: number;
  live: boolean;
  /** Passing (eligible) examples, and their tokens. */
  examples: number;
  tokens: number;
  /** Prompts written, kept after dedup, and answered. */
  written: number;
  kept: number;
  answered: number;
}

export interface StratumNeed {
  key: string;
  prompts: number;
}

const MARGIN = 1.1;

/** Calls of one wave per stratum are capped, so one wave cannot run away. */
export const MAX_CALLS_PER_STRATUM = 10;

export function planBackfill(
  strata: StratumState[],
  target: { examples: number } | { tokens: number },
): StratumNeed[] {
  const byTokens = "tokens" in target;
  const total = byTokens ? target.tokens : target.examples;
  const have = (s: StratumState) => (byTokens ? s.tokens : s.examples);
  const allExamples = strata.reduce((a, s) => a + s.examples, 0);
  const allTokens = strata.reduce((a, s) => a + s.tokens, 0);
  const meanTokens = allExamples ? allTokens / allExamples : 800;
  const dead = strata.filter((s) => !s.live);
  const live = strata.filter((s) => s.live);
  const liveShare = live.reduce((a, s) => a + s.share, 0);
  const orphaned = dead.reduce((a, s) => a + Math.max(0, s.share * total - have(s)), 0);
  const needs: StratumNeed[] = [];
  for (const s of live) {
    const quota = s.share * total + (liveShare ? (orphaned * s.share) / liveShare : 0);
    const deficit = quota * MARGIN - have(s);
    if (deficit <= 0) continue;
    const examples = byTokens
      ? deficit / (s.examples ? s.tokens / s.examples : meanTokens)
      : deficit;
    const passRate = s.answered ? Math.max(0.1, s.examples / s.answered) : 0.8;
    const keptRate = s.written ? Math.max(0.2, s.kept / s.written) : 0.9;
    needs.push({ key: s.key, prompts: Math.ceil(examples / passRate / keptRate) });
  }
  return needs;
}
