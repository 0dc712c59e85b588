/**
 * Contamination check: word n-grams a training document shares with the evaluation scenarios.
 * A corpus that quotes the scenario emails would teach the eval, not the spec. Texts are compared
 * as lower-case words; an n-gram is keyed by two independent 32-bit hashes of its word hashes
 * (exact integer arithmetic), and a hit is confirmed on the words themselves.
 */

const WORD = /[\p{L}\p{N}']+/gu;

const words = (text: string) => text.toLowerCase().match(WORD) ?? [];

function wordHash(w: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < w.length; i++) h = Math.imul(h ^ w.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function gramKey(hashes: Uint32Array, start: number, n: number): number {
  let a = 0x9e3779b9;
  let b = 0x85ebca6b;
  for (let i = start; i < start + n; i++) {
    const x = hashes[i] as number;
    a = Math.imul(a ^ x, 0x01000193) >>> 0;
    b = Math.imul((b + x) ^ (b >>> 15), 0x2c1b3c6d) >>> 0;
  }
  // 21 + 32 bits: a safe integer, so a Set of numbers holds it exactly.
  return (a & 0x1fffff) * 0x100000000 + b;
}

export interface ContaminationIndex {
  n: number;
  grams: Map<number, string>;
}

/** The n-grams of the evaluation texts (the scenario pack). */
export function contaminationIndex(texts: string[], n: number): ContaminationIndex {
  const grams = new Map<number, string>();
  for (const t of texts) {
    const w = words(t);
    const h = Uint32Array.from(w, wordHash);
    for (let i = 0; i + n <= w.length; i++)
      grams.set(gramKey(h, i, n), w.slice(i, i + n).join(" "));
  }
  return { n, grams };
}

export interface Overlap {
  /** Distinct shared n-grams. */
  count: number;
  /** Up to three of them, as text. */
  examples: string[];
}

export function overlapWith(text: string, index: ContaminationIndex): Overlap {
  const w = words(text);
  const h = Uint32Array.from(w, wordHash);
  const found = new Set<string>();
  for (let i = 0; i + index.n <= w.length; i++) {
    const gram = index.grams.get(gramKey(h, i, index.n));
    if (gram !== undefined && gram === w.slice(i, i + index.n).join(" ")) found.add(gram);
  }
  return { count: found.size, examples: [...found].slice(0, 3) };
}

/** Every string in a parsed YAML/JSON value (scenario packs are YAML files of templates). */
export function stringsIn(value: unknown, out: string[] = []): string[] {
  if (typeof value === "string") out.push(value);
  else if (Array.isArray(value)) for (const v of value) stringsIn(v, out);
  else if (value && typeof value === "object")
    for (const v of Object.values(value)) stringsIn(v, out);
  return out;
}
