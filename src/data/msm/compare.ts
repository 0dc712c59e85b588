/**
 * `specsci msm compare A B`: are two corpora comparable — tokens within tolerance, similar
 * composition, similar losses to gates and dedup — with their domain and type mixes side by side.
 */

import { z } from "zod";
import { SpecsciError } from "../../core/errors.js";
import { MSM_MANIFEST_FORMAT, readManifest } from "../manifest.js";

const Group = z.object({ name: z.string(), documents: z.number(), tokens: z.number() });
type Group = z.infer<typeof Group>;

/** The parts of a manifest a comparison reads (others are ignored). */
const ManifestView = z.object({
  format: z.literal(MSM_MANIFEST_FORMAT),
  name: z.string(),
  spec: z.object({ name: z.string(), hash: z.string() }),
  tokens: z.object({ tokenizer: z.string(), total: z.number() }),
  stats: z.object({
    documents: z.number(),
    byDomain: z.array(Group),
    byDocType: z.array(Group),
    distinct: z.array(z.object({ n: z.number(), ratio: z.number() })),
  }),
  gates: z.record(z.string(), z.number()),
  dedup: z.object({ exact: z.number(), near: z.number() }),
  truncation: z.object({ rate: z.number() }),
  documents: z.object({ generated: z.number() }),
  budget: z.object({ target_tokens: z.number().nullable() }),
});

export interface CorpusSummary {
  dir: string;
  name: string;
  spec: string;
  documents: number;
  tokens: number;
  tokenizer: string;
  byDomain: Group[];
  byDocType: Group[];
  gates: Record<string, number>;
  duplicates: number;
  truncationRate: number;
  generated: number;
  targetTokens: number | null;
  /** distinct-n ratio by n. */
  distinct: Record<string, number>;
}

export function summarizeCorpus(dir: string): CorpusSummary {
  const hint = "pass a corpus directory written by `specsci msm generate`";
  const { file, manifest } = readManifest(dir, "corpus manifest", hint);
  const r = ManifestView.safeParse(manifest);
  if (!r.success)
    throw new SpecsciError(
      `${file} is not a specsci MSM corpus manifest (${r.error.issues[0]?.path.join(".")}: ${r.error.issues[0]?.message})`,
      { hint },
    );
  const m = r.data;
  return {
    dir,
    name: m.name,
    spec: `${m.spec.name} (${m.spec.hash.slice(0, 12)})`,
    documents: m.stats.documents,
    tokens: m.tokens.total,
    tokenizer: m.tokens.tokenizer,
    byDomain: m.stats.byDomain,
    byDocType: m.stats.byDocType,
    gates: m.gates,
    duplicates: m.dedup.exact + m.dedup.near,
    truncationRate: m.truncation.rate,
    generated: m.documents.generated,
    targetTokens: m.budget.target_tokens,
    distinct: Object.fromEntries(m.stats.distinct.map((d) => [String(d.n), d.ratio])),
  };
}

export interface CorpusComparison {
  a: CorpusSummary;
  b: CorpusSummary;
  /** |a − b| / max(a, b) of the token totals. */
  tokenDifference: number;
  matched: boolean;
  tolerance: number;
  problems: string[];
}

export function compareCorpora(dirA: string, dirB: string, tolerance = 0.01): CorpusComparison {
  if (!(tolerance > 0 && tolerance < 1))
    throw new SpecsciError(`--tolerance must be a fraction between 0 and 1 (got ${tolerance})`, {
      hint: "e.g. --tolerance 0.01 for 1%",
    });
  const a = summarizeCorpus(dirA);
  const b = summarizeCorpus(dirB);
  const diff = Math.abs(a.tokens - b.tokens) / Math.max(1, a.tokens, b.tokens);
  const problems: string[] = [];
  if (a.tokenizer !== b.tokenizer)
    problems.push(`token counts use different tokenizers (${a.tokenizer}, ${b.tokenizer})`);
  if (diff > tolerance)
    problems.push(
      `token totals differ by ${(diff * 100).toFixed(2)}% (more than ${(tolerance * 100).toFixed(1)}%)`,
    );
  const domains = (s: CorpusSummary) => s.byDomain.length;
  if (domains(a) !== domains(b))
    problems.push(`different numbers of domains (${domains(a)}, ${domains(b)})`);
  return { a, b, tokenDifference: diff, matched: problems.length === 0, tolerance, problems };
}

/** Shares of tokens, largest first, for a side-by-side table. */
export function tokenShares(parts: Group[]): { name: string; share: number; documents: number }[] {
  const total = parts.reduce((x, p) => x + p.tokens, 0) || 1;
  return parts
    .map((p) => ({ name: p.name, share: p.tokens / total, documents: p.documents }))
    .sort((x, y) => y.share - x.share || (x.name < y.name ? -1 : 1));
}
