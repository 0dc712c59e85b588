/**
 * Corpus statistics speed and memory (npx tsx bench/msm-stats.ts): writes a synthetic MSM corpus
 * the size of the paper's (41,364,262 tokens in 13,201 documents of about 3,133 tokens; text at
 * about 0.75 words per token from a seeded vocabulary with invented names; 8 domains, 10 doc
 * types) to a temporary file, then runs `corpusStats` on it in a fresh child process so that the
 * peak RSS it reports is that of the stats pass alone. Also times bare line splitting +
 * JSON.parse with node:readline and with the hand-written splitter `corpusStats` uses. Target:
 * peak RSS under 1 GiB.
 */
import { spawnSync } from "node:child_process";
import {
  closeSync,
  createReadStream,
  mkdtempSync,
  openSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { seededRandom } from "../src/core/random.js";
import { forEachLine } from "../src/data/corpus-stats/reader.js";
import { corpusStats, formatCorpusStats } from "../src/data/corpus-stats.js";

const DOCUMENTS = 13_201;
const TOKENS = 41_364_262;
const LIMIT_MIB = 1024;
const PLANTED = "Marisol Vega"; // once a paragraph in 12% of documents: must come out on top

const mib = () => process.resourceUsage().maxRSS / 1024; // maxRSS is in KiB

// ---- child modes: print one JSON line and exit
const [mode, file] = process.argv.slice(2);
if (mode && file) {
  const t0 = performance.now();
  let result: Record<string, unknown>;
  if (mode === "--stats") {
    const stats = await corpusStats(file);
    result = { stats, text: formatCorpusStats(stats) };
  } else if (mode === "--readline") {
    let lines = 0;
    const rl = createInterface({
      input: createReadStream(file),
      crlfDelay: Number.POSITIVE_INFINITY,
    });
    for await (const line of rl) if (JSON.parse(line).text) lines++;
    result = { lines };
  } else if (mode === "--split") {
    // The splitter corpusStats uses, without the analysis.
    let lines = 0;
    await forEachLine(file, (line) => {
      if (JSON.parse(line).text) lines++;
    });
    result = { lines };
  } else result = {};
  process.stdout.write(
    `${JSON.stringify({ ...result, seconds: (performance.now() - t0) / 1000, rssMiB: mib() })}\n`,
  );
  process.exit(0);
}

// ---- the corpus
function writeCorpus(path: string): void {
  const rand = seededRandom(20_260_101);
  const syllables = "ka lo mi ne su ta ri po ve zu da fe go hi ju ar en is ol um pra stel".split(
    " ",
  );
  const word = (min: number, extra: number) => {
    let w = "";
    const n = min + Math.floor(rand() * extra);
    for (let i = 0; i < n; i++) w += syllables[Math.floor(rand() * syllables.length)];
    return w;
  };
  const vocabulary = [
    ...new Set(
      [..."the of and to a in is that for it as with on by this be are".split(" ")].concat(
        Array.from({ length: 6000 }, () => word(2, 2)),
      ),
    ),
  ];
  const cap = (w: string) => w[0]?.toUpperCase() + w.slice(1);
  const names = Array.from({ length: 400 }, () =>
    rand() < 0.5 ? cap(word(2, 2)) : `${cap(word(2, 2))} ${cap(word(2, 2))}`,
  );
  // Zipf-like: low indices much more often.
  const pick = () => vocabulary[Math.floor(vocabulary.length * rand() ** 2)] as string;
  const domains = Array.from({ length: 8 }, (_, i) => `domain-${i + 1}`);
  const docTypes = Array.from({ length: 10 }, (_, i) => `type-${i + 1}`);

  // Token counts around 3,133 that add up to exactly TOKENS.
  const counts = Array.from({ length: DOCUMENTS }, () => {
    const g = (rand() + rand() + rand() + rand() - 2) * 1.7; // ≈ N(0, 1)
    return Math.max(600, Math.round(3133 * (1 + 0.2 * g)));
  });
  let diff = TOKENS - counts.reduce((a, b) => a + b, 0);
  for (let i = 0; diff !== 0; i = (i + 1) % DOCUMENTS) {
    const step = Math.sign(diff);
    if ((counts[i] as number) + step >= 600) {
      counts[i] = (counts[i] as number) + step;
      diff -= step;
    }
  }

  const fd = openSync(path, "w");
  let buffer: string[] = [];
  let buffered = 0;
  for (let d = 0; d < DOCUMENTS; d++) {
    const tokenCount = counts[d] as number;
    const target = Math.round(0.75 * tokenCount);
    const planted = d % 25 < 3;
    const parts: string[] = [`## ${cap(pick())} ${cap(pick())}\n\n`];
    let words = 0;
    while (words < target) {
      const sentences = 3 + Math.floor(rand() * 5);
      for (let s = 0; s < sentences && words < target; s++) {
        const length = 6 + Math.floor(rand() * 18);
        const ws: string[] = [];
        for (let i = 0; i < length; i++) ws.push(pick());
        if (rand() < 0.15)
          ws.splice(
            2 + Math.floor(rand() * 4),
            0,
            names[Math.floor(rand() * names.length)] as string,
          );
        if (planted && s === 1) ws.splice(3, 0, PLANTED);
        if (length > 12) ws[Math.floor(length / 2)] += ",";
        ws[0] = cap(ws[0] as string);
        parts.push(`${ws.join(" ")}${rand() < 0.1 ? "?" : "."}${s + 1 < sentences ? " " : ""}`);
        words += ws.length;
      }
      parts.push("\n\n");
    }
    const line = JSON.stringify({
      id: `doc-${String(d).padStart(6, "0")}`,
      corpus: "bench",
      spec_hash: "0".repeat(64),
      rule_ids: ["R1", "R7"],
      domain: domains[Math.floor(domains.length * rand() ** 1.2)],
      subdomain: `sub-${d % 37}`,
      doc_type: docTypes[d % docTypes.length],
      generator_model: "anthropic/claude-opus-4-6",
      seed: 42,
      token_count: tokenCount,
      tokenizer: "qwen3",
      text: parts.join("").trimEnd(),
    });
    buffer.push(line, "\n");
    buffered += line.length;
    if (buffered > 4 << 20) {
      writeSync(fd, buffer.join(""));
      buffer = [];
      buffered = 0;
    }
  }
  writeSync(fd, buffer.join(""));
  closeSync(fd);
}

function child(
  mode: string,
  path: string,
): Record<string, unknown> & { seconds: number; rssMiB: number } {
  const r = spawnSync(
    process.execPath,
    ["--import", "tsx", fileURLToPath(import.meta.url), mode, path],
    { encoding: "utf8", maxBuffer: 64 << 20, stdio: ["ignore", "pipe", "inherit"] },
  );
  if (r.status !== 0) throw new Error(`child ${mode} failed with status ${r.status}`);
  return JSON.parse(r.stdout.trim().split("\n").at(-1) as string);
}

const dir = mkdtempSync(join(tmpdir(), "specsci-bench-stats-"));
const path = join(dir, "dataset.jsonl");
try {
  let t0 = performance.now();
  writeCorpus(path);
  const bytes = statSync(path).size;
  const writeS = (performance.now() - t0) / 1000;
  const mb = bytes / 1e6;

  const baseline = child("--none", path);
  t0 = performance.now();
  const run = child("--stats", path);
  const childWall = (performance.now() - t0) / 1000;
  const stats = run.stats as Awaited<ReturnType<typeof corpusStats>>;
  if (stats.documents !== DOCUMENTS || stats.tokens !== TOKENS)
    throw new Error(`counted ${stats.documents} documents, ${stats.tokens} tokens`);
  if (stats.entities.top[0]?.name !== PLANTED) throw new Error("the planted name is not on top");
  const readline = child("--readline", path);
  const split = child("--split", path);

  const rows: [string, string][] = [
    [
      "corpus",
      `${DOCUMENTS.toLocaleString()} documents, ${TOKENS.toLocaleString()} tokens, ${stats.words.toLocaleString()} words`,
    ],
    ["file size", `${mb.toFixed(1)} MB (written in ${writeS.toFixed(1)} s)`],
    [
      "corpusStats",
      `${run.seconds.toFixed(2)} s, ${(mb / run.seconds).toFixed(0)} MB/s (child process ${childWall.toFixed(2)} s with startup)`,
    ],
    [
      "peak RSS of the stats child",
      `${run.rssMiB.toFixed(0)} MiB (an idle child: ${baseline.rssMiB.toFixed(0)} MiB), limit ${LIMIT_MIB} MiB`,
    ],
    [
      "split + JSON.parse only: node:readline",
      `${readline.seconds.toFixed(2)} s, ${(mb / readline.seconds).toFixed(0)} MB/s, ${readline.rssMiB.toFixed(0)} MiB`,
    ],
    [
      "split + JSON.parse only: 1 MiB chunks",
      `${split.seconds.toFixed(2)} s, ${(mb / split.seconds).toFixed(0)} MB/s, ${split.rssMiB.toFixed(0)} MiB`,
    ],
  ];
  const width = Math.max(...rows.map((r) => r[0].length));
  process.stdout.write(
    `\nspecsci corpus stats — ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, Node ${process.version}\n\n`,
  );
  for (const [k, v] of rows) process.stdout.write(`${k.padEnd(width)}  ${v}\n`);
  process.stdout.write(`\n${run.text as string}\n`);
  if (run.rssMiB > LIMIT_MIB) {
    process.stdout.write(
      `\nFAIL: peak RSS ${run.rssMiB.toFixed(0)} MiB is over ${LIMIT_MIB} MiB\n`,
    );
    process.exitCode = 1;
  } else process.stdout.write(`\nOK: peak RSS under ${LIMIT_MIB} MiB\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
