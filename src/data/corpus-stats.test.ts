import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { SpecsciError } from "../core/errors.js";
import { seededRandom } from "../core/random.js";
import { corpusStats, formatCorpusStats } from "./corpus-stats.js";
import { MisraGries } from "./heavy-hitters.js";
import { HyperLogLog, hashString } from "./hyperloglog.js";

const dir = mkdtempSync(join(tmpdir(), "specsci-corpus-stats-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
function corpus(lines: (Record<string, unknown> | string)[]): string {
  const file = join(dir, `dataset-${files++}.jsonl`);
  writeFileSync(
    file,
    `${lines.map((l) => (typeof l === "string" ? l : JSON.stringify(l))).join("\n")}\n`,
  );
  return file;
}

const doc = (domain: string, docType: string, tokens: number, text = "plain words here") => ({
  id: `${domain}-${docType}-${tokens}`,
  domain,
  subdomain: "sub",
  doc_type: docType,
  token_count: tokens,
  text,
  model: "ignored",
});

/** Sentences of random lower-case words, with `extra(doc, sentence)` words put mid-sentence. */
function randomDocs(
  count: number,
  seed: number,
  vocabulary: string[],
  extra: (d: number, s: number) => string | undefined,
): Record<string, unknown>[] {
  const rand = seededRandom(seed);
  const pick = () => vocabulary[Math.floor(rand() * vocabulary.length)] as string;
  return Array.from({ length: count }, (_, d) => {
    const sentences: string[] = [];
    for (let s = 0; s < 8; s++) {
      const words = Array.from({ length: 10 }, pick);
      const name = extra(d, s);
      if (name) words.splice(4, 0, name);
      const first = words[0] as string;
      words[0] = first[0]?.toUpperCase() + first.slice(1);
      sentences.push(`${words.join(" ")}.`);
    }
    return doc(`d${d % 4}`, `t${d % 3}`, 100 + d, sentences.join(" "));
  });
}

const syllables = "ka lo mi ne su ta ri po ve zu da fe go hi ju".split(" ");
function vocabulary(size: number, seed: number): string[] {
  const rand = seededRandom(seed);
  const words = new Set<string>();
  while (words.size < size) {
    let w = "";
    const n = 2 + Math.floor(rand() * 3);
    for (let i = 0; i < n; i++) w += syllables[Math.floor(rand() * syllables.length)];
    words.add(w);
  }
  return [...words];
}

describe("corpusStats", () => {
  it("counts documents, tokens and groups exactly and computes quantiles and balance", async () => {
    const file = corpus([
      doc("a", "memo", 10, "Hello world. It's fine."),
      doc("a", "email", 20, "ok 😀"),
      "",
      doc("b", "memo", 30),
      doc("b", "memo", 40),
      doc("c", "email", 100),
    ]);
    const progress: [number, number][] = [];
    const s = await corpusStats(file, { onProgress: (b, t) => progress.push([b, t]) });
    expect(s.documents).toBe(5);
    expect(s.tokens).toBe(200);
    // 4 + 1 + 3 × 3 words; 23 + 4 + 3 × 16 code points.
    expect(s.words).toBe(14);
    expect(s.characters).toBe(75);
    expect(s.byDomain).toEqual([
      { name: "a", documents: 2, tokens: 30 },
      { name: "b", documents: 2, tokens: 70 },
      { name: "c", documents: 1, tokens: 100 },
    ]);
    expect(s.byDocType).toEqual([
      { name: "email", documents: 2, tokens: 120 },
      { name: "memo", documents: 3, tokens: 80 },
    ]);
    expect(s.byDomainDocType).toEqual([
      { domain: "a", docType: "email", documents: 1, tokens: 20 },
      { domain: "a", docType: "memo", documents: 1, tokens: 10 },
      { domain: "b", docType: "memo", documents: 2, tokens: 70 },
      { domain: "c", docType: "email", documents: 1, tokens: 100 },
    ]);
    const t = s.tokenLengths;
    expect([t.min, t.p50, t.max, t.mean]).toEqual([10, 30, 100, 40]);
    expect(t.p10).toBeCloseTo(14, 10);
    expect(t.p90).toBeCloseTo(76, 10);
    expect(t.p99).toBeCloseTo(97.6, 10);
    expect(t.histogram.scale).toBe("linear");
    expect(t.histogram.bins.length).toBeLessThanOrEqual(20);
    expect(t.histogram.bins.reduce((n, b) => n + b.count, 0)).toBe(5);
    expect(t.histogram.bins[0]?.from).toBe(10);
    expect(t.histogram.bins.at(-1)).toMatchObject({ to: 100, count: 1 });

    const shares = [0.15, 0.35, 0.5];
    const h = -shares.reduce((a, p) => a + p * Math.log(p), 0) / Math.log(3);
    expect(s.balance.domains.entropy).toBeCloseTo(h, 12);
    expect(s.balance.domains).toMatchObject({ groups: 3, largest: "c", smallest: "a" });
    expect(s.balance.domains.maxMinRatio).toBeCloseTo(100 / 30, 12);
    expect(s.balance.docTypes.maxMinRatio).toBeCloseTo(1.5, 12);
    expect(progress.at(-1)).toEqual([s.bytes, s.bytes]);

    const text = formatCorpusStats(s);
    expect(text).toContain("5 documents, 200 tokens");
    expect(text).toContain("domains (3; balance");
  });

  it("a perfectly even corpus has balance 1", async () => {
    const s = await corpusStats(corpus([doc("x", "a", 50), doc("y", "b", 50), doc("z", "a", 50)]));
    expect(s.balance.domains.entropy).toBeCloseTo(1, 12);
    expect(s.balance.domains.maxMinRatio).toBe(1);
    expect(s.balance.docTypes.maxMinRatio).toBe(2);
  });

  it("finds a planted repeated name at the top with its document share", async () => {
    const names = vocabulary(60, 7).map((w) => w[0]?.toUpperCase() + w.slice(1));
    const rand = seededRandom(3);
    const docs = randomDocs(200, 11, vocabulary(2000, 5), (d, s) => {
      if (d % 10 < 3 && s % 3 === 1) return "Marisol Vega"; // 30% of documents, 3 times each
      return rand() < 0.2 ? names[Math.floor(rand() * names.length)] : undefined;
    });
    // Names at the start of a sentence, on a heading or after a title are handled.
    docs.push(doc("d0", "t0", 5, "# Quarterly Grand Review\nZebra ran. We met Dr. Okafor today."));
    const s = await corpusStats(corpus(docs), { topEntities: 5 });
    const [first] = s.entities.top;
    expect(first?.name).toBe("Marisol Vega");
    expect(first?.documents).toBe(60);
    expect(first?.count).toBe(180);
    expect(first?.documentShare).toBeCloseTo(60 / 201, 12);
    expect(s.entities.top).toHaveLength(5);
    expect(s.entities.top[1]?.documentShare).toBeLessThan(0.15);
    expect(s.entities.countError).toBe(0);
    const all = await corpusStats(corpus(docs), { topEntities: 1000 });
    const found = all.entities.top.map((e) => e.name);
    expect(found).toContain("Okafor");
    for (const absent of ["Zebra", "Quarterly", "Grand Review", "Dr", "We"])
      expect(found).not.toContain(absent);
    expect(formatCorpusStats(s)).toMatch(/Marisol Vega +in +29\.9% of documents +180 times/);
  });

  it("distinct-n is lower for a repetitive corpus than a varied one", async () => {
    const varied = await corpusStats(corpus(randomDocs(100, 1, vocabulary(3000, 2), () => "")));
    const same = "The same few words again and again in every single document.";
    const repetitive = await corpusStats(
      corpus(Array.from({ length: 100 }, () => doc("d", "t", 12, `${same} ${same}`))),
      { ngrams: [1, 2, 4] },
    );
    expect(varied.distinct.map((d) => d.n)).toEqual([1, 2, 3]);
    expect(repetitive.distinct.map((d) => d.n)).toEqual([1, 2, 4]);
    // 10 distinct words ("again" twice), 22 per document.
    expect(repetitive.distinct[0]).toMatchObject({ total: 2200, distinct: 10 });
    expect(repetitive.distinct[2]?.total).toBe(1900);
    for (const d of repetitive.distinct) expect(d.ratio).toBeLessThan(0.02);
    const v2 = varied.distinct[1]?.ratio as number;
    expect(v2).toBeGreaterThan(0.9);
    expect(varied.distinct[2]?.ratio).toBeGreaterThan(0.95);
    expect(varied.distinct[0]?.ratio).toBeLessThan(v2);
  });

  it("rejects a malformed line naming the file and line number", async () => {
    const bad = corpus([doc("a", "b", 1), doc("a", "b", 2), '{"text": "cut off', doc("a", "b", 3)]);
    const err = await corpusStats(bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SpecsciError);
    expect((err as SpecsciError).message).toMatch(new RegExp(`${bad}:3: not valid JSON`));
    expect((err as SpecsciError).hint).toContain("token_count");
    const missing = corpus([doc("a", "b", 1), { text: "no count" }]);
    await expect(corpusStats(missing)).rejects.toThrow(`${missing}:2: no \`token_count\``);
    const noText = corpus([{ token_count: 3 }]);
    await expect(corpusStats(noText)).rejects.toThrow(`${noText}:1: no \`text\``);
    const fraction = corpus([{ text: "x", token_count: 2.5 }]);
    await expect(corpusStats(fraction)).rejects.toThrow(/:1: `token_count` is not/);
    await expect(corpusStats(join(dir, "absent.jsonl"))).rejects.toThrow(SpecsciError);
  });

  it("joins a line split across read chunks", async () => {
    const long = "word ".repeat(500_000); // 2.5 MB on one line, over two 1 MiB chunks
    const s = await corpusStats(corpus([doc("a", "b", 7, long), doc("a", "b", 8, "é".repeat(9))]));
    expect(s.documents).toBe(2);
    expect(s.words).toBe(500_001);
    expect(s.characters).toBe(long.length + 9);
  });
});

describe("HyperLogLog", () => {
  it.each([1_000, 100_000, 1_000_000])("estimates %i distinct items within 3%", (n) => {
    const hll = new HyperLogLog(14);
    for (let i = 0; i < n; i++) hll.add(`item-${i}`);
    for (let i = 0; i < Math.min(n, 50_000); i++) hll.add(`item-${i}`); // repeats change nothing
    expect(Math.abs(hll.estimate() / n - 1)).toBeLessThan(0.03);
  });

  it("is 0 when empty, and a merge estimates the union", () => {
    const a = new HyperLogLog();
    expect(a.estimate()).toBe(0);
    const b = new HyperLogLog();
    for (let i = 0; i < 200_000; i++) (i < 120_000 ? a : b).addHash(hashString(String(i)));
    a.merge(b);
    expect(Math.abs(a.estimate() / 200_000 - 1)).toBeLessThan(0.03);
  });
});

describe("MisraGries", () => {
  it("keeps a frequent key with a count within its error bound", () => {
    const mg = new MisraGries<string>(20);
    const rand = seededRandom(9);
    let hits = 0;
    for (let i = 0; i < 100_000; i++) {
      if (rand() < 0.1) {
        mg.add("frequent");
        hits++;
      } else mg.add(`noise-${Math.floor(rand() * 50_000)}`);
    }
    expect(mg.size).toBeLessThanOrEqual(20);
    expect(mg.total).toBe(100_000);
    expect(mg.errorBound).toBeLessThanOrEqual(100_000 / 21);
    expect(mg.top(1)[0]?.key).toBe("frequent");
    expect(mg.count("frequent")).toBeLessThanOrEqual(hits);
    expect(mg.count("frequent")).toBeGreaterThanOrEqual(hits - mg.errorBound);
  });

  it("handles weights", () => {
    const mg = new MisraGries<string>(2);
    mg.add("a", 5);
    mg.add("b", 3);
    mg.add("c", 4); // takes 3 from each: a 2, b gone, c 1
    expect([mg.count("a"), mg.count("b"), mg.count("c"), mg.errorBound]).toEqual([2, 0, 1, 3]);
  });
});
