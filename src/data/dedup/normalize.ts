import { createHash } from "node:crypto";

// Whitespace other than a plain space is rare, so replacing it first and then only runs of two
// or more spaces is several times faster than one /\s+/ pass that rewrites every single space.
const OTHER_SPACE = /[^\S ]+/g;
const PUNCTUATION = /\p{P}+/gu;
const SPACE_RUNS = / {2,}/g;

/**
 * The text that exact and near-duplicate detection compare: Unicode NFKC (so full-width, ligature
 * and compatibility forms match their plain forms), lower case, punctuation removed (Unicode
 * category P; symbols such as `$` or `+` stay), and words separated by single spaces.
 */
export function normalizeText(text: string): string {
  return text
    .normalize("NFKC")
    .toLowerCase()
    .replace(OTHER_SPACE, " ")
    .replace(PUNCTUATION, "")
    .replace(SPACE_RUNS, " ")
    .trim();
}

/** Bytes in an exact-duplicate digest. */
export const DIGEST_BYTES = 32;

/**
 * Writes the SHA-256 of a normalized text's UTF-8 into `out` at `offset`. SHA-256 rather than a
 * fast 64-bit hash: it costs about 3 µs per 3 KB document (a few percent of a document's MinHash),
 * and its collisions are impossible in practice, so equal digests can be trusted as equal texts
 * without keeping the texts around to compare.
 */
export function digestInto(normalized: string, out: Uint8Array, offset: number): void {
  out.set(createHash("sha256").update(normalized, "utf8").digest(), offset);
}
