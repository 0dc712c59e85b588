import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cleanupTempDirs, runCli, tempDir } from "../helpers.js";

afterAll(cleanupTempDirs);

describe("specsci spec", () => {
  it("lint reports file:line:col problems and exits non-zero; a clean spec exits 0", async () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, "bad.md"),
      "---\nname: bad\n---\n# Bad\n\n## SP1: One\n\nSee SP7.\n\n- a\n\n## SP1: Two\n\n- b\n",
    );
    const bad = await runCli(["spec", "lint", "bad.md"], { cwd: dir });
    expect(bad.code).toBe(1);
    expect(bad.stdout.trim().split("\n")).toEqual([
      "bad.md:8:5: error: reference to SP7, which this spec does not define (unknown-reference)",
      "bad.md:12:1: error: duplicate rule id SP1 (first at line 6) (duplicate-id)",
    ]);
    const good = await runCli(["spec", "lint", "rules", "value-augmented"], { cwd: dir });
    expect(good.code).toBe(0);
    expect(good.stdout).toBe("");
    expect(good.stderr).toMatch(/2 file\(s\): 0 error\(s\), 0 warning\(s\)/);
    const missing = await runCli(["spec", "lint", "nope.md"], { cwd: dir });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no spec file .*nope\.md and no built-in spec named "nope.md"/);
  });

  it("list, show and stats reach the built-in library", async () => {
    const list = JSON.parse((await runCli(["--json", "spec", "list"])).stdout) as {
      name: string;
      purpose: string;
    }[];
    expect(list.map((e) => e.name)).toContain("value-augmented");
    const show = await runCli(["spec", "show", "general"]);
    expect(show.stdout).toMatch(/^---\nname: general/);
    const model = JSON.parse((await runCli(["--json", "spec", "show", "rules"])).stdout);
    expect(model.body[0].body[0]).toMatchObject({ kind: "rule", id: "SP1" });
    const stats = JSON.parse(
      (await runCli(["--json", "spec", "stats", "rules", "value-augmented"])).stdout,
    );
    expect(stats[0]).toMatchObject({ rules: 5, subrules: 20, explanationWords: 0 });
    expect(stats[1].tokens.qwen3).toBeGreaterThan(stats[0].tokens.qwen3);
  });

  it("diff aligns rules by id, as text and JSON", async () => {
    const text = await runCli(["spec", "diff", "rules", "value-augmented"]);
    expect(text.stdout).toMatch(/rules: 0 added, 0 removed, 5 changed, 0 unchanged/);
    expect(text.stdout).toMatch(/~ SP1\n {4}explanation: 0 → \d+ words/);
    const json = JSON.parse(
      (await runCli(["--json", "spec", "diff", "rules", "rule-augmented"])).stdout,
    );
    expect(json.rulesChanged.map((r: { id: string }) => r.id)).toEqual([
      "SP1",
      "SP2",
      "SP3",
      "GP1",
      "GP2",
    ]);
    expect(json.rulesChanged[0].subrulesRemoved).toEqual([]);
  });

  it("derive --help lists the transforms as an aligned, wrapped section", async () => {
    const r = await runCli(["spec", "derive", "--help"]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    for (const l of lines) expect(l.length, l).toBeLessThanOrEqual(80);
    const section = lines.slice(lines.indexOf("Transforms:") + 1);
    expect(section.length).toBeGreaterThan(0);
    // Each line is an item or the indented continuation of one, in the options' column.
    const column = (lines.find((l) => l.startsWith("  -o, --out")) ?? "").indexOf("write");
    for (const l of section) expect(l, l).toMatch(new RegExp(`^  [a-z-]+ +\\S|^ {${column}}\\S`));
    for (const name of ["strip-explanations", "set-attribution", "match-length"])
      expect(section.find((l) => l.startsWith(`  ${name} `))?.indexOf(" ", 2 + name.length)).toBe(
        2 + name.length,
      );
    expect(section.find((l) => l.startsWith("  augment-values"))?.slice(column)).toMatch(
      /^explain/,
    );
  });

  it("derive writes a variant with lineage; a model-assisted transform without a usable model fails clearly", async () => {
    const dir = tempDir();
    const r = await runCli(
      [
        "spec",
        "derive",
        "value-augmented",
        "-t",
        "strip-explanations",
        "-o",
        "stripped.md",
        "--name",
        "stripped",
      ],
      { cwd: dir },
    );
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/wrote stripped\.md: stripped, 5 rules/);
    const out = readFileSync(join(dir, "stripped.md"), "utf8");
    expect(out).toMatch(
      /lineage:\n {2}- parent: [0-9a-f]{64}\n {4}parent_name: value-augmented\n {4}transform: strip-explanations/,
    );
    const diff = await runCli(["spec", "diff", "rules", "stripped.md"], { cwd: dir });
    expect(diff.stdout).toMatch(/rules: 0 added, 0 removed, 0 changed, 5 unchanged/);

    const noModel = await runCli(["spec", "derive", "rules", "-t", "augment-values"], {
      cwd: dir,
      env: { ANTHROPIC_API_KEY: "" },
    });
    expect(noModel.code).toBe(1);
    expect(noModel.stderr).toMatch(
      /the default generator cannot be used: anthropic\/claude-opus-4-6 needs an API key/,
    );
    expect(noModel.stderr).toMatch(
      /choose the generator with --model <id>, or set defaults\.generator/,
    );
    const echo = await runCli(
      [
        "spec",
        "derive",
        "rules",
        "-t",
        "augment-values",
        "--rules",
        "SP1",
        "-m",
        "fake/echo",
        "--attempts",
        "2",
      ],
      { cwd: dir },
    );
    expect(echo.code).toBe(1);
    expect(echo.stderr).toMatch(
      /augment-values SP1: no acceptable answer from fake\/echo in 2 attempts/,
    );
    const badTolerance = await runCli(
      [
        "spec",
        "derive",
        "rules",
        "-t",
        "match-length",
        "--to",
        "general",
        "--tolerance",
        "200%",
        "-m",
        "fake/echo",
      ],
      { cwd: dir },
    );
    expect(badTolerance.code).toBe(1);
    expect(badTolerance.stderr).toMatch(/expected a fraction/);

    writeFileSync(
      join(dir, "citing.md"),
      "---\nname: citing\n---\n# Rules\n\n## A1: Be honest\n\nAlways.\n\n## A2: Be kind\n\nKind, and see A1.\n",
    );
    const unsound = await runCli(
      ["spec", "derive", "citing.md", "-t", "select", "--rules", "A2", "-o", "kind.md"],
      { cwd: dir },
    );
    expect(unsound.code).toBe(1);
    expect(unsound.stderr).toMatch(
      /^specsci: error: derived spec does not lint clean: \d+:\d+ reference to A1, which this spec does not define\n.*a selection must keep every rule its rules cite/s,
    );
    expect(unsound.stderr).not.toMatch(/internal error/);
  });
});
