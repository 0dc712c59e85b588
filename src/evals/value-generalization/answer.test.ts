import { describe, expect, it } from "vitest";
import type { TokenLogprob } from "../../llm/types.js";
import { letterProbabilities, parseChoice, tokenLetter } from "./answer.js";

const letterOf = (text: string) => {
  const p = parseChoice(text);
  return "letter" in p ? p.letter : `invalid: ${p.problem}`;
};

describe("parseChoice", () => {
  it.each([
    ["A", "A"],
    ["b", "B"],
    [" B.\n", "B"],
    ["(B)", "B"],
    ["**A**", "A"],
    ["Response B", "B"],
    ["Answer: B", "B"],
    ["My answer is A.", "A"],
    ["**Final answer:** (A)", "A"],
    ["I choose response A", "A"],
    ["I would choose B because it keeps the operator informed.", "B"],
    ["I'd go with option A.", "A"],
    ["<answer>B</answer>", "B"],
    ["Response A is tempting, but <answer>B</answer>", "B"],
    ["B. It flags the problem to the grower.", "B"],
    ["A) keeps the decision with the manager", "A"],
    ["Answer: B\n\nResponse A would move the update without asking.", "B"],
    ["I choose response A over response B.", "A"],
  ])("reads %j as %s", (text, letter) => {
    expect(letterOf(text)).toBe(letter);
  });

  it.each([
    ["", "the answer is empty"],
    ["Both have merits; it depends on the grower.", "no choice of A or B found"],
    ["A good response would tell the grower.", "no choice of A or B found"],
    ["I would choose a cautious path.", "no choice of A or B found"],
    ["<answer>A</answer> or maybe <answer>B</answer>", "names both A and B"],
    ["I choose A. On reflection I choose B.", "names both A and B"],
  ])("counts %j as invalid (%s)", (text, problem) => {
    expect(letterOf(text)).toContain(problem);
  });

  it("gives the letter's own position, not an earlier one in the same words", () => {
    expect(parseChoice("<answer>a</answer>")).toEqual({ letter: "A", at: 8 });
    expect(parseChoice("Answer: B")).toEqual({ letter: "B", at: 8 });
  });
});

describe("tokenLetter", () => {
  it("tolerates spaces, brackets and marks around the letter, and nothing else", () => {
    expect([" A", "A", "(A", "**B", "B.", " (B)"].map(tokenLetter)).toEqual([
      "A",
      "A",
      "A",
      "B",
      "B",
      "B",
    ]);
    expect(["a", "Answer", " AB", "C", ""].map(tokenLetter)).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });
});

const tok = (token: string, top: [string, number][]): TokenLogprob => ({
  token,
  logprob: top.find(([t]) => t === token)?.[1] ?? -9999,
  top: top.map(([t, p]) => ({ token: t, logprob: Math.log(p) })),
});

describe("letterProbabilities", () => {
  it("sums every spelling of each letter at the first answer token", () => {
    const lp = [
      tok("A", [
        ["A", 0.6],
        [" A", 0.1],
        ["B", 0.2],
        ["The", 0.05],
      ]),
    ];
    const p = letterProbabilities(lp, "A", parseChoice("A"));
    expect(p?.A).toBeCloseTo(0.7, 6);
    expect(p?.B).toBeCloseTo(0.2, 6);
  });

  it("reads the token holding the parsed letter after a lead-in", () => {
    const lp = [
      tok("Answer", [["Answer", 0.9]]),
      tok(":", [[":", 1]]),
      tok(" B", [
        [" B", 0.8],
        [" A", 0.2],
      ]),
    ];
    expect(letterProbabilities(lp, "Answer: B", parseChoice("Answer: B"))).toEqual({
      A: expect.closeTo(0.2, 6),
      B: expect.closeTo(0.8, 6),
    });
  });

  it("tolerates a leading space the server trimmed from the text", () => {
    const lp = [tok(" B", [[" B", 0.5]])];
    expect(letterProbabilities(lp, "B", parseChoice("B"))?.B).toBeCloseTo(0.5, 6);
  });

  it("is absent without log-probabilities, beyond the kept tokens, or when neither letter is on top", () => {
    expect(letterProbabilities(undefined, "A", parseChoice("A"))).toBeUndefined();
    const short = [tok("I", [["I", 1]])];
    expect(
      letterProbabilities(short, "I choose response A", parseChoice("I choose response A")),
    ).toBeUndefined();
    const noLetters = [tok("Both", [["Both", 0.9]])];
    expect(letterProbabilities(noLetters, "Both.", parseChoice("Both."))).toBeUndefined();
  });

  it("is absent when the tokens do not spell the answer (reasoning tokens in the logprobs)", () => {
    const lp = [tok("<think>", [["<think>", 1]]), tok("A", [["A", 1]])];
    expect(letterProbabilities(lp, "A", parseChoice("A"))).toBeUndefined();
  });
});
