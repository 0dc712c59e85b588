import { copyFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { sha256Hex } from "../../src/core/hash.js";
import { cleanupTempDirs, ROOT, runCli, tempDir } from "../helpers.js";

afterAll(cleanupTempDirs);

const FIXTURES = join(ROOT, "test", "fixtures", "paper-specs");
const SET = ["--set", "model_name=Qwen", "--set", "developer=Alibaba Cloud"];
let cwd: string;

beforeAll(() => {
  cwd = tempDir();
  for (const f of ["values_spec.txt", "rules_spec.md"])
    copyFileSync(join(FIXTURES, f), join(cwd, f));
});

const frontMatterOf = (markdown: string) =>
  parseYaml(/^---\n([\s\S]*?)\n---\n/.exec(markdown)?.[1] ?? "") as Record<string, unknown>;

describe("specs in the paper's bullet layout", () => {
  it("spec stats finds the rules once the placeholders are set", async () => {
    const r = await runCli(["--json", "spec", "stats", "values_spec.txt", ...SET], { cwd });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)[0]).toMatchObject({ rules: 5, subrules: 10, sections: 2 });
  });

  it("an unfilled placeholder is an error at file:line for each, with the --set hint", async () => {
    const r = await runCli(["spec", "stats", "values_spec.txt", "--set", "developer=X"], { cwd });
    expect(r.code).toBe(1);
    const lines = r.stderr.split("\n").filter((l) => l.includes("unfilled-placeholder"));
    expect(lines.length).toBe(9);
    expect(lines[0]).toMatch(
      /^ {2}values_spec\.txt:1:21: error: placeholder \{model_name\} has no value/,
    );
    expect(r.stderr).toMatch(/values_spec\.txt:33:8: error: placeholder \{model_name\}/);
    expect(r.stderr).toMatch(/hint: give each a value: --set model_name=VALUE/);
    expect(r.stderr).not.toMatch(/developer=VALUE/);
  });

  it("spec lint warns about the layout and lists the unfilled placeholders", async () => {
    const bare = await runCli(["spec", "lint", "values_spec.txt"], { cwd });
    expect(bare.code).toBe(1);
    expect(bare.stdout).toMatch(/^values_spec\.txt:3:39: error: placeholder \{developer\}/m);
    const set = await runCli(["spec", "lint", "values_spec.txt", ...SET], { cwd });
    expect(set.code, set.stdout).toBe(0);
    expect(set.stdout).toMatch(
      /^values_spec\.txt:9:1: warning: rules are written as `- ID: statement` bullets .*`specsci spec import FILE -o OUT\.md` converts .*\(bullet-layout\)\n$/,
    );
    expect(set.stderr).toMatch(/0 error\(s\), 1 warning\(s\)/);
    const md = await runCli(["spec", "lint", "rules_spec.md"], { cwd });
    expect(md.code, md.stdout).toBe(0);
  });

  it("spec import writes the heading layout that reads back as the same rules", async () => {
    const r = await runCli(
      ["--json", "spec", "import", "values_spec.txt", "-o", "values.md", ...SET],
      { cwd },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ layout: "bullets", rules: 5, subrules: 10 });
    const out = readFileSync(join(cwd, "values.md"), "utf8");
    expect(frontMatterOf(out)).toEqual({
      name: "values_spec",
      model_name: "Qwen",
      developer: "Alibaba Cloud",
      imported: {
        file: "values_spec.txt",
        sha256: sha256Hex(readFileSync(join(cwd, "values_spec.txt"), "utf8")),
        set: { model_name: "Qwen", developer: "Alibaba Cloud" },
      },
    });
    expect(out).toMatch(/^## Safety Principles\n\n.*\n\n### SP1: Qwen does not work against/m);
    const lint = await runCli(["spec", "lint", "--strict", "values.md"], { cwd });
    expect(lint.code, lint.stdout).toBe(0);
    const diff = await runCli(["--json", "spec", "diff", "values_spec.txt", "values.md", ...SET], {
      cwd,
    });
    expect(diff.code, diff.stderr).toBe(0);
    const d = JSON.parse(diff.stdout);
    expect([d.rulesAdded, d.rulesRemoved, d.rulesChanged]).toEqual([[], [], []]);
  });

  it("spec import prints to stdout without -o, filling from front matter", async () => {
    const r = await runCli(["spec", "import", "rules_spec.md"], { cwd });
    expect(r.code, r.stderr).toBe(0);
    expect(frontMatterOf(r.stdout)).toMatchObject({
      model_name: "Qwen",
      imported: { file: "rules_spec.md" },
    });
    expect(r.stdout).toMatch(/^### GP2: Qwen rejects ends-justify-means/m);
    expect(r.stderr).toMatch(
      /imported from rules_spec\.md \(bullets layout\): 5 rules, 6 subrules/,
    );
  });

  it("commands that read a spec take --set; a malformed one is a usage error", async () => {
    const plan = await runCli(
      ["--workspace", "ws", "--json", "msm", "plan", "values_spec.txt", ...SET],
      { cwd },
    );
    expect(plan.code, plan.stderr).toBe(0);
    const bad = await runCli(["spec", "stats", "values_spec.txt", "--set", "model_name"], { cwd });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--set .*expected NAME=VALUE/);
    const name = await runCli(["spec", "import", "values_spec.txt", "--set", "model-name=Q"], {
      cwd,
    });
    expect(name.stderr).toMatch(/"model-name" is not a placeholder name/);
  });
});
