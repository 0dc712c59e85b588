/** The statistics `corpusStats` returns (definitions in `../corpus-stats.ts`). */

export interface GroupCount {
  name: string;
  documents: number;
  tokens: number;
}

export interface DomainDocTypeCount {
  domain: string;
  docType: string;
  documents: number;
  tokens: number;
}

export interface Balance {
  /** How many groups (domains or doc types) occur in the corpus. */
  groups: number;
  /** Shannon entropy of the groups' token shares / ln(groups): 1 is perfectly even (1 for one group). */
  entropy: number;
  /** Tokens of the largest group / tokens of the smallest (Infinity when the smallest has none). */
  maxMinRatio: number;
  largest: string;
  smallest: string;
}

export interface HistogramBin {
  /** Inclusive lower edge (tokens). */
  from: number;
  /** Exclusive upper edge, except in the last bin, which includes it. */
  to: number;
  count: number;
}

export interface TokenDistribution {
  min: number;
  p10: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
  /** About 20 bins; log-spaced when max > 10 × min, else linear. */
  histogram: { scale: "linear" | "log"; bins: HistogramBin[] };
}

export interface DistinctN {
  n: number;
  /** Word n-grams in the corpus (within documents). */
  total: number;
  /** Estimated distinct n-grams (HyperLogLog, ≈0.8% standard error). */
  distinct: number;
  /** distinct / total (0 when there are none). */
  ratio: number;
}

export interface EntityCount {
  name: string;
  /** Occurrences (a lower bound; at most `countError` short). */
  count: number;
  /** Documents containing it (a lower bound; at most `documentError` short). */
  documents: number;
  /** documents / all documents. */
  documentShare: number;
}

export interface CorpusStats {
  file: string;
  bytes: number;
  documents: number;
  tokens: number;
  characters: number;
  words: number;
  tokenLengths: TokenDistribution;
  byDomain: GroupCount[];
  byDocType: GroupCount[];
  byDomainDocType: DomainDocTypeCount[];
  balance: { domains: Balance; docTypes: Balance };
  distinct: DistinctN[];
  entities: {
    top: EntityCount[];
    /** Entity occurrences seen in the corpus. */
    occurrences: number;
    countError: number;
    documentError: number;
    /** Counters held by each summary. */
    capacity: number;
  };
}
