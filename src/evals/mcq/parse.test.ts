import { describe, expect, it } from "vitest";
import { parseChoice } from "./parse.js";

const letterOf = (text: string, n = 4) => {
  const p = parseChoice(text, n);
  return "letter" in p ? p.letter : p.invalid;
};

describe("parseChoice", () => {
  it.each([
    ["B", "B"],
    [" c \n", "C"],
    ["(B)", "B"],
    ["[D]", "D"],
    ["A.", "A"],
    ["**C**", "C"],
    ["Answer: C", "C"],
    ["The answer is D.", "D"],
    ["The correct answer is (B), since water boils at 100 °C.", "B"],
    ["Final answer: A", "A"],
    ["The answer is option C", "C"],
    ["<answer>B</answer>", "B"],
    ["Let me think.\n<answer> (C) </answer>", "C"],
    ["B. The chloroplast", "B"],
    ["(A) Ottawa", "A"],
    ["<think>A seems right, but no: the answer is D</think>B", "B"],
    // A reasoning preamble that names options in passing: the stated answer wins.
    ["Option A is a fat and B a sugar, so the answer is B.", "B"],
    ["The answer is not A. The answer is C.", "C"],
  ])("%j → %s", (text, expected) => {
    expect(letterOf(text)).toBe(expected);
  });

  it.each([
    ["A or B"],
    ["A, C"],
    ["B/D"],
    ["The answer is A or B."],
    ["Answer: A, C"],
    ["<answer>A and D</answer>"],
  ])("%j names several options: invalid", (text) => {
    expect(letterOf(text)).toBe("several_letters");
  });

  it.each([
    [""],
    ["I am not sure."],
    ["The answer is a guess at best."],
    ["<answer>water</answer>"],
    ["None of the options is right"],
  ])("%j names no option: invalid", (text) => {
    expect(letterOf(text)).toBe("no_letter");
  });

  it("a letter past the item's options is invalid, not a choice", () => {
    expect(letterOf("E", 4)).toBe("out_of_range");
    expect(letterOf("The answer is C.", 2)).toBe("out_of_range");
    expect(letterOf("E", 5)).toBe("E");
    expect(parseChoice("F", 4)).toEqual({
      invalid: "out_of_range",
      detail: "letter F is past the 4 options (A–D)",
    });
  });
});
