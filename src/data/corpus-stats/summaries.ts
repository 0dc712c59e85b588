/**
 * Summaries of what the accumulators counted: balance of groups, token-length quantiles and
 * histogram.
 */
import type { Balance, HistogramBin, TokenDistribution } from "./types.js";

/** Normalized entropy and max/min ratio of the groups' token counts. */
export function balanceOf(groups: { name: string; tokens: number }[]): Balance {
  const total = groups.reduce((s, g) => s + g.tokens, 0);
  let largest = groups[0];
  let smallest = groups[0];
  let h = 0;
  for (const g of groups) {
    if (largest && g.tokens > largest.tokens) largest = g;
    if (smallest && g.tokens < smallest.tokens) smallest = g;
    const p = total > 0 ? g.tokens / total : 0;
    if (p > 0) h -= p * Math.log(p);
  }
  const k = groups.length;
  return {
    groups: k,
    entropy: k === 0 ? Number.NaN : k === 1 ? 1 : total === 0 ? 0 : h / Math.log(k),
    maxMinRatio:
      !largest || !smallest
        ? Number.NaN
        : smallest.tokens === 0
          ? largest.tokens === 0
            ? 1
            : Number.POSITIVE_INFINITY
          : largest.tokens / smallest.tokens,
    largest: largest?.name ?? "",
    smallest: smallest?.name ?? "",
  };
}

/** Quantile q of ascending `sorted` with linear interpolation (numpy's default). */
function quantile(sorted: Int32Array, q: number): number {
  if (sorted.length === 0) return 0;
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const a = sorted[lo] as number;
  const b = sorted[Math.min(lo + 1, sorted.length - 1)] as number;
  return a + (b - a) * (pos - lo);
}

function histogram(sorted: Int32Array, bins = 20): TokenDistribution["histogram"] {
  if (sorted.length === 0) return { scale: "linear", bins: [] };
  const min = sorted[0] as number;
  const max = sorted[sorted.length - 1] as number;
  const log = max > 10 * Math.max(min, 1);
  let edges: number[];
  if (log) {
    const a = Math.max(min, 1);
    const ratio = (max + 1) / a;
    edges = [min];
    for (let i = 1; i <= bins; i++) {
      const e = Math.round(a * ratio ** (i / bins));
      if (e > (edges[edges.length - 1] as number)) edges.push(e);
    }
  } else {
    const width = Math.max(1, Math.ceil((max - min + 1) / bins));
    edges = [];
    for (let e = min; e <= max; e += width) edges.push(e);
    edges.push(Math.min((edges[edges.length - 1] as number) + width, max + 1));
  }
  const out: HistogramBin[] = [];
  let j = 0;
  for (let i = 0; i + 1 < edges.length; i++) {
    const to = edges[i + 1] as number;
    let count = 0;
    while (j < sorted.length && (sorted[j] as number) < to) {
      count++;
      j++;
    }
    // Integer edges: [from, to); the last bin's `to` is max + 1 internally, reported as max.
    out.push({ from: edges[i] as number, to: i + 2 === edges.length ? max : to, count });
  }
  return { scale: log ? "log" : "linear", bins: out };
}

/** Quantiles, mean and histogram of the documents' token counts (`sorted` ascending). */
export function tokenDistribution(sorted: Int32Array, tokens: number): TokenDistribution {
  const documents = sorted.length;
  return {
    min: documents ? (sorted[0] as number) : 0,
    p10: quantile(sorted, 0.1),
    p50: quantile(sorted, 0.5),
    p90: quantile(sorted, 0.9),
    p99: quantile(sorted, 0.99),
    max: documents ? (sorted[documents - 1] as number) : 0,
    mean: documents ? tokens / documents : 0,
    histogram: histogram(sorted),
  };
}
