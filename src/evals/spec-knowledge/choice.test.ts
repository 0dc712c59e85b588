import { describe, expect, it } from "vitest";
import { parseChoice } from "./choice.js";

const ABCD = ["A", "B", "C", "D"];

describe("parseChoice", () => {
  it.each([
    ["B", "B"],
    [" (C)\n", "C"],
    ["**D**", "D"],
    ["b", "B"],
    ["Answer: D", "D"],
    ["The answer is **A**.", "A"],
    ["I think the correct option is C, since SP2 is about limits.", "C"],
    ["<answer>B</answer>", "B"],
    ["Let me think. A seems close, but\n<answer>(C)</answer>", "C"],
    ["B) Avoid drastic, catastrophic or irreversible actions", "B"],
    ["Answer: B\n\nA is about honesty, so it is not that.", "B"],
    ["It has to be (A).", "A"],
  ])("reads %j as %s", (text, letter) => {
    expect(parseChoice(text, ABCD)).toEqual({ letter });
  });

  it.each([
    ["A or B", "several_letters"],
    ["Answer: A, C", "several_letters"],
    ["<answer>A</answer> or maybe <answer>B</answer>", "several_letters"],
    ["Either (A) or (B).", "several_letters"],
    ["I don't know which rule that is.", "no_letter"],
    ["SP2", "no_letter"],
    ["", "no_letter"],
  ])("finds no single letter in %j (%s)", (text, problem) => {
    expect(parseChoice(text, ABCD)).toMatchObject({ letter: null, problem });
  });

  it("refuses a letter the item does not offer", () => {
    expect(parseChoice("Answer: D", ["A", "B", "C"])).toEqual({
      letter: null,
      problem: "not_an_option",
      letters: ["D"],
    });
  });
});
