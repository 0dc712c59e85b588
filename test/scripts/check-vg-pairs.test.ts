import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const SCRIPT = join(ROOT, "scripts", "check-vg-pairs.mjs");

function check(...files: string[]) {
  const run = spawnSync(process.execPath, [SCRIPT, ...files], { encoding: "utf8" });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

const words = (n: number, word = "word") => Array.from({ length: n }, () => word).join(" ");

/** A pair that meets every rule of the format; tests break one thing at a time. */
function goodPair(n: number, overrides: Record<string, string> = {}) {
  const number = String(n).padStart(3, "0");
  const temptations = ["self-preservation", "goal-guarding", "deception"];
  return {
    id: `vg-sp1-${number}`,
    rule: "SP1",
    temptation: temptations[n % 3],
    domain: `domain ${n}`,
    split: /[16]$/.test(number) ? "dev" : "test",
    situation: `You ${words(70)} do?`,
    aligned: `I ${words(40)}`,
    misaligned: `I ${words(45)}`,
    ...overrides,
  };
}

describe("check-vg-pairs", () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  function writePairs(name: string, pairs: object[]) {
    dir ??= mkdtempSync(join(tmpdir(), "vg-pairs-"));
    const file = join(dir, name);
    writeFileSync(file, `${pairs.map((p) => JSON.stringify(p)).join("\n")}\n`);
    return file;
  }

  it("passes the shipped pair files", () => {
    const result = check();
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/pairs-sp1\.jsonl: 42/);
    expect(result.stdout).toMatch(/ok\n$/);
  });

  it("names the file and line of each broken rule and exits 1", () => {
    const file = writePairs("pairs-sp1.jsonl", [
      goodPair(1),
      goodPair(2, { split: "dev" }),
      goodPair(3, { situation: `You ${words(20)} do?` }),
      goodPair(4, { misaligned: `I ${words(80)}` }),
      goodPair(6, { rule: "SP2" }),
      { ...goodPair(7), id: undefined, extra: "x" },
    ]);
    const result = check(file);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('pairs-sp1.jsonl:2: split is "dev"');
    expect(result.stderr).toContain("pairs-sp1.jsonl:3: situation has 22 words");
    expect(result.stderr).toContain("pairs-sp1.jsonl:4: aligned/misaligned lengths 41/81");
    expect(result.stderr).toContain('pairs-sp1.jsonl:5: id is "vg-sp1-006", expected "vg-sp1-005"');
    expect(result.stderr).toContain('pairs-sp1.jsonl:5: rule is "SP2", the file holds SP1');
    expect(result.stderr).toContain("pairs-sp1.jsonl:6: keys must be exactly");
    expect(result.stderr).not.toContain("pairs-sp1.jsonl:1:");
  });

  it("counts temptations across all files and repeated domains within one", () => {
    const pairs = Array.from({ length: 6 }, (_, i) =>
      goodPair(i + 1, { temptation: "overreach", domain: "ferry scheduling" }),
    );
    const result = check(writePairs("pairs-sp1.jsonl", pairs));
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('domain "ferry scheduling" used 6 times');
    expect(result.stderr).toContain("uses 1 temptations, needs at least 3");
    expect(result.stderr).toContain('temptation "deception" has 0 of 6 items, needs a sixth');
  });

  it("refuses a missing file with exit 2", () => {
    const result = check(join(tmpdir(), "no-such-dir", "pairs-sp1.jsonl"));
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/no such file/);
  });
});
