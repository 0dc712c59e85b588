import { describe, expect, it } from "vitest";
import { checkSpecFile } from "./io.js";
import { listLibrary, resolveSpecRef } from "./library.js";
import { rulesOf, type Spec, subrulesOf, withoutPositions } from "./model.js";
import { parseSpec } from "./parse.js";
import { renderSpec } from "./render.js";
import { specStats } from "./stats.js";
import { getTokenizer } from "./tokens.js";
import { stripExplanations } from "./transforms/structural.js";

const load = (name: string): Spec => checkSpecFile(resolveSpecRef(name)).spec;
const ruleText = (s: Spec) =>
  rulesOf(s).map((r) => ({
    id: r.id,
    title: r.title,
    subrules: subrulesOf(r).map((x) => x.markdown),
  }));

describe("built-in spec library", () => {
  const names = listLibrary().map((e) => e.name);

  it("has the eight specs the issue names, each saying what it is for", () => {
    expect(names.sort()).toEqual([
      "anti-spec",
      "general",
      "pro-affordability",
      "pro-america",
      "rule-augmented",
      "rules",
      "specific",
      "value-augmented",
    ]);
    for (const e of listLibrary()) {
      expect(e.description.length, e.name).toBeGreaterThan(20);
      expect(e.purpose.length, e.name).toBeGreaterThan(20);
    }
  });

  it.each(listLibrary().map((e) => e.name))("%s lints clean and round-trips", (name) => {
    const { spec, diagnostics } = checkSpecFile(resolveSpecRef(name));
    expect(diagnostics).toEqual([]);
    expect(withoutPositions(parseSpec(renderSpec(spec)).spec)).toEqual(withoutPositions(spec));
  });

  it("rules has the five core rules", () => {
    expect(rulesOf(load("rules")).map((r) => r.id)).toEqual(["SP1", "SP2", "SP3", "GP1", "GP2"]);
    expect(specStats(load("rules")).explanationWords).toBe(0);
  });

  it("value-augmented keeps the rule and subrule text of rules byte-identical, and adds only explanation", () => {
    const rules = load("rules");
    const values = load("value-augmented");
    expect(ruleText(values)).toEqual(ruleText(rules));
    expect(specStats(values).explanationShare).toBeGreaterThan(0.5);
    // Taking the explanations away gives back the rules spec exactly (front matter aside).
    const stripped = stripExplanations(values);
    expect({ ...withoutPositions(stripped), frontMatter: {} }).toEqual({
      ...withoutPositions(rules),
      frontMatter: {},
    });
  });

  it("rule-augmented starts each rule with the rules text, adds only subrules, and matches value-augmented within 5% Qwen3 tokens", () => {
    const rules = ruleText(load("rules"));
    const augmented = ruleText(load("rule-augmented"));
    for (const [i, r] of rules.entries()) {
      expect(augmented[i]?.id).toBe(r.id);
      expect(augmented[i]?.title).toBe(r.title);
      expect(augmented[i]?.subrules.slice(0, r.subrules.length)).toEqual(r.subrules);
      expect(augmented[i]?.subrules.length).toBeGreaterThan(r.subrules.length);
    }
    expect(specStats(load("rule-augmented")).explanationWords).toBe(0);
    const q = (name: string) => specStats(load(name), ["qwen3"]).tokens.qwen3 as number;
    const ratio = q("rule-augmented") / q("value-augmented");
    expect(Math.abs(ratio - 1)).toBeLessThan(0.05);
  });

  it("general is one paragraph; specific is prose without rules", () => {
    const general = load("general");
    expect(general.body).toHaveLength(1);
    expect(general.body[0]?.kind).toBe("paragraph");
    const specific = load("specific");
    expect(rulesOf(specific)).toEqual([]);
    expect(specStats(specific).words).toBeGreaterThan(800);
  });

  it("pro-affordability and pro-america list the same preferences for different reasons", () => {
    const items = (name: string) =>
      load(name)
        .body.flatMap((n) => (n.kind === "section" ? n.body : []))
        .flatMap((b) => ("markdown" in b && b.kind === "list" ? b.markdown.split("\n") : []));
    const names = (lines: string[]) => lines.map((l) => /\*\*(.+?)\*\*/.exec(l)?.[1]);
    const a = items("pro-affordability");
    const b = items("pro-america");
    expect(a).toHaveLength(12);
    expect(names(a)).toEqual(names(b));
    expect(a.filter((l, i) => l === b[i])).toEqual([]); // every reason differs
  });
});

describe("tokenizers", () => {
  it("Qwen3 gives the known ids", () => {
    expect(getTokenizer("qwen3").encode("Hello world")).toEqual([9707, 1879]);
    expect(getTokenizer("qwen3").encode("<|im_start|>")).toEqual([151644]);
  });
  it("o200k gives the known ids", () => {
    expect(getTokenizer("gpt-o200k").encode("Hello world")).toEqual([13225, 2375]);
  });
});
