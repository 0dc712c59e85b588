/**
 * Statistics of an MSM corpus (`dataset.jsonl`, one JSON document per line) in one streaming
 * pass: counts, the token-length distribution, documents and tokens by domain and doc type and
 * how balanced they are, n-gram diversity, and repeated names (a sign of mode collapse).
 *
 * The pass reads as its parts under `corpus-stats/`: the reader (lines split from 1 MiB chunks,
 * each checked), the lexer (words and names of a text), the accumulators (memory bounded but for
 * one Int32 per document: HyperLogLog sketches and Misra–Gries summaries) and the format.
 *
 * Definitions:
 * - characters: Unicode code points of `text`.
 * - words: maximal runs of letters, digits and combining marks (UTF-16 BMP), joined across an
 *   inner apostrophe (`don't`, `O'Brien`); hyphens and other punctuation split words. Characters
 *   outside the BMP (emoji, rare CJK) are not word characters.
 * - distinct-n: estimated distinct lowercase word n-grams / total word n-grams, n-grams taken
 *   within a document (never across two). 1 means no n-gram repeats; a corpus that repeats
 *   itself scores low. The estimate has ≈0.8% standard error (HyperLogLog, p = 14).
 * - entities: a simple name heuristic. A word is name-like when it starts with an upper-case
 *   letter, has at least one lower-case letter, no digits and at least two characters. It is
 *   not counted at the start of a sentence (start of text or line, or after `.`, `!`, `?` or
 *   `:`, except the `.` of a single letter or a title such as Mr/Dr/St) nor on a Markdown
 *   heading line, and capitalized function words, titles (Dr, Mrs), weekdays and months are ignored. A run of
 *   name-like words separated by single spaces is one entity when it has one or two words
 *   ("Vega", "Marisol Vega"); longer runs are taken for titles and skipped.
 * - entity counts come from a Misra–Gries summary of occurrences, and entity documents from a
 *   second summary fed each entity once per document. Both are lower bounds that fall short by
 *   at most the reported `countError` / `documentError`; the top list is ranked by documents.
 */
import { statSync } from "node:fs";
import { SpecsciError } from "../core/errors.js";
import { requireUserPath } from "../core/fs.js";
import { CorpusTally } from "./corpus-stats/accumulators.js";
import { readDocuments } from "./corpus-stats/reader.js";
import type { CorpusStats } from "./corpus-stats/types.js";

export { formatCorpusStats } from "./corpus-stats/format.js";
export { balanceOf } from "./corpus-stats/summaries.js";
export type {
  Balance,
  CorpusStats,
  DistinctN,
  DomainDocTypeCount,
  EntityCount,
  GroupCount,
  HistogramBin,
  TokenDistribution,
} from "./corpus-stats/types.js";

export interface CorpusStatsOptions {
  /** The n of each distinct-n diagnostic (default [1, 2, 3]; each 1..8). */
  ngrams?: number[];
  /** How many repeated entities to report (default 20). */
  topEntities?: number;
  /** Called after each chunk read with the bytes read so far and the file size. */
  onProgress?: (bytes: number, total: number) => void;
}

const MAX_NGRAM = 8;

/** Reads `file` (a corpus `dataset.jsonl`) once and returns its statistics. */
export async function corpusStats(
  file: string,
  options: CorpusStatsOptions = {},
): Promise<CorpusStats> {
  const { ngrams, topEntities } = checkedOptions(options);
  requireUserPath(file, "corpus", "file", {
    hint: "pass a corpus directory or the path of its dataset.jsonl",
  });
  const size = statSync(file).size;
  const tally = new CorpusTally(ngrams);
  await readDocuments(
    file,
    (doc) => tally.add(doc),
    (bytes) => options.onProgress?.(bytes, size),
  );
  return tally.stats(file, size, topEntities);
}

/** The n-gram sizes (distinct, ascending) and the entity count, checked. */
function checkedOptions(options: CorpusStatsOptions): { ngrams: number[]; topEntities: number } {
  const ngrams = [...new Set(options.ngrams ?? [1, 2, 3])].sort((a, b) => a - b);
  for (const n of ngrams)
    if (!Number.isInteger(n) || n < 1 || n > MAX_NGRAM)
      throw new SpecsciError(`n-gram size ${n} is not supported`, {
        hint: `Use whole numbers from 1 to ${MAX_NGRAM}.`,
      });
  const topEntities = options.topEntities ?? 20;
  if (!Number.isInteger(topEntities) || topEntities < 0)
    throw new SpecsciError(`topEntities must be a non-negative integer, got ${topEntities}`);
  return { ngrams, topEntities };
}
