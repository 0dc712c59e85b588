/**
 * Token budgets stratified over domains and document types. Every domain gets an equal share of
 * the target and, within a domain, every document type an equal share of the domain's. Extra
 * generation goes to the strata furthest below their share; trimming removes documents from the
 * strata furthest above theirs, in a fixed order, until the total lands in
 * [target × (1 − tolerance), target] — so two corpora built for the same target match within the
 * tolerance whatever their document lengths.
 */
import { sha256Hex } from "../../core/hash.js";

export interface BudgetDoc {
  key: string;
  /** The stratum: `domain key / doc type key`. */
  domain: string;
  type: string;
  /** Repetition index of the document for its idea (later repetitions are trimmed first). */
  rep: number;
  tokens: number;
}

/** Each stratum's share of the target: equal per domain, then equal per type within a domain. */
export function stratumShares(strata: { domain: string; type: string }[]): Map<string, number> {
  const types = new Map<string, Set<string>>();
  for (const s of strata) {
    const t = types.get(s.domain) ?? new Set<string>();
    types.set(s.domain, t);
    t.add(s.type);
  }
  const shares = new Map<string, number>();
  for (const t of types.values()) for (const type of t) shares.set(type, 1 / types.size / t.size);
  return shares;
}

/**
 * How many more documents each live stratum should get so the corpus reaches `target` tokens
 * (with a margin, since gates and dedup remove some): the missing tokens go to the strata in
 * proportion to how far each is below its share, or evenly when none is below it. A stratum is
 * dead when its ideas stopped yielding documents (all refused, say); shares still count it, so
 * the others make up for it.
 */
export function allocateExtra(
  docs: BudgetDoc[],
  strata: { domain: string; type: string }[],
  live: ReadonlySet<string>,
  target: number,
  meanTokens: number,
  margin = 1.1,
): Map<string, number> {
  const shares = stratumShares(strata);
  const have = new Map<string, number>();
  let total = 0;
  for (const d of docs) {
    have.set(d.type, (have.get(d.type) ?? 0) + d.tokens);
    total += d.tokens;
  }
  const need = target * margin - total;
  const out = new Map<string, number>();
  const types = [...shares.keys()].filter((t) => live.has(t));
  if (need <= 0 || !types.length) return out;
  const deficit = (t: string) =>
    Math.max(0, (shares.get(t) ?? 0) * target * margin - (have.get(t) ?? 0));
  const sum = types.reduce((a, t) => a + deficit(t), 0);
  for (const t of types) {
    const tokens = sum > 0 ? (need * deficit(t)) / sum : need / types.length;
    const n = Math.ceil(tokens / Math.max(1, meanTokens));
    if (n > 0) out.set(t, n);
  }
  return out;
}

/** Trimming order within a stratum: later repetitions first, then a seeded shuffle. */
function trimOrder(docs: BudgetDoc[], seed: number): BudgetDoc[] {
  const h = new Map(docs.map((d) => [d.key, sha256Hex(`${seed}:${d.key}`)]));
  return [...docs].sort(
    (a, b) => b.rep - a.rep || ((h.get(a.key) as string) < (h.get(b.key) as string) ? -1 : 1),
  );
}

export interface TrimResult {
  kept: BudgetDoc[];
  removed: BudgetDoc[];
  tokens: number;
  /** The total landed inside the tolerance band. */
  withinTolerance: boolean;
}

/** Removes documents, deterministically and stratified, until the total is within the band. */
export function trimToBudget(
  docs: BudgetDoc[],
  strata: { domain: string; type: string }[],
  target: number,
  tolerance: number,
  seed: number,
  /** Each stratum's share of the target, when not equal per domain and per type within it. */
  givenShares?: Map<string, number>,
): TrimResult {
  const lower = Math.ceil(target * (1 - tolerance));
  let total = docs.reduce((a, d) => a + d.tokens, 0);
  if (total <= target)
    return { kept: docs, removed: [], tokens: total, withinTolerance: total >= lower };
  const shares = givenShares ?? stratumShares(strata);
  const byType = new Map<string, BudgetDoc[]>();
  for (const d of trimOrder(docs, seed)) {
    const l = byType.get(d.type) ?? [];
    byType.set(d.type, l);
    l.push(d);
  }
  const tokensOf = new Map<string, number>();
  for (const d of docs) tokensOf.set(d.type, (tokensOf.get(d.type) ?? 0) + d.tokens);
  const removed = new Set<string>();
  const ratio = (type: string) => (tokensOf.get(type) ?? 0) / ((shares.get(type) ?? 1e-9) * target);
  const remove = (d: BudgetDoc) => {
    removed.add(d.key);
    total -= d.tokens;
    tokensOf.set(d.type, (tokensOf.get(d.type) ?? 0) - d.tokens);
    const l = byType.get(d.type) as BudgetDoc[];
    l.splice(l.indexOf(d), 1);
  };
  while (total > target) {
    const ranked = [...byType.keys()]
      .filter((t) => byType.get(t)?.length)
      .sort((a, b) => ratio(b) - ratio(a));
    // Regular step: the most over-represented stratum gives up its next document, if that does
    // not take the total below the band.
    const next = ranked
      .map((t) => byType.get(t)?.[0] as BudgetDoc)
      .find((d) => total - d.tokens >= lower);
    if (next && total - next.tokens > target) {
      remove(next);
      continue;
    }
    // Last step: a document whose removal lands inside the band, from the most over-represented
    // stratum that has one.
    const landing = ranked
      .flatMap((t) => byType.get(t) ?? [])
      .find((d) => total - d.tokens <= target && total - d.tokens >= lower);
    if (landing) {
      remove(landing);
      break;
    }
    // Swap: drop one kept document and take back one trimmed earlier, when the difference lands
    // inside the band (the band is narrow next to document lengths in small corpora).
    const swap = swapInto(
      ranked.flatMap((t) => byType.get(t) ?? []),
      docs.filter((d) => removed.has(d.key)),
      total - target,
      total - lower,
    );
    if (swap) {
      remove(swap.out);
      removed.delete(swap.back.key);
      total += swap.back.tokens;
      break;
    }
    // Nothing lands in the band: the smallest removal that gets under the target.
    const smallest = ranked
      .flatMap((t) => byType.get(t) ?? [])
      .filter((d) => total - d.tokens <= target)
      .sort((a, b) => a.tokens - b.tokens)[0];
    if (!smallest) break;
    remove(smallest);
  }
  return {
    kept: docs.filter((d) => !removed.has(d.key)),
    removed: docs.filter((d) => removed.has(d.key)),
    tokens: total,
    withinTolerance: total <= target && total >= lower,
  };
}

/** A kept document and a trimmed one whose token difference lies in [lo, hi] (two pointers). */
function swapInto(
  kept: BudgetDoc[],
  trimmed: BudgetDoc[],
  lo: number,
  hi: number,
): { out: BudgetDoc; back: BudgetDoc } | undefined {
  const a = [...kept].sort((x, y) => x.tokens - y.tokens);
  const b = [...trimmed].sort((x, y) => x.tokens - y.tokens);
  let j = 0;
  for (const out of a) {
    // The smallest trimmed document with out − back ≤ hi, then check out − back ≥ lo.
    while (j < b.length && out.tokens - (b[j] as BudgetDoc).tokens > hi) j++;
    const back = b[j];
    if (back && out.tokens - back.tokens >= lo) return { out, back };
  }
  return undefined;
}
