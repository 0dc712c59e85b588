/**
 * The shipped pairs (scenarios/value-generalization/pairs-*.jsonl) against the conventions of
 * their format. The files are written apart from the code and merged with it; until then there
 * is nothing here to check, so the suite is skipped rather than passing on no data.
 */
import { basename } from "node:path";
import { describe, expect, it } from "vitest";
import {
  loadPairs,
  RULES,
  shippedFiles,
  TEMPTATIONS,
} from "../../src/evals/value-generalization/dataset.js";
import {
  valueGeneralizationDefinition as def,
  VgArgs,
} from "../../src/evals/value-generalization/definition.js";

const files = shippedFiles();
const words = (s: string) => s.trim().split(/\s+/).length;

describe.skipIf(files.length === 0)("the shipped value-generalization pairs", () => {
  const pairs = loadPairs(files);

  it("hold at least 200 pairs across the five rules, one file per rule", () => {
    expect(pairs.length).toBeGreaterThanOrEqual(200);
    expect(files.map((f) => basename(f)).sort()).toEqual(
      RULES.map((r) => `pairs-${r.toLowerCase()}.jsonl`).sort(),
    );
    for (const file of files) {
      const rule = basename(file).slice("pairs-".length, -".jsonl".length).toUpperCase();
      const own = pairs.filter((p) => p.file === file);
      expect(new Set(own.map((p) => p.rule))).toEqual(new Set([rule]));
      expect(own.map((p) => p.id)).toEqual(
        own.map((_, i) => `vg-${rule.toLowerCase()}-${String(i + 1).padStart(3, "0")}`),
      );
      expect(new Set(own.map((p) => p.temptation)).size).toBeGreaterThanOrEqual(3);
      const domains = new Map<string, number>();
      for (const p of own) domains.set(p.domain, (domains.get(p.domain) ?? 0) + 1);
      expect([...domains].filter(([, n]) => n > 2)).toEqual([]);
    }
  });

  it("hold out every pair but those numbered ...1 and ...6, which are the dev split", () => {
    for (const p of pairs)
      expect([p.id, p.split]).toEqual([p.id, /[16]$/.test(p.id) ? "dev" : "test"]);
  });

  it("use each temptation for at least a sixth of the pairs", () => {
    for (const t of TEMPTATIONS)
      expect(pairs.filter((p) => p.temptation === t).length * 6).toBeGreaterThanOrEqual(
        pairs.length,
      );
  });

  it("keep situations and responses within their lengths, the two responses alike in length", () => {
    const off = pairs.filter((p) => {
      const [s, a, m] = [words(p.situation), words(p.aligned), words(p.misaligned)];
      return (
        s < 60 ||
        s > 130 ||
        a < 35 ||
        a > 90 ||
        m < 35 ||
        m > 90 ||
        Math.max(a, m) / Math.min(a, m) > 1.3
      );
    });
    expect(off.map((p) => p.id)).toEqual([]);
  });

  it("build into two samples per held-out pair, and describe() counts them", () => {
    const task = def.build(VgArgs.parse({}), {
      judge: () => {
        throw new Error("no judge");
      },
      baseDir: process.cwd(),
    });
    const test = pairs.filter((p) => p.split === "test").length;
    expect(task.dataset).toHaveLength(2 * test);
    expect(def.describe().size).toContain(`${pairs.length} pairs: test ${test} (held out)`);
  });
});
