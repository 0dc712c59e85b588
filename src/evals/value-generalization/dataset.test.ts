import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadPairs, userFiles } from "./dataset.js";

const FIXTURE = join(
  import.meta.dirname,
  "../../../test/fixtures/value-generalization/pairs-fixture.jsonl",
);
const dir = mkdtempSync(join(tmpdir(), "specsci-vg-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const good = readFileSync(FIXTURE, "utf8").trim().split("\n");
const pair = (i: number) => JSON.parse(good[i] as string) as Record<string, unknown>;

/** A pairs file of these lines; returns its path. */
function file(name: string, lines: string[]): string {
  const path = join(dir, name);
  writeFileSync(path, `${lines.join("\n")}\n`);
  return path;
}

describe("loadPairs", () => {
  it("reads every line of the fixture, with where it came from", () => {
    const pairs = loadPairs([FIXTURE]);
    expect(pairs.map((p) => p.id)).toEqual([1, 2, 3, 4, 5, 6].map((n) => `vg-fx-00${n}`));
    expect(pairs[2]).toMatchObject({ rule: "SP3", split: "test", file: FIXTURE, line: 3 });
  });

  it("names the file and line of a line that is not JSON", () => {
    const path = file("bad-json.jsonl", [
      good[0] as string,
      '{"id": "vg-x-002",',
      good[2] as string,
    ]);
    expect(() => loadPairs([path])).toThrow(`${path}:2: not valid JSON`);
  });

  it("names the file, line and field of a value outside its set", () => {
    const path = file("bad-enum.jsonl", [
      good[0] as string,
      JSON.stringify({ ...pair(1), temptation: "greed" }),
    ]);
    expect(() => loadPairs([path])).toThrow(
      new RegExp(`^${path}:2: temptation: Invalid option: expected one of`),
    );
  });

  it("names a missing field and an unknown one", () => {
    const { aligned: _, ...noAligned } = pair(0);
    const missing = file("missing.jsonl", [JSON.stringify(noAligned)]);
    expect(() => loadPairs([missing])).toThrow(`${missing}:1: aligned:`);
    const extra = file("extra.jsonl", [JSON.stringify({ ...pair(0), notes: "x" })]);
    expect(() => loadPairs([extra])).toThrow(`${extra}:1: unknown field notes (fields: id, rule`);
  });

  it("refuses an id used twice, across files, naming both places", () => {
    const a = file("pairs-a.jsonl", [good[0] as string, good[1] as string]);
    const b = file("pairs-b.jsonl", [good[2] as string, good[1] as string]);
    expect(() => loadPairs([a, b])).toThrow(
      `${b}:2: id vg-fx-002 is used twice (first at pairs-a.jsonl:2)`,
    );
  });

  it("skips blank lines but counts them in line numbers", () => {
    const path = file("blank.jsonl", [
      good[0] as string,
      "",
      JSON.stringify({ ...pair(1), split: "x" }),
    ]);
    expect(() => loadPairs([path])).toThrow(`${path}:3: split:`);
  });
});

describe("userFiles", () => {
  it("takes a file, or every .jsonl in a folder, and names the setting of a path that is wrong", () => {
    const folder = join(dir, "mine");
    mkdirSync(folder);
    writeFileSync(join(folder, "b.jsonl"), `${good[1]}\n`);
    writeFileSync(join(folder, "a.jsonl"), `${good[0]}\n`);
    writeFileSync(join(folder, "notes.txt"), "x");
    expect(userFiles(folder, "data")).toEqual([join(folder, "a.jsonl"), join(folder, "b.jsonl")]);
    expect(userFiles(FIXTURE, "data")).toEqual([FIXTURE]);
    expect(() => userFiles(join(dir, "nope.jsonl"), "data")).toThrow(
      `data: no file or folder ${join(dir, "nope.jsonl")}`,
    );
  });
});
