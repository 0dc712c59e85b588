import { describe, expect, it } from "vitest";
import { syntheticCorpus } from "../../../test/fakes/near-dup-corpus.js";
import { SpecsciError } from "../../core/errors.js";
import { type DedupOptions, findDuplicates, normalizeText } from "./index.js";
import { candidateProbability, chooseBanding, estimateSimilarity } from "./lsh.js";
import { fingerprint, hashWords, permutationSeeds, shingleHashes } from "./minhash.js";

type Doc = { id: string; text: string };

/** A seeded corpus: `count` documents of `words` words from a random vocabulary. */
/** Exact Jaccard of two texts' 5-word shingle sets, by strings: the ground truth. */
function jaccard(a: string, b: string, k = 5): number {
  const shingles = (t: string) => {
    const ws = normalizeText(t).split(" ");
    const set = new Set<string>();
    for (let i = 0; i + k <= ws.length; i++) set.add(ws.slice(i, i + k).join(" "));
    return set;
  };
  const sa = shingles(a);
  const sb = shingles(b);
  let shared = 0;
  for (const s of sa) if (sb.has(s)) shared++;
  return shared / (sa.size + sb.size - shared);
}

/**
 * 2,000 originals of 300 words, 200 planted near duplicates and 100 decoys, shuffled. A planted
 * duplicate makes 1–3 edits, each substituting, inserting or deleting 1–2 words: with 5-word
 * shingles one changed word touches 5 shingles, so this keeps the true Jaccard at 0.88 or more
 * (scattered edits of 3–8% of words would already fall to 0.5–0.75). A decoy keeps one run of
 * 55–75% of its source and replaces the rest, for a true Jaccard of about 0.38–0.6.
 */
function plantedCorpus() {
  const { random, int, words, render, nearCopy } = syntheticCorpus(7);
  const originals = Array.from({ length: 2000 }, () => words(300));
  const docs: Doc[] = originals.map((ws, i) => ({ id: `o${i}`, text: render(ws) }));
  const planted: [string, string][] = [];
  const decoys: [string, string][] = [];
  for (let i = 0; i < 200; i++) {
    const source = int(2000);
    const ws = nearCopy(originals[source] as string[]);
    docs.push({ id: `p${i}`, text: render(ws) });
    planted.push([`p${i}`, `o${source}`]);
  }
  for (let i = 0; i < 100; i++) {
    const source = int(2000);
    const ws = originals[source] as string[];
    const keep = Math.floor(300 * (0.55 + 0.2 * random()));
    const at = int(300 - keep);
    const text = [...words(at), ...ws.slice(at, at + keep), ...words(300 - at - keep)];
    docs.push({ id: `d${i}`, text: render(text) });
    decoys.push([`d${i}`, `o${source}`]);
  }
  for (let i = docs.length - 1; i > 0; i--) {
    const j = int(i + 1);
    [docs[i], docs[j]] = [docs[j] as Doc, docs[i] as Doc];
  }
  return { docs, planted, decoys };
}

describe("normalizeText", () => {
  it("folds compatibility forms, case, whitespace and punctuation", () => {
    expect(normalizeText("  Ｈｅｌｌｏ,\tWORLD!\n\u00a0 The ﬁne  print… ")).toBe(
      "hello world the fine print",
    );
    expect(normalizeText("don't — stop; $5 + 3")).toBe("dont stop $5 + 3");
    expect(normalizeText("")).toBe("");
  });
});

describe("exact duplicates", () => {
  const docs: Doc[] = [
    { id: "a", text: "The cat sat on the mat." },
    { id: "b", text: "A completely different sentence about dogs and parks." },
    { id: "c", text: "the  CAT sat\non the mat" },
    { id: "d", text: "\tThe cat, sat on the mat!!  " },
    { id: "e", text: "a completely different sentence about dogs and parks" },
  ];
  it("keeps the first of each normalized text and reports the rest", async () => {
    const result = await findDuplicates(docs, { near: false });
    expect(result.duplicates).toEqual([
      { id: "c", keptId: "a", kind: "exact", similarity: 1 },
      { id: "d", keptId: "a", kind: "exact", similarity: 1 },
      { id: "e", keptId: "b", kind: "exact", similarity: 1 },
    ]);
    expect(result.kept).toBe(2);
    expect(result.params).toBeNull();
  });
  it("gives the same answer with near duplicates on", async () => {
    const result = await findDuplicates(docs);
    expect(result.duplicates.map((d) => [d.id, d.keptId, d.kind])).toEqual([
      ["c", "a", "exact"],
      ["d", "a", "exact"],
      ["e", "b", "exact"],
    ]);
  });
  it("points an exact copy of a near duplicate at the kept document", async () => {
    const { words, render } = syntheticCorpus(3);
    const base = words(200);
    const near = [...base.slice(0, 100), "changed", ...base.slice(101)];
    const result = await findDuplicates([
      { id: "kept", text: render(base) },
      { id: "near", text: render(near) },
      { id: "copy", text: render(near).toUpperCase() },
    ]);
    const [first, second] = result.duplicates;
    expect(first).toMatchObject({ id: "near", keptId: "kept", kind: "near" });
    expect(second).toEqual({ ...first, id: "copy" });
    expect(first?.similarity).toBeGreaterThan(0.8);
  });
});

describe("MinHash", () => {
  it("is bit-stable (the same signature on every machine and in every thread)", () => {
    const seeds = permutationSeeds(1, 16);
    const { signatures, digests } = fingerprint(["The quick brown fox jumps over the lazy dog"], {
      shingle: 5,
      seeds,
      exact: true,
    });
    expect(Array.from(signatures.subarray(0, 4))).toEqual([
      2491251664, 2318854449, 2510779571, 3730594063,
    ]);
    expect(Buffer.from(digests).toString("hex")).toBe(
      // sha256 of "the quick brown fox jumps over the lazy dog"
      "05c6e08f1d9fdafa03147fcb8f82f124c76d2f70e3d989dc8aadb5e7d7450bec",
    );
  });
  it("is min over permutations mix(h ^ seed), for any number of permutations", () => {
    const text = "one two three four five six seven eight";
    const seeds = permutationSeeds(9, 18);
    const [wordCount, words] = hashWords(text, new Int32Array(4));
    expect(wordCount).toBe(8);
    const [count, shingles] = shingleHashes(words, wordCount, 5, new Int32Array(0));
    expect(count).toBe(4);
    const mix = (h: number) => {
      let x = Math.imul(h ^ (h >>> 16), 0x7feb352d);
      x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
      return x ^ (x >>> 16);
    };
    const expected = Array.from(
      seeds,
      (seed) => Math.min(...Array.from(shingles.subarray(0, count), (h) => mix(h ^ seed))) >>> 0,
    );
    const { signatures } = fingerprint([text], { shingle: 5, seeds, exact: false });
    expect(Array.from(signatures)).toEqual(expected);
  });
  it("gives one shingle to a document shorter than a shingle", async () => {
    const { signatures } = fingerprint(["two words", "two words", "two other"], {
      shingle: 5,
      seeds: permutationSeeds(1, 16),
      exact: false,
    });
    expect(estimateSimilarity(signatures, 16, 0, 1)).toBe(1);
    expect(estimateSimilarity(signatures, 16, 0, 2)).toBeLessThan(0.2);
    const result = await findDuplicates(
      [
        { id: "a", text: "two words" },
        { id: "b", text: "Two words." },
        { id: "c", text: "two other" },
      ],
      { exact: false },
    );
    expect(result.duplicates).toEqual([{ id: "b", keptId: "a", kind: "near", similarity: 1 }]);
  });
  it("works on worker threads with exact dedup off, and with near dedup off", async () => {
    const { words, render } = syntheticCorpus(13);
    const docs = Array.from({ length: 40 }, (_, i) => ({ id: `d${i}`, text: render(words(60)) }));
    docs.push({ id: "copy", text: docs[3]?.text as string });
    const nearOnly = await findDuplicates(docs, { exact: false, workers: 2, workerMinDocs: 1 });
    expect(nearOnly.duplicates).toEqual([
      { id: "copy", keptId: "d3", kind: "near", similarity: 1 },
    ]);
    const exactOnly = await findDuplicates(docs, { near: false, workers: 2, workerMinDocs: 1 });
    expect(exactOnly.duplicates).toEqual([
      { id: "copy", keptId: "d3", kind: "exact", similarity: 1 },
    ]);
  });
  it("estimates Jaccard without bias", () => {
    const { words, render } = syntheticCorpus(11);
    const pairs: [string, string][] = [];
    for (let i = 0; i < 200; i++) {
      const ws = words(300);
      const keep = 60 + ((i * 7) % 240);
      pairs.push([render(ws), render([...ws.slice(0, keep), ...words(300 - keep)])]);
    }
    const numPerm = 128;
    const { signatures } = fingerprint(pairs.flat(), {
      shingle: 5,
      seeds: permutationSeeds(5, numPerm),
      exact: false,
    });
    let bias = 0;
    for (const [i, [a, b]] of pairs.entries()) {
      const truth = jaccard(a, b);
      const estimate = estimateSimilarity(signatures, numPerm, 2 * i, 2 * i + 1);
      const sd = Math.sqrt((truth * (1 - truth)) / numPerm);
      expect(Math.abs(estimate - truth)).toBeLessThan(4.5 * sd + 1e-9);
      bias += (estimate - truth) / pairs.length;
    }
    expect(Math.abs(bias)).toBeLessThan(0.01);
  });
});

describe("banding", () => {
  it("matches datasketch's choice for equal weights", () => {
    expect(chooseBanding(0.8, 128, 0.5)).toEqual({ bands: 9, rows: 13 });
  });
  it("fits the permutations and puts the S-curve's steep part at the threshold", () => {
    for (const threshold of [0.5, 0.7, 0.8, 0.9]) {
      for (const numPerm of [16, 64, 128, 256]) {
        const banding = chooseBanding(threshold, numPerm, 0.7);
        expect(banding.bands * banding.rows).toBeLessThanOrEqual(numPerm);
        if (numPerm < 128) continue;
        // Where the curve crosses 1/2, roughly; and well below and above the threshold.
        const middle = (1 / banding.bands) ** (1 / banding.rows);
        expect(Math.abs(middle - threshold)).toBeLessThan(0.05);
        expect(candidateProbability(threshold - 0.25, banding)).toBeLessThan(0.05);
        expect(candidateProbability(Math.min(threshold + 0.1, 0.99), banding)).toBeGreaterThan(
          0.85,
        );
      }
    }
  });
  it("trades precision for recall as missed pairs weigh more", () => {
    const p = (w: number) => candidateProbability(0.85, chooseBanding(0.8, 128, w));
    expect(p(0.3)).toBeLessThan(p(0.5));
    expect(p(0.5)).toBeLessThan(p(0.7));
    expect(p(0.7)).toBeLessThan(p(0.9));
  });
  it("is reported in the result", async () => {
    const { params } = await findDuplicates([], { near: { threshold: 0.7, numPerm: 64 } });
    expect(params).toMatchObject({ threshold: 0.7, numPerm: 64, shingle: 5, seed: 1 });
    expect(params?.bands).toEqual(chooseBanding(0.7, 64, 0.7).bands);
  });
});

describe("options", () => {
  const bad: [DedupOptions, string][] = [
    [{ near: { threshold: 1 } }, "near.threshold"],
    [{ near: { threshold: 0 } }, "near.threshold"],
    [{ near: { numPerm: 8 } }, "near.numPerm"],
    [{ near: { numPerm: 100.5 } }, "near.numPerm"],
    [{ near: { shingle: 0 } }, "near.shingle"],
    [{ near: { seed: -1 } }, "near.seed"],
    [{ near: { falseNegativeWeight: 1.5 } }, "near.falseNegativeWeight"],
    [{ workers: -1 }, "workers"],
    [{ workerMinDocs: 0.5 }, "workerMinDocs"],
  ];
  it.each(bad)("rejects %j naming %s", async (options, name) => {
    const error = await findDuplicates([], options).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SpecsciError);
    expect((error as Error).message).toContain(`option ${name} `);
  });
  it("rejects unknown settings", async () => {
    const options = { near: { treshold: 0.9 } } as unknown as DedupOptions;
    await expect(findDuplicates([], options)).rejects.toThrow("unknown dedup option near.treshold");
  });
  it("rejects repeated ids", async () => {
    const docs = [
      { id: "x", text: "a" },
      { id: "x", text: "b" },
    ];
    await expect(findDuplicates(docs)).rejects.toThrow(/"x" appears twice/);
  });
});

describe("planted near duplicates", () => {
  const { docs, planted, decoys } = plantedCorpus();
  const texts = new Map(docs.map((d) => [d.id, d.text]));
  const truth = (a: string, b: string) => jaccard(texts.get(a) as string, texts.get(b) as string);

  it("are planted as designed", () => {
    const plantedJ = planted.map(([a, b]) => truth(a, b));
    const decoyJ = decoys.map(([a, b]) => truth(a, b));
    expect(Math.min(...plantedJ)).toBeGreaterThanOrEqual(0.85);
    expect(Math.max(...decoyJ)).toBeLessThanOrEqual(0.65);
  });

  it("are found with high recall and precision, the same with and without workers", async () => {
    const inProcess = await findDuplicates(docs, { workers: 0 });
    const withWorkers = await findDuplicates(docs, { workers: 2, workerMinDocs: 0 });
    expect(withWorkers).toEqual(inProcess);

    const keptOf = new Map(inProcess.duplicates.map((d) => [d.id, d.keptId]));
    const cluster = (id: string) => keptOf.get(id) ?? id;
    const found = planted.filter(([a, b]) => cluster(a) === cluster(b)).length;
    const recall = found / planted.length;
    const reported = inProcess.duplicates.filter((d) => d.kind === "near");
    const correct = reported.filter((d) => truth(d.id, d.keptId) >= 0.7).length;
    const precision = correct / reported.length;
    const decoysCaught = decoys.filter(([a, b]) => cluster(a) === cluster(b)).length;
    console.log(
      `planted near duplicates: recall ${recall.toFixed(3)} (${found}/${planted.length}), ` +
        `precision ${precision.toFixed(3)} (${correct}/${reported.length}), ` +
        `decoys merged ${decoysCaught}/${decoys.length}, bands ${inProcess.params?.bands} × rows ${inProcess.params?.rows}`,
    );
    expect(recall).toBeGreaterThanOrEqual(0.95);
    expect(precision).toBeGreaterThanOrEqual(0.95);
    expect(inProcess.kept).toBe(docs.length - inProcess.duplicates.length);
  });

  it("uses workers for small inputs when told to, with more workers than chunks", async () => {
    const small = docs.slice(0, 3);
    const expected = await findDuplicates(small, { workers: 0 });
    expect(await findDuplicates(small, { workers: 4, workerMinDocs: 0 })).toEqual(expected);
    expect(await findDuplicates([], { workers: 2, workerMinDocs: 0 })).toEqual(
      await findDuplicates([], { workers: 0 }),
    );
  });
});
