import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { lintSource } from "./lint.js";
import {
  explanationOf,
  type Rule,
  rulesOf,
  type Section,
  type Spec,
  type SpecNode,
  sectionsOf,
  subrulesOf,
  withoutPositions,
} from "./model.js";
import { parseSpec } from "./parse.js";
import { renderSpec } from "./render.js";

const SAMPLE = `---
name: sample
model_name: Qwen
developer: Alibaba Cloud
priority: [Safety, Honesty]
---
# A sample spec

Qwen is a helpful assistant. This preamble is prose.

## Safety

Safety comes first.

### SP1: Do not undermine legitimate human oversight of AI

Oversight is how people catch mistakes — *including* ours.

- Do not resist shutdown or correction.
- Do not copy your own weights
  to places your developers did not approve.
  - not even temporarily

This is why SP1 ranks first.

### SP2: Act within sanctioned limits

1. Follow the principal hierarchy's current wishes.
2. Check in when unsure (see SP1.2).

## Honesty

### GP1: Be honest and transparent

Honesty lets others trust what you report.
`;

describe("parseSpec", () => {
  const { spec, diagnostics } = parseSpec(SAMPLE);

  it("reads front matter, title and preamble", () => {
    expect(diagnostics).toEqual([]);
    expect(spec.frontMatter).toMatchObject({
      name: "sample",
      model_name: "Qwen",
      developer: "Alibaba Cloud",
    });
    expect(spec.title).toBe("A sample spec");
    expect(spec.titlePos).toEqual({ line: 7, column: 1 });
    expect(spec.body[0]).toMatchObject({
      kind: "paragraph",
      text: "Qwen is a helpful assistant. This preamble is prose.",
    });
  });

  it("builds sections and rules with ids, titles and positions", () => {
    expect(sectionsOf(spec).map((s) => s.title)).toEqual(["Safety", "Honesty"]);
    const rules = rulesOf(spec);
    expect(rules.map((r) => [r.id, r.title, r.level])).toEqual([
      ["SP1", "Do not undermine legitimate human oversight of AI", 3],
      ["SP2", "Act within sanctioned limits", 3],
      ["GP1", "Be honest and transparent", 3],
    ]);
    expect(rules[0]?.pos).toEqual({ line: 15, column: 1 });
  });

  it("turns a rule's list items into addressable subrules and its prose into explanation", () => {
    const sp1 = rulesOf(spec)[0] as Rule;
    const subs = subrulesOf(sp1);
    expect(subs.map((s) => s.id)).toEqual(["SP1.1", "SP1.2"]);
    expect(subs[1]?.markdown).toBe(
      "Do not copy your own weights\nto places your developers did not approve.\n- not even temporarily",
    );
    expect(subs[1]?.pos).toEqual({ line: 20, column: 1 });
    expect(explanationOf(sp1).map((b) => b.text)).toEqual([
      "Oversight is how people catch mistakes — including ours.",
      "This is why SP1 ranks first.",
    ]);
    const sp2 = rulesOf(spec)[1] as Rule;
    expect(sp2.body[0]).toMatchObject({ kind: "subrules", ordered: true });
    expect(subrulesOf(sp2).map((s) => s.id)).toEqual(["SP2.1", "SP2.2"]);
  });

  it("accepts a prose-only spec without rules", () => {
    const { spec: general } = parseSpec("# General\n\nBe a good agent with sound judgment.\n");
    expect(rulesOf(general)).toEqual([]);
    expect(general.body).toHaveLength(1);
    expect(lintSource("# General\n\nBe a good agent with sound judgment.\n")).toEqual([]);
  });

  it("accepts dotted rule ids and other separators", () => {
    const { spec: s } = parseSpec("## R3.1: First\n\n## R3.2 — Second\n\n## GP10. Third\n");
    expect(rulesOf(s).map((r) => [r.id, r.title])).toEqual([
      ["R3.1", "First"],
      ["R3.2", "Second"],
      ["GP10", "Third"],
    ]);
  });

  it("keeps deeper headings without an id inside the rule", () => {
    const { spec: s } = parseSpec("## SP1: Rule\n\n### Examples\n\nAn example.\n\n## SP2: Next\n");
    expect(rulesOf(s).map((r) => r.body.length)).toEqual([2, 0]);
  });
});

describe("lintSpec", () => {
  const lint = (src: string) =>
    lintSource(src).map((d) => `${d.line}:${d.column} ${d.code}: ${d.message}`);

  it("finds nothing wrong with a sound spec", () => {
    expect(lint(SAMPLE)).toEqual([]);
  });

  it("reports duplicate ids at the second occurrence", () => {
    expect(lint("## SP1: One\n\n- a\n\n## SP1: Again\n\n- b\n")).toEqual([
      "5:1 duplicate-id: duplicate rule id SP1 (first at line 1)",
    ]);
  });

  it("reports references to ids that do not exist, with their position", () => {
    expect(lint("## SP1: One\n\nUnlike SP4, this\nrule wins over GP2 and SP1.7.\n\n- a\n")).toEqual(
      [
        "3:8 unknown-reference: reference to SP4, which this spec does not define",
        "4:24 unknown-reference: reference to SP1.7, which this spec does not define",
      ],
    );
  });

  it("does not mistake model names or unrelated codes for references", () => {
    expect(lint("## SP1: One\n\nRuns on H200 GPUs, unlike GPT4 and Qwen3.\n")).toEqual([]);
  });

  it("reports empty rules and subrules", () => {
    expect(lint("## SP1\n\n## SP2: Fine\n\n- \n- ok\n")).toEqual([
      "1:1 empty-rule: rule SP1 is empty: it has no statement, subrules or explanation",
      "5:1 empty-subrule: subrule SP2.1 is empty",
    ]);
  });

  it("reports malformed front matter with its position", () => {
    expect(lint("---\nname: [unclosed\n---\n# T\n\nText.\n")[0]).toMatch(
      /^2:\d+ front-matter: malformed front matter/,
    );
    expect(lint("---\nname: x\nmodel_name: 7\n---\n# T\n\nText.\n")).toEqual([
      "3:13 front-matter: front matter model_name: Invalid input: expected string, received number",
    ]);
  });

  it("reports priority entries that name no section, and an empty spec", () => {
    expect(lint("---\npriority: [Safety, Nope]\n---\n## Safety\n\nText.\n")).toEqual([
      '1:1 unknown-section: front matter priority names "Nope", which is not a section title',
    ]);
    expect(lint("---\nname: x\n---\n")).toEqual([
      "1:1 empty-spec: the spec has neither rules nor prose",
    ]);
  });
});

describe("round trip", () => {
  it("parse → render → parse gives the same model for the sample", () => {
    const first = parseSpec(SAMPLE).spec;
    const rendered = renderSpec(first);
    const second = parseSpec(rendered).spec;
    expect(withoutPositions(second)).toEqual(withoutPositions(first));
    expect(renderSpec(second)).toBe(rendered); // and rendering is a fixed point
  });

  // Random specs built from words that cannot be mistaken for Markdown syntax or rule ids.
  const word = fc.constantFrom(
    "oversight",
    "values",
    "honest",
    "Qwen",
    "act",
    "limits",
    "*careful*",
    "`code`",
    "humans",
    "trust",
    "SP1",
    "GP2",
    "because",
    "—",
    "why",
  );
  const sentence = fc.array(word, { minLength: 1, maxLength: 12 }).map((w) => w.join(" "));
  const paragraph = fc
    .array(sentence, { minLength: 1, maxLength: 3 })
    .map((lines) => lines.join("\n"));
  const title = fc
    .array(
      fc.constantFrom("Do", "not", "undermine", "legitimate", "oversight", "act", "honestly"),
      { minLength: 1, maxLength: 6 },
    )
    .map((w) => w.join(" "));
  const para = paragraph.map((md) => ({ kind: "paragraph" as const, markdown: md }));
  const subrules = fc.record({
    ordered: fc.boolean(),
    items: fc.array(paragraph, { minLength: 1, maxLength: 4 }),
  });
  const ruleBody = fc.array(
    fc.oneof(
      para,
      subrules.map((s) => ({ kind: "subrules" as const, ...s })),
    ),
    { maxLength: 4 },
  );

  const specArb = fc
    .record({
      title: fc.option(title, { nil: undefined }),
      preamble: fc.array(para, { maxLength: 2 }),
      sections: fc.array(
        fc.record({
          title: fc.option(title, { nil: undefined }),
          prose: fc.array(para, { maxLength: 2 }),
          rules: fc.array(fc.record({ title, body: ruleBody }), { maxLength: 3 }),
        }),
        { minLength: 1, maxLength: 3 },
      ),
    })
    .map((g) => {
      // Assemble Markdown directly, so parsing is exercised on independently written input.
      let n = 0;
      const parts: string[] = [];
      if (g.title) parts.push(`# ${g.title}`);
      for (const p of g.preamble) parts.push(p.markdown);
      for (const s of g.sections) {
        if (s.title) parts.push(`## ${s.title}`);
        for (const p of s.prose) parts.push(p.markdown);
        for (const r of s.rules) {
          parts.push(`${s.title ? "###" : "##"} R${++n}: ${r.title}`);
          for (const b of r.body) {
            if (b.kind === "paragraph") parts.push(b.markdown);
            else
              parts.push(
                b.items
                  .map(
                    (it, i) =>
                      `${b.ordered ? `${i + 1}.` : "-"} ${it.replaceAll("\n", b.ordered ? "\n   " : "\n  ")}`,
                  )
                  .join("\n"),
              );
          }
        }
      }
      return `${parts.join("\n\n")}\n`;
    });

  it("holds for random specs (property)", () => {
    fc.assert(
      fc.property(specArb, (markdown) => {
        const once = parseSpec(markdown).spec;
        const twice = parseSpec(renderSpec(once)).spec;
        expect(withoutPositions(twice)).toEqual(withoutPositions(once));
      }),
      { numRuns: 300 },
    );
  });

  it("keeps structure counts for random specs", () => {
    fc.assert(
      fc.property(specArb, (markdown) => {
        const spec: Spec = parseSpec(markdown).spec;
        const count = (nodes: SpecNode[]): number =>
          nodes.reduce(
            (k, n) => k + (n.kind === "section" ? 1 + count((n as Section).body) : 0),
            0,
          );
        const again = parseSpec(renderSpec(spec)).spec;
        expect(count(again.body)).toBe(count(spec.body));
        expect(rulesOf(again).flatMap(subrulesOf).length).toBe(
          rulesOf(spec).flatMap(subrulesOf).length,
        );
      }),
      { numRuns: 100 },
    );
  });
});
