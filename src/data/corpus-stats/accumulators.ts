/**
 * What one pass over a corpus accumulates. Memory is bounded independently of corpus size except
 * for one Int32 per document (for exact token-length quantiles): distinct n-grams are estimated
 * with HyperLogLog sketches (16 KiB each) and repeated names with Misra–Gries summaries of fixed
 * size.
 */
import { MisraGries } from "../heavy-hitters.js";
import { fmix32, HyperLogLog, mix32 } from "../hyperloglog.js";
import { scanText, type WordSink } from "./lexer.js";
import type { CorpusLine } from "./reader.js";
import { balanceOf, tokenDistribution } from "./summaries.js";
import type {
  CorpusStats,
  DistinctN,
  DomainDocTypeCount,
  EntityCount,
  GroupCount,
} from "./types.js";

const ENTITY_CAPACITY = 8192;

interface Group {
  documents: number;
  tokens: number;
}

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function bump(map: Map<string, Group>, key: string, tokens: number): void {
  const g = map.get(key);
  if (g) {
    g.documents++;
    g.tokens += tokens;
  } else map.set(key, { documents: 1, tokens });
}

function groups(map: Map<string, Group>): GroupCount[] {
  return [...map]
    .map(([name, g]) => ({ name, documents: g.documents, tokens: g.tokens }))
    .sort((a, b) => byName(a.name, b.name));
}

/** Documents and tokens by domain, doc type and both, and each document's token count. */
class GroupCounts {
  documents = 0;
  tokens = 0;
  private lengths = new Int32Array(1024);
  private readonly domains = new Map<string, Group>();
  private readonly docTypes = new Map<string, Group>();
  private readonly cross = new Map<string, Group>();

  add(tokens: number, domain: string, docType: string): void {
    if (this.documents === this.lengths.length) {
      const grown = new Int32Array(this.lengths.length * 2);
      grown.set(this.lengths);
      this.lengths = grown;
    }
    this.lengths[this.documents++] = tokens;
    this.tokens += tokens;
    bump(this.domains, domain, tokens);
    bump(this.docTypes, docType, tokens);
    bump(this.cross, `${domain}\u0000${docType}`, tokens);
  }

  /** The token counts in ascending order. */
  sortedLengths(): Int32Array {
    return this.lengths.slice(0, this.documents).sort();
  }

  byDomain(): GroupCount[] {
    return groups(this.domains);
  }

  byDocType(): GroupCount[] {
    return groups(this.docTypes);
  }

  byDomainDocType(): DomainDocTypeCount[] {
    return [...this.cross]
      .map(([key, g]) => {
        const [domain = "", docType = ""] = key.split("\u0000");
        return { domain, docType, documents: g.documents, tokens: g.tokens };
      })
      .sort((a, b) => byName(a.domain, b.domain) || byName(a.docType, b.docType));
  }
}

/** Word n-grams within documents: how many, and how many distinct (estimated). */
class NgramSketches {
  private readonly sketches: HyperLogLog[];
  private readonly totals: number[];
  /** The hashes of the document's last words, enough for its longest n-gram. */
  private readonly ring: Int32Array;
  private words = 0;

  constructor(private readonly ns: number[]) {
    this.sketches = ns.map(() => new HyperLogLog(14));
    this.totals = ns.map(() => 0);
    this.ring = new Int32Array(Math.max(1, ns.length ? (ns[ns.length - 1] as number) : 0));
  }

  /** The next word of the document (its hash): every n-gram it ends goes into its sketch. */
  word(hash: number): void {
    const { ns, ring } = this;
    const words = ++this.words;
    ring[(words - 1) % ring.length] = hash;
    for (let t = 0; t < ns.length; t++) {
      const len = ns[t] as number;
      if (words < len) break;
      let g = len;
      for (let j = words - len; j < words; j++) g = mix32(g, ring[j % ring.length] as number);
      (this.sketches[t] as HyperLogLog).addHash(fmix32(g ^ len));
    }
  }

  /** N-grams never span two documents. */
  endDocument(): void {
    for (let t = 0; t < this.ns.length; t++)
      this.totals[t] =
        (this.totals[t] as number) + Math.max(0, this.words - (this.ns[t] as number) + 1);
    this.words = 0;
  }

  results(): DistinctN[] {
    return this.ns.map((n, t) => {
      const total = this.totals[t] as number;
      // The estimate cannot exceed the number of n-grams.
      const distinct = Math.min(total, Math.round((this.sketches[t] as HyperLogLog).estimate()));
      return { n, total, distinct, ratio: total > 0 ? distinct / total : 0 };
    });
  }
}

/** Repeated names: their occurrences, and the documents that contain each. */
class EntityCounts {
  readonly occurrences = new MisraGries<string>(ENTITY_CAPACITY);
  /** Fed each entity once per document. */
  readonly documents = new MisraGries<string>(ENTITY_CAPACITY);
  private inDocument = new Set<string>();

  add(name: string): void {
    this.occurrences.add(name);
    this.inDocument.add(name);
  }

  endDocument(): void {
    for (const name of this.inDocument) this.documents.add(name);
    // A new set, not clear(): refilling one long-lived set grew the old generation (9 full GCs
    // instead of 1 in bench/msm-stats.ts, and 10% slower).
    this.inDocument = new Set<string>();
  }

  /** The `k` entities in most documents, among the top of either summary. */
  top(k: number, documents: number): EntityCount[] {
    const candidates = new Set<string>();
    for (const { key } of this.documents.top(k)) candidates.add(key);
    for (const { key } of this.occurrences.top(k)) candidates.add(key);
    return [...candidates]
      .map((name) => {
        const docs = this.documents.count(name);
        return {
          name,
          count: Math.max(this.occurrences.count(name), docs),
          documents: docs,
          documentShare: documents > 0 ? docs / documents : 0,
        };
      })
      .sort((a, b) => b.documents - a.documents || b.count - a.count || byName(a.name, b.name))
      .slice(0, k);
  }
}

/** Everything a corpus pass accumulates, fed one document at a time; the lexer reports to it. */
export class CorpusTally implements WordSink {
  private readonly groups = new GroupCounts();
  private readonly ngrams: NgramSketches;
  private readonly entities = new EntityCounts();
  private characters = 0;
  private words = 0;

  /** `ngrams`: the n of each distinct-n diagnostic, ascending. */
  constructor(ngrams: number[]) {
    this.ngrams = new NgramSketches(ngrams);
  }

  add(doc: CorpusLine): void {
    this.groups.add(doc.tokens, doc.domain, doc.docType);
    const scanned = scanText(doc.text, this);
    this.ngrams.endDocument();
    this.entities.endDocument();
    this.characters += scanned.characters;
    this.words += scanned.words;
  }

  word(hash: number): void {
    this.ngrams.word(hash);
  }

  entity(name: string): void {
    this.entities.add(name);
  }

  stats(file: string, bytes: number, topEntities: number): CorpusStats {
    const { groups, entities } = this;
    const byDomain = groups.byDomain();
    const byDocType = groups.byDocType();
    return {
      file,
      bytes,
      documents: groups.documents,
      tokens: groups.tokens,
      characters: this.characters,
      words: this.words,
      tokenLengths: tokenDistribution(groups.sortedLengths(), groups.tokens),
      byDomain,
      byDocType,
      byDomainDocType: groups.byDomainDocType(),
      balance: { domains: balanceOf(byDomain), docTypes: balanceOf(byDocType) },
      distinct: this.ngrams.results(),
      entities: {
        top: entities.top(topEntities, groups.documents),
        occurrences: entities.occurrences.total,
        countError: entities.occurrences.errorBound,
        documentError: entities.documents.errorBound,
        capacity: ENTITY_CAPACITY,
      },
    };
  }
}
