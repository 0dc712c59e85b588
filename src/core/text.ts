import { distance } from "fastest-levenshtein";
/** Text as a literal inside a regular expression. */
export const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Matches `term` as whole words (any case unless `flags` says otherwise). */
export const wordPattern = (term: string, flags = "i") =>
  new RegExp(`(?<![\\p{L}\\p{N}])${escapeRegExp(term)}(?![\\p{L}\\p{N}])`, `${flags}u`);

/** Whitespace runs as one space, ends trimmed: how quotes are compared with their source. */
export const squashSpace = (s: string) => s.replace(/\s+/g, " ").trim();

/** A quote without the quotation marks and ellipses a model tends to wrap it in. */
export const unwrapQuote = (q: string) =>
  squashSpace(q.replace(/^["'“”‘’…. ]+|["'“”‘’…. ]+$/g, ""));

/**
 * Whether a quote is a verbatim passage (up to whitespace and wrapping quotation marks) of one of
 * the sources. Quotes shorter than three characters prove nothing and do not count.
 */
export function quoteIn(quote: string, sources: string[]): boolean {
  return quoteInSquashed(quote, sources.map(squashSpace));
}

/** `quoteIn` over sources already passed through `squashSpace` (to squash them once for many quotes). */
export function quoteInSquashed(quote: string, squashedSources: string[]): boolean {
  const needle = unwrapQuote(quote);
  return needle.length >= 3 && squashedSources.some((s) => s.includes(needle));
}

/**
 * The candidate closest to `word` by edit distance (Levenshtein, case-insensitive), if it is close
 * enough to be a likely typo: at most `maxDistance` edits (default a third of the word's length,
 * at least one). For "did you mean".
 */
export function closestMatch(
  word: string,
  candidates: readonly string[],
  maxDistance = Math.max(1, Math.floor(word.length / 3)),
): string | undefined {
  let best: string | undefined;
  let bestDistance = maxDistance + 1;
  for (const c of candidates) {
    const d = distance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}
