/**
 * Seeded synthetic text for dedup tests and benchmarks: random words from a random vocabulary,
 * rendered as sentences, and near copies made by a few small edits (1–3 edits of 1–2 words
 * replaced, inserted or deleted, which keeps the 5-word-shingle Jaccard of a 300+ word text high).
 */
import { seededRandom } from "../../src/core/random.js";

export function syntheticCorpus(seed: number, vocabularySize = 3000) {
  const random = seededRandom(seed);
  const int = (n: number) => Math.floor(random() * n);
  const vocabulary = new Set<string>();
  while (vocabulary.size < vocabularySize) {
    let word = "";
    for (let i = 2 + int(8); i > 0; i--) word += String.fromCharCode(97 + int(26));
    vocabulary.add(word);
  }
  const vocab = [...vocabulary];
  const words = (n: number) => Array.from({ length: n }, () => vocab[int(vocab.length)] as string);
  // Sentences with capitals and full stops, so normalization has something to do.
  const render = (ws: string[]) =>
    ws
      .map((w, i) => (i % 12 === 0 ? w[0]?.toUpperCase() + w.slice(1) : w))
      .map((w, i) => (i % 12 === 11 ? `${w}.` : w))
      .join(" ");
  const nearCopy = (source: string[]) => {
    const ws = [...source];
    for (let e = 1 + int(3); e > 0; e--) {
      const at = int(ws.length - 2);
      const n = 1 + int(2);
      const op = int(3);
      if (op === 0) ws.splice(at, n, ...words(n));
      else if (op === 1) ws.splice(at, 0, ...words(n));
      else ws.splice(at, n);
    }
    return ws;
  };
  return { random, int, words, render, nearCopy };
}
