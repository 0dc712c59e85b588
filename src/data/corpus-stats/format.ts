/** The terminal summary of corpus statistics. */
import { formatCount } from "../../core/format.js";
import type { Balance, CorpusStats, GroupCount } from "./types.js";

const int = (x: number) => Math.round(x).toLocaleString("en-US");
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const ratio = (x: number) => (Number.isFinite(x) ? `${x.toFixed(2)}×` : "∞");

function groupTable(title: string, rows: GroupCount[], balance: Balance, tokens: number): string[] {
  const width = Math.max(4, ...rows.map((r) => r.name.length));
  const out = [
    `${title} (${balance.groups}; balance ${Number.isNaN(balance.entropy) ? "n/a" : balance.entropy.toFixed(3)}, max/min ${ratio(balance.maxMinRatio)}):`,
  ];
  for (const r of rows)
    out.push(
      `  ${r.name.padEnd(width)}  ${int(r.documents).padStart(8)} docs  ${formatCount(r.tokens).padStart(7)} tokens  ${pct(tokens ? r.tokens / tokens : 0).padStart(6)}`,
    );
  return out;
}

/** A short human-readable summary of `corpusStats` for the terminal. */
export function formatCorpusStats(stats: CorpusStats): string {
  const mb = (stats.bytes / 1e6).toFixed(1);
  const lines = [
    `${stats.file}: ${int(stats.documents)} documents, ${int(stats.tokens)} tokens, ${formatCount(stats.words)} words, ${formatCount(stats.characters)} characters, ${mb} MB`,
  ];
  if (stats.documents === 0) return lines[0] as string;
  const t = stats.tokenLengths;
  lines.push(
    `tokens per document: min ${int(t.min)}  p10 ${int(t.p10)}  median ${int(t.p50)}  p90 ${int(t.p90)}  p99 ${int(t.p99)}  max ${int(t.max)}  mean ${int(t.mean)}`,
  );
  const most = Math.max(...t.histogram.bins.map((b) => b.count));
  const edge = Math.max(...t.histogram.bins.map((b) => int(b.to).length));
  lines.push(`  histogram (${t.histogram.scale} bins):`);
  for (const b of t.histogram.bins)
    lines.push(
      `  ${int(b.from).padStart(edge)}–${int(b.to).padEnd(edge)} ${int(b.count).padStart(7)} ${"█".repeat(Math.round((30 * b.count) / most))}`.trimEnd(),
    );
  lines.push(...groupTable("domains", stats.byDomain, stats.balance.domains, stats.tokens));
  lines.push(...groupTable("doc types", stats.byDocType, stats.balance.docTypes, stats.tokens));
  if (stats.distinct.length)
    lines.push(
      `distinct-n (estimated distinct / total word n-grams): ${stats.distinct
        .map(
          (d) =>
            `${d.n}: ${d.ratio.toFixed(3)} (${formatCount(d.distinct)}/${formatCount(d.total)})`,
        )
        .join("  ")}`,
    );
  const e = stats.entities;
  if (e.top.length) {
    lines.push(
      e.countError === 0 && e.documentError === 0
        ? "repeated names (exact counts):"
        : `repeated names (approximate: counts may be up to ${int(e.countError)} and documents up to ${int(e.documentError)} low):`,
    );
    const width = Math.max(...e.top.map((x) => x.name.length));
    for (const x of e.top)
      lines.push(
        `  ${x.name.padEnd(width)}  in ${pct(x.documentShare).padStart(6)} of documents  ${int(x.count).padStart(8)} times`,
      );
  }
  return lines.join("\n");
}
