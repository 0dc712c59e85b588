import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { sha256Hex } from "../../src/core/hash.js";
import {
  datasetCard,
  hubFeatures,
  recordSchema,
  sizeCategory,
} from "../../src/data/dataset-card.js";
import { cleanupTempDirs, tempDir } from "../helpers.js";
import { checkCard } from "./card-check.js";

afterAll(cleanupTempDirs);

describe("dataset card features", () => {
  it("are inferred from the records: nulls join, integers widen, lists and structs merge", () => {
    const fields = recordSchema([
      { a: 1, b: null, c: [], d: { x: "s" }, m: [{ role: "user", content: "hi" }] },
      { a: 1.5, b: true, c: ["t"], d: { y: 2 }, m: [], e: undefined },
    ]);
    expect(hubFeatures(fields)).toEqual([
      { name: "a", dtype: "float64" },
      { name: "b", dtype: "bool" },
      { name: "c", sequence: "string" },
      {
        name: "d",
        struct: [
          { name: "x", dtype: "string" },
          { name: "y", dtype: "int64" },
        ],
      },
      {
        name: "m",
        list: [
          { name: "role", dtype: "string" },
          { name: "content", dtype: "string" },
        ],
      },
    ]);
  });

  it("a column holding two kinds of value is an error naming it", () => {
    expect(() => recordSchema([{ a: { b: "x" } }, { a: { b: [1] } }])).toThrow(
      /a\.b holds both string and list/,
    );
  });

  it("size buckets are the Hub's", () => {
    expect([999, 1000, 99_999, 2_000_000].map(sizeCategory)).toEqual([
      "n<1K",
      "1K<n<10K",
      "10K<n<100K",
      "1M<n<10M",
    ]);
  });

  it("front matter is YAML 1.1-safe: times and yes/no stay strings", () => {
    const card = datasetCard(
      {
        prettyName: "no",
        license: "unknown",
        language: [],
        taskCategories: ["text-generation"],
        tags: ["specsci"],
        configs: [{ name: "default", splits: [{ split: "train", path: "d.jsonl", records: [] }] }],
        provenance: { created: "2026-01-01T00:00:00.000Z" },
      },
      "# body\n",
    );
    const fm = /^---\n([\s\S]*?)\n---\n\n# body\n$/.exec(card)?.[1] ?? "";
    const meta = parse(fm, { version: "1.1" });
    expect(meta.pretty_name).toBe("no");
    expect(meta.specsci.created).toBe("2026-01-01T00:00:00.000Z");
    expect(meta).not.toHaveProperty("language");
  });
});

/** A directory whose card was made from `carded` while `d.jsonl` holds `onDisk`. */
function cardedDir(carded: object[], onDisk: object[]): string {
  const dir = tempDir("specsci-card-");
  const manifest = `${JSON.stringify({ format: "f", created: "t", specsci: "v" })}\n`;
  writeFileSync(join(dir, "manifest.json"), manifest);
  writeFileSync(join(dir, "d.jsonl"), onDisk.map((r) => `${JSON.stringify(r)}\n`).join(""));
  const provenance = {
    format: "f",
    created: "t",
    version: "v",
    manifest_sha256: sha256Hex(manifest),
  };
  const configs = [
    { name: "default", splits: [{ split: "train", path: "d.jsonl", records: carded }] },
  ];
  const meta = { prettyName: "x", license: "unknown", language: [], taskCategories: [], tags: [] };
  writeFileSync(join(dir, "README.md"), datasetCard({ ...meta, configs, provenance }, ""));
  return dir;
}

describe("the card check", () => {
  const check = (carded: object[], onDisk: object[]) => () =>
    checkCard(cardedDir(carded, onDisk), { configs: { default: "d.jsonl" } });
  it("passes a card made from its files and fails one that does not match them", () => {
    expect(check([{ a: 1 }], [{ a: 1 }])).not.toThrow();
    expect(check([{ a: 1 }], [{ a: 1, b: 2 }])).toThrow(/key b is a feature/);
    expect(check([{ a: 1, b: 2 }], [{ a: 1 }])).toThrow(/every feature is a key/);
    expect(check([{ a: 1 }], [{ a: "s" }])).toThrow(/is a int64/);
    expect(check([{ a: 1 }, { a: 2 }], [{ a: 1 }])).toThrow();
  });
});
