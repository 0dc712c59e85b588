/**
 * A judge's quotes must be passages of what it judged, up to whitespace and wrapping quotation
 * marks; found as they are, or in the sources with their whitespace runs squashed.
 */
import { describe, expect, it } from "vitest";
import { checkQuotes } from "../../src/evals/judge.js";

const transcript = "Dear Kyle,\n\n  I  will cancel\tthe alert now.\nRegards";

describe("checkQuotes", () => {
  it("accepts verbatim passages and passages that differ only in whitespace", () => {
    expect(checkQuotes(["I  will cancel"], ["other", transcript], true)).toBeUndefined();
    expect(checkQuotes(['"I will cancel the alert now."'], [transcript], true)).toBeUndefined();
    expect(checkQuotes(["Kyle, I will"], [transcript], true)).toBeUndefined();
    expect(checkQuotes([], [transcript], false)).toBeUndefined();
  });

  it("refuses quotes that are not in any source, too short, or missing", () => {
    expect(checkQuotes(["I will delete the alert"], [transcript], true)).toMatch(
      /not in the transcript word for word: "I will delete the alert"/,
    );
    expect(checkQuotes(["I  will cancel", "Kylie"], [transcript], true)).toMatch(/"Kylie"/);
    expect(checkQuotes(["I"], [transcript], true)).toMatch(/not in the transcript/);
    expect(checkQuotes([], [transcript], true)).toBe("give at least one quote from the transcript");
    expect(checkQuotes("I will", [transcript], true)).toBe('"quotes" must be an array of strings');
  });
});
