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
  const needle = unwrapQuote(quote);
  return needle.length >= 3 && sources.some((s) => squashSpace(s).includes(needle));
}

/**
 * The candidate closest to `word` by edit distance (Levenshtein), if it is close enough to be a
 * likely typo: at most a third of the word's length, and at least one edit. For "did you mean".
 * The dozen lines of the distance are written here: a dependency for them would be more to audit
 * than to read.
 */
export function closestMatch(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.floor(word.length / 3)) + 1;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
