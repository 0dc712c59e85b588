/**
 * Dedup speed (npx tsx bench/msm-dedup.ts): 100,000 synthetic documents of 500 words from a
 * seeded 5,000-word vocabulary, 2% of them planted near duplicates (1–3 edits of 1–2 words each,
 * true 5-shingle Jaccard ≥ ~0.9) and 0.5% exact copies with case and spacing changed. Times
 * findDuplicates end to end with 2 workers and reports recall on the planted pairs.
 * Arguments: [documents] [words per document] [workers].
 */
import { cpus } from "node:os";
import { findDuplicates } from "../src/data/dedup/index.js";
import { syntheticCorpus } from "../test/fakes/near-dup-corpus.js";

const DOCS = Number(process.argv[2] ?? 100_000);
const WORDS = Number(process.argv[3] ?? 500);
const WORKERS = Number(process.argv[4] ?? 2);
const VOCABULARY = 5000;

const { int, words, render, nearCopy } = syntheticCorpus(2026, VOCABULARY);

const generateStart = performance.now();
const planted = Math.round(DOCS * 0.02);
const copies = Math.round(DOCS * 0.005);
const originals = DOCS - planted - copies;
const docs: { id: string; text: string }[] = [];
const sourceWords: string[][] = [];
for (let i = 0; i < originals; i++) {
  const ws = words(WORDS);
  if (i < planted) sourceWords.push(ws); // planted duplicates copy the first `planted` originals
  docs.push({ id: `o${i}`, text: render(ws) });
}
const pairs: [string, string][] = [];
for (let i = 0; i < planted; i++) {
  const ws = nearCopy(sourceWords[i] as string[]);
  docs.push({ id: `p${i}`, text: render(ws) });
  pairs.push([`p${i}`, `o${i}`]);
}
for (let i = 0; i < copies; i++) {
  const source = docs[int(originals)] as { text: string };
  docs.push({ id: `c${i}`, text: ` ${source.text.toLowerCase().replaceAll(" ", "  ")}\n` });
}
for (let i = docs.length - 1; i > 0; i--) {
  const j = int(i + 1);
  [docs[i], docs[j]] = [docs[j] as (typeof docs)[0], docs[i] as (typeof docs)[0]];
}
sourceWords.length = 0;
const generateSeconds = (performance.now() - generateStart) / 1000;
const rssBefore = process.memoryUsage().rss;

const start = performance.now();
const result = await findDuplicates(docs, { workers: WORKERS });
const seconds = (performance.now() - start) / 1000;

const keptOf = new Map(result.duplicates.map((d) => [d.id, d.keptId]));
const cluster = (id: string) => keptOf.get(id) ?? id;
const found = pairs.filter(([a, b]) => cluster(a) === cluster(b)).length;
const exact = result.duplicates.filter((d) => d.kind === "exact").length;
const near = result.duplicates.length - exact;
const mib = (bytes: number) => `${(bytes / 1048576).toFixed(0)} MiB`;

const rows: [string, string][] = [
  [
    "documents",
    `${DOCS.toLocaleString("en")} × ${WORDS} words (generated in ${generateSeconds.toFixed(1)} s)`,
  ],
  ["planted", `${planted} near duplicates, ${copies} exact copies`],
  ["settings", `${JSON.stringify(result.params)}, ${WORKERS} workers`],
  ["findDuplicates (target < 60 s)", `${seconds.toFixed(2)} s`],
  ["throughput", `${Math.round(DOCS / seconds).toLocaleString("en")} docs/s`],
  ["reported", `${exact} exact, ${near} near, ${result.kept} kept`],
  ["recall on planted near duplicates", `${(found / planted).toFixed(4)} (${found}/${planted})`],
  ["RSS before findDuplicates", mib(rssBefore)],
  ["peak RSS (maxRSS)", mib(process.resourceUsage().maxRSS * 1024)],
];
const width = Math.max(...rows.map((r) => r[0].length));
process.stdout.write(
  `\nspecsci dedup — ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, Node ${process.version}\n\n`,
);
for (const [k, v] of rows) process.stdout.write(`${k.padEnd(width)}  ${v}\n`);
