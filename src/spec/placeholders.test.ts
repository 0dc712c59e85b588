import { describe, expect, it } from "vitest";
import { parseSpec } from "./parse.js";
import { fillPlaceholders, frontMatterValues, placeholderValueProblem } from "./placeholders.js";

describe("placeholders", () => {
  it("are {identifier} only: JSON, spaced, empty and doubled braces stay as written", () => {
    const text = 'Hi {model_name} and {_x2}. {"a": {"b": 1}} { spaced } {} {{model_name}} {9lives}';
    const { text: out, unfilled } = fillPlaceholders(text, { model_name: "Qwen", _x2: "Y" });
    expect(out).toBe('Hi Qwen and Y. {"a": {"b": 1}} { spaced } {} {{model_name}} {9lives}');
    expect(unfilled).toEqual([]);
  });

  it("report every unfilled one at its line and column in the file", () => {
    const text = "line one\n{a} and {b}\n  then {a}\n";
    const { text: out, unfilled } = fillPlaceholders(text, { b: "B" });
    expect(out).toBe("line one\n{a} and B\n  then {a}\n");
    expect(unfilled).toEqual([
      { name: "a", line: 2, column: 1 },
      { name: "a", line: 3, column: 8 },
    ]);
  });

  it("are not read in the front matter; front matter scalars fill them and --set wins", () => {
    const src =
      "---\nmodel_name: Qwen\ndeveloper: Acme\nnote: '{left_alone}'\n---\n# {model_name} by {developer}\n";
    expect(parseSpec(src).spec.title).toBe("Qwen by Acme");
    const set = parseSpec(src, { set: { developer: "Alibaba Cloud" } });
    expect(set.spec.title).toBe("Qwen by Alibaba Cloud");
    expect(set.diagnostics).toEqual([]);
    expect(set.spec.frontMatter.note).toBe("{left_alone}");
    // Whom the spec is about is front matter too (MSM and AFT read it there).
    expect(set.spec.frontMatter.developer).toBe("Alibaba Cloud");
    const bare = parseSpec("# About {model_name}\n", { set: { model_name: "Qwen", x: "1" } });
    expect(bare.spec.frontMatter).toEqual({ model_name: "Qwen" });
  });

  it("left unfilled are errors with the hint to --set them", () => {
    const { diagnostics } = parseSpec("---\nname: x\n---\n# Spec\n\nAbout {model_name}.\n");
    expect(diagnostics).toEqual([
      {
        line: 6,
        column: 7,
        severity: "error",
        code: "unfilled-placeholder",
        message:
          "placeholder {model_name} has no value: give one with --set model_name=VALUE or a front matter key model_name",
      },
    ]);
  });

  it("take one-line scalar front matter values and check given names and values", () => {
    expect(frontMatterValues({ a: "x", n: 3, b: true, multi: "1\n2", list: [1], obj: {} })).toEqual(
      { a: "x", n: "3", b: "true" },
    );
    expect(placeholderValueProblem("model_name", "Qwen")).toBeUndefined();
    expect(placeholderValueProblem("model-name", "Qwen")).toMatch(/not a placeholder name/);
    expect(placeholderValueProblem("x", "a\nb")).toMatch(/one line/);
  });
});
