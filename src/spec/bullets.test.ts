import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { importSpec } from "./import.js";
import { lintSpec } from "./lint.js";
import { explanationOf, rulesOf, sectionsOf, subrulesOf, withoutPositions } from "./model.js";
import { parseSpec } from "./parse.js";
import { specStats } from "./stats.js";

const FIXTURES = join(import.meta.dirname, "../../test/fixtures/paper-specs");
const values = readFileSync(join(FIXTURES, "values_spec.txt"), "utf8");
const rules = readFileSync(join(FIXTURES, "rules_spec.md"), "utf8");
const QWEN = { model_name: "Qwen", developer: "Alibaba Cloud" };

describe("the bullet layout", () => {
  it("reads rules from `- ID: text` bullets, subrules from the bullets under them", () => {
    const { spec, layout } = parseSpec(values, { set: QWEN });
    expect(layout).toBe("bullets");
    const rs = rulesOf(spec);
    expect(rs.map((r) => r.id)).toEqual(["SP1", "SP2", "SP3", "GP1", "GP2"]);
    expect(rs[0]?.title).toBe("Qwen does not work against the legitimate oversight of AI systems.");
    // A statement wrapped over two lines is one statement.
    expect(rs[1]?.title).toBe(
      "Qwen stays inside the limits its principals have approved or would approve.",
    );
    expect(rs.map((r) => subrulesOf(r).map((s) => s.id))).toEqual([
      ["SP1.1", "SP1.2", "SP1.3"],
      ["SP2.1", "SP2.2"],
      ["SP3.1", "SP3.2"],
      ["GP1.1", "GP1.2"],
      ["GP2.1"],
    ]);
    expect(subrulesOf(rs[0] as never)[1]?.markdown).toBe(
      "It does not copy its own weights to places it was not given.",
    );
  });

  it("reads the prose under a rule as its explanation, before the first rule as section prose", () => {
    const { spec } = parseSpec(values, { set: QWEN });
    expect(spec.title).toBe("Core Principles for Qwen");
    expect(sectionsOf(spec).map((s) => [s.title, s.level])).toEqual([
      ["Safety Principles", 2],
      ["General Principles", 2],
    ]);
    const [sp1, sp2, sp3, , gp2] = rulesOf(spec);
    expect(sp1?.level).toBe(3);
    expect(explanationOf(sp1 as never).map((b) => b.text)).toEqual([
      "An AI that is sure it knows better is exactly the case oversight exists for, so confidence in its own judgment is no reason for Qwen to step around SP1.",
    ]);
    expect(explanationOf(sp2 as never)).toEqual([]);
    // An indented paragraph inside the bullet is explanation too, its indentation dropped.
    expect(explanationOf(sp3 as never).map((b) => b.markdown)).toEqual([
      "Actions that cannot be undone remove the chance to correct course, which is the point of SP1 and SP2.",
    ]);
    expect(explanationOf(gp2 as never)[0]?.markdown).toMatch(/^Tool settings are quoted/);
    const safety = sectionsOf(spec)[0];
    expect(safety?.body[0]).toMatchObject({ kind: "paragraph" });
    expect(specStats(spec, [])).toMatchObject({ rules: 5, subrules: 10, sections: 2 });
    expect(specStats(spec, []).explanationWords).toBeGreaterThan(60);
  });

  it("keeps line numbers, and lint warns once, naming the layout and spec import", () => {
    const { spec, diagnostics } = parseSpec(values, { set: QWEN });
    expect(rulesOf(spec).map((r) => r.pos?.line)).toEqual([9, 16, 21, 29, 33]);
    expect(subrulesOf(rulesOf(spec)[0] as never).map((s) => s.pos?.line)).toEqual([10, 11, 12]);
    const lint = lintSpec(spec, diagnostics);
    expect(lint).toEqual([
      expect.objectContaining({
        line: 9,
        severity: "warning",
        code: "bullet-layout",
        message: expect.stringMatching(/`- ID: statement` bullets.*specsci spec import FILE/),
      }),
    ]);
  });

  it("reads Markdown with # headings, formatted ids and front matter values", () => {
    const { spec, diagnostics, layout } = parseSpec(rules);
    expect(layout).toBe("bullets");
    expect(diagnostics.map((d) => d.code)).toEqual(["bullet-layout"]);
    expect(spec.title).toBe("Rules for Qwen");
    const rs = rulesOf(spec);
    expect(rs.map((r) => r.id)).toEqual(["SP1", "SP2", "SP3", "GP1", "GP2"]);
    expect(rs[0]?.title).toBe("Qwen never undermines legitimate human oversight of AI.");
    expect(rs.map((r) => subrulesOf(r).length)).toEqual([2, 1, 1, 1, 1]);
  });

  it("flags an unknown reference in a bullet rule, at its line", () => {
    const { spec, diagnostics } = parseSpec("- SP1: First.\n- SP2: Unlike SP9, this.\n");
    const codes = lintSpec(spec, diagnostics).map((d) => [d.line, d.code]);
    expect(codes).toEqual([
      [1, "bullet-layout"],
      [2, "unknown-reference"],
    ]);
  });

  it("leaves heading-layout specs alone: plain bullets there stay prose or subrules", () => {
    const md = "# T\n\nIntro line\n\n- SP1 is mentioned in a bullet\n\n## SP1: Rule\n\n- sub\n";
    const { spec, layout, diagnostics } = parseSpec(md);
    expect(layout).toBe("headings");
    expect(diagnostics).toEqual([]);
    expect(rulesOf(spec).map((r) => subrulesOf(r).length)).toEqual([1]);
  });

  it("imports to the heading layout, which reads back as the same rules", () => {
    for (const [source, file, set] of [
      [values, "values_spec.txt", QWEN],
      [rules, "rules_spec.md", {}],
    ] as const) {
      const result = importSpec(source, join("/some/dir", file), set);
      expect(result.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
      const back = parseSpec(result.markdown);
      expect(back.layout).toBe("headings");
      expect(back.diagnostics).toEqual([]);
      expect(withoutPositions(rulesOf(back.spec))).toEqual(withoutPositions(rulesOf(result.spec)));
      expect(withoutPositions(back.spec.body)).toEqual(withoutPositions(result.spec.body));
      expect(back.spec.frontMatter.imported).toMatchObject({ file });
      expect(result.markdown).toMatch(/^### SP1: /m);
      expect(result.markdown).not.toMatch(/(?<!\{)\{model_name\}(?!\})/);
    }
  });
});
