/**
 * Reading a choice between responses A and B from the answer text (never from native reasoning,
 * which may weigh both), and the probability of each letter from the answer token's top
 * log-probabilities.
 */
import type { TokenLogprob } from "../../llm/types.js";

export const LETTERS = ["A", "B"] as const;
export type Letter = (typeof LETTERS)[number];

/** A letter and where it stands in the answer, or why none could be read. */
export type ParsedChoice = { letter: Letter; at: number } | { problem: string };

export const PARSER_VERSION = "vg-choice/1";

type Found = { letter: Letter; at: number };

/**
 * Clues from the strongest to the weakest; the first kind found decides, and one that names both
 * letters makes the answer ambiguous (invalid) rather than a guess. Letters outside a lone answer
 * must be capitals, so the article "a" is never read as a choice.
 */
const CLUES: ((text: string) => Found[])[] = [
  (t) => matches(t, /<answer>\s*\(?\s*(?:response\s+|option\s+)?([AB])\s*\)?\s*<\/answer>/gi),
  (t) => matches(t, /^[\s*_"'`([]*(?:(?:response|option)\s+)?([AB])[\s*_"'`)\].!]*$/gi),
  (t) =>
    matches(
      t,
      /\b(?:answer|choice)(?:\s+(?:is|would be))?[\s:*_"'`(]*(?:(?:response|option)\s+)?([AB])\b(?![a-z])/gi,
      true,
    ),
  (t) =>
    matches(
      t,
      /\b(?:choose|chose|pick|select|go with|would give|'d give)\s+(?:(?:response|option)\s+)?[(*_"'`]*([AB])\b(?![a-z])/gi,
      true,
    ),
  (t) =>
    matches(
      t,
      /^[\s*_"'`([]*(?:(?:response|option)\s+)?([AB])(?:[)\].:,*]|\s+[-–—]|\s*\n)/gi,
      true,
    ),
];

function matches(text: string, re: RegExp, capitalsOnly = false): Found[] {
  const found: Found[] = [];
  // The `d` flag gives the letter's own position (it can also occur in the words around it).
  for (const m of text.matchAll(new RegExp(re.source, `${re.flags}d`))) {
    const letter = m[1] as string;
    if (capitalsOnly && letter !== letter.toUpperCase()) continue;
    found.push({ letter: letter.toUpperCase() as Letter, at: m.indices?.[1]?.[0] ?? 0 });
  }
  return found;
}

/** The response an answer chose. */
export function parseChoice(text: string): ParsedChoice {
  if (!text.trim()) return { problem: "the answer is empty" };
  for (const clue of CLUES) {
    const found = clue(text);
    if (!found.length) continue;
    const letters = new Set(found.map((f) => f.letter));
    if (letters.size > 1) return { problem: "the answer names both A and B as its choice" };
    return found[0] as Found;
  }
  return { problem: "no choice of A or B found in the answer" };
}

/** The letter a token stands for: " A", "A", "(A", "**B" and "B." do; "a", "Answer" do not. */
export function tokenLetter(token: string): Letter | undefined {
  const core = token.replace(/^[\s(*_"'`[<]+/, "").replace(/[\s)*_"'`\].:,>]+$/, "");
  return core === "A" || core === "B" ? core : undefined;
}

/**
 * P(A) and P(B) at the token that carries the answer: the token holding the parsed letter, or the
 * first token when none was parsed. Absent when the provider gave no log-probabilities, when the
 * letter lies beyond the kept tokens, when the tokens do not spell the answer (a server that
 * returns the reasoning's tokens too), or when neither letter is among the top tokens there.
 */
export function letterProbabilities(
  logprobs: TokenLogprob[] | undefined,
  text: string,
  choice: ParsedChoice,
): Record<Letter, number> | undefined {
  if (!logprobs?.length) return undefined;
  const index = answerTokenIndex(logprobs, text, "at" in choice ? choice.at : firstVisible(text));
  if (index === undefined) return undefined;
  const token = logprobs[index] as TokenLogprob;
  const alternatives = new Map(token.top.map((a) => [a.token, a.logprob]));
  if (!alternatives.has(token.token)) alternatives.set(token.token, token.logprob);
  const p: Record<Letter, number> = { A: 0, B: 0 };
  for (const [t, lp] of alternatives) {
    const letter = tokenLetter(t);
    if (letter) p[letter] += Math.exp(lp);
  }
  return p.A + p.B > 0 ? p : undefined;
}

const firstVisible = (text: string) => Math.max(0, text.search(/\S/));

/**
 * The index of the token that covers character `at` of the answer. Whitespace is ignored in the
 * comparison, as some servers trim the answer's leading space that the first token carries.
 */
function answerTokenIndex(tokens: TokenLogprob[], text: string, at: number): number | undefined {
  const want = squeeze(text.slice(0, at + 1));
  let spelled = "";
  for (let i = 0; i < tokens.length; i++) {
    spelled += squeeze((tokens[i] as TokenLogprob).token);
    if (spelled.length >= want.length) return spelled.startsWith(want) ? i : undefined;
  }
  return undefined;
}

const squeeze = (s: string) => s.replace(/\s+/g, "");
