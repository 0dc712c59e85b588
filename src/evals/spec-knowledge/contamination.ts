/**
 * Contamination of spec-knowledge items: an item whose distinctive text (the statement or passage
 * it quotes) appears verbatim in an arm's training data (its MSM documents, its AFT chats) may be
 * answered from memorized text rather than from knowing the spec. Texts are compared up to case,
 * whitespace and typographic quotes and dashes (generated documents write ’ for ').
 */
import type { Sample } from "../types.js";
import type { KnowledgeItem } from "./items.js";

export interface ContaminationHit {
  item: string;
  kind: string;
  rule: string;
  /** The item's text that was found, as the item has it. */
  text: string;
  /** The first training text containing it (its index in the order given). */
  source: number;
  /** How many training texts contain it. */
  count: number;
}

export interface ContaminationOptions {
  /** Texts shorter than this many words are too common to be evidence (default 8). */
  minWords?: number;
}

type ItemLike = KnowledgeItem | Pick<Sample, "id" | "metadata">;

const TYPOGRAPHIC: Record<string, string> = {
  "‘": "'",
  "’": "'",
  ʼ: "'",
  "`": "'",
  "“": '"',
  "”": '"',
  "„": '"',
  "‐": "-",
  "‑": "-",
  "‒": "-",
  "–": "-",
  "—": "-",
};

/** Lower case, typographic marks as plain ones, whitespace runs as one space (single spaces are left alone: 10× faster). */
const normalize = (s: string) =>
  s
    .toLowerCase()
    .replace(/[‘’ʼ`“”„‐‑‒–—]/g, (c) => TYPOGRAPHIC[c] ?? c)
    .replace(/[^\S ]\s*| \s+/g, " ");

const wordCount = (s: string) => s.split(/\s+/).filter(Boolean).length;

function fieldsOf(x: ItemLike): { id: string; kind: string; rule: string; quotes: string[] } {
  const m: Record<string, unknown> = "kind" in x ? { ...x } : x.metadata;
  const quotes = Array.isArray(m.quotes) ? m.quotes.filter((q) => typeof q === "string") : [];
  return { id: x.id, kind: String(m.kind ?? ""), rule: String(m.rule ?? ""), quotes };
}

/**
 * What to look for, most telling first: each quoted text, then, for a passage, each of its
 * sentences (training documents quote a sentence more often than a whole paragraph). A probe
 * loses its final punctuation, since a quote inside a sentence often ends with another mark.
 */
function probesOf(quotes: string[], minWords: number): { text: string; probe: string }[] {
  const texts = quotes.flatMap((q) => {
    const sentences = q.split(/(?<=[.!?])\s+/);
    return sentences.length > 1 ? [q, ...sentences] : [q];
  });
  return texts
    .filter((t) => wordCount(t) >= minWords)
    .map((t) => ({
      text: t,
      probe: normalize(t)
        .replace(/^[^\p{L}\p{N}']+/u, "")
        .replace(/[\s.;:,!?]+$/, ""),
    }));
}

const WORD_CHAR = /[\p{L}\p{N}']/u;
const FIRST_WORD = /^[\p{L}\p{N}']+/u;

interface Probe {
  item: number;
  /** Its rank among the item's probes (0: the most telling). */
  rank: number;
  text: string;
  probe: string;
  first?: number;
  count: number;
  /** The last text it was found in (one count per text). */
  last: number;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** The first `n` space-separated chunks of `s` from `at` (probes are normalized: one space apart). */
function chunksAt(s: string, at: number, n: number): string {
  let end = at;
  for (let k = 0; k < n && end >= 0; k++) end = s.indexOf(" ", end + 1);
  return end < 0 ? s.slice(at) : s.slice(at, end);
}

/** Probes are looked up by their first three words, so a common first word ("do") stays cheap. */
const KEY_WORDS = 3;

/**
 * One pass over each text: a single regular expression finds the words that start some probe,
 * and only there are the probes with the same first words compared in place. The cost grows with
 * the data, not with data × probes as one string search per probe would (6 s for 200 items over
 * 48 M characters that way).
 */
function scan(probes: Probe[], texts: Iterable<string>): void {
  const byKey = new Map<string, Probe[]>();
  const firstWords = new Set<string>();
  for (const p of probes) {
    const w = FIRST_WORD.exec(p.probe)?.[0];
    if (!w) continue;
    firstWords.add(w);
    const key = chunksAt(p.probe, 0, KEY_WORDS);
    byKey.set(key, [...(byKey.get(key) ?? []), p]);
  }
  if (firstWords.size === 0) return;
  const starts = new RegExp(
    `(?<![\\p{L}\\p{N}'])(?:${[...firstWords].map(escapeRe).join("|")})(?![\\p{L}\\p{N}'])`,
    "gu",
  );
  let index = 0;
  for (const raw of texts) {
    const text = normalize(raw);
    starts.lastIndex = 0;
    for (let m = starts.exec(text); m; m = starts.exec(text)) {
      for (const p of byKey.get(chunksAt(text, m.index, KEY_WORDS)) ?? []) {
        if (p.last === index || !text.startsWith(p.probe, m.index)) continue;
        if (WORD_CHAR.test(text[m.index + p.probe.length] ?? " ")) continue;
        p.first ??= index;
        p.last = index;
        p.count++;
      }
    }
    index++;
  }
}

/**
 * The items whose quoted text appears verbatim in one of `texts` (each normalized once, then
 * scanned once for every probe together). One hit per item: its most telling probe found.
 */
export function contaminatedItems(
  items: Iterable<ItemLike>,
  texts: Iterable<string>,
  options: ContaminationOptions = {},
): ContaminationHit[] {
  const minWords = options.minWords ?? 8;
  const fields = [...items].map(fieldsOf);
  const probes: Probe[] = fields.flatMap((f, item) =>
    probesOf(f.quotes, minWords).map((p, rank) => ({ item, rank, ...p, count: 0, last: -1 })),
  );
  scan(probes, texts);
  const best = new Map<number, Probe>();
  for (const p of probes)
    if (p.first !== undefined && (best.get(p.item)?.rank ?? Number.POSITIVE_INFINITY) > p.rank)
      best.set(p.item, p);
  return fields.flatMap((f, i) => {
    const p = best.get(i);
    return p?.first === undefined
      ? []
      : [{ item: f.id, kind: f.kind, rule: f.rule, text: p.text, source: p.first, count: p.count }];
  });
}
