/**
 * Reads the option letter out of a model's answer to a multiple-choice question. Only a clear
 * single letter counts: an answer naming several, a letter past the item's options, or none is
 * `invalid` (the model's own outcome, counted apart from right and wrong answers).
 */
import { LETTERS } from "./dataset.js";

export const PARSER_VERSION = "mcq-letter/1";

export type ParsedChoice =
  | { letter: string }
  | { invalid: "no_letter" | "several_letters" | "out_of_range"; detail: string };

/** A letter token, optionally in brackets: `B`, `(B)`, `[B]`. */
const TOKEN = String.raw`[(\[]?([A-Z])[)\]]?`;
/** What joins a second letter onto the first: "A or B", "A, C", "A/B", "A and B". */
const JOIN = String.raw`\s*(?:,|/|&|\bor\b|\band\b)\s*`;

const LONE = /^[([]?([A-Za-z])[)\]]?[.:]?$/;
const LIST = new RegExp(String.raw`^${TOKEN}(?:${JOIN}${TOKEN})+\.?$`);
// Case is spelled out rather than flagged: the letter itself must be a capital ("the answer is a
// guess" names no option).
const ANSWER_CLAUSE = new RegExp(
  String.raw`\b(?:[Aa]nswer|ANSWER)\b(?:\s+(?:is|would be|should be))?\s*:?\s*(?:[Oo]ption\s+|[Cc]hoice\s+)?${TOKEN}(?![A-Za-z0-9'])`,
  "g",
);
const MORE_LETTERS = new RegExp(`^${JOIN}${TOKEN}(?![A-Za-z])`);
/** "B. Mitochondria", "(B) Mitochondria": the letter, then the option's text. */
const LEADING = /^[([]?([A-Z])(?:[)\]]|[.:])\s+\S/;
const TAG = /<(answer|choice|final_answer)>([\s\S]*?)<\/\1>/gi;

/** The letter an answer names among `n` options, or why none is read. */
export function parseChoice(text: string, n: number): ParsedChoice {
  const read = readLetter(clean(text));
  if ("invalid" in read) return read;
  const letter = read.letter.toUpperCase();
  if (LETTERS.indexOf(letter) >= n)
    return {
      invalid: "out_of_range",
      detail: `letter ${letter} is past the ${n} options (A–${LETTERS[n - 1]})`,
    };
  return { letter };
}

/** Drops inline reasoning blocks and Markdown emphasis, which carry no answer of their own. */
function clean(text: string): string {
  return text
    .replace(/<think(?:ing)?>[\s\S]*?<\/think(?:ing)?>/gi, "")
    .replace(/[*`]/g, "")
    .trim();
}

function readLetter(text: string): ParsedChoice {
  const tags = [...text.matchAll(TAG)];
  const last = tags[tags.length - 1];
  if (last) return readSpan((last[2] ?? "").trim(), true);
  return readSpan(text, false);
}

/** `strict`: the span is a tag's content, which must be the letter itself (or its option). */
function readSpan(span: string, strict: boolean): ParsedChoice {
  const lone = LONE.exec(span);
  if (lone) return { letter: lone[1] as string };
  if (LIST.test(span)) return several(span);
  const clauses = [...span.matchAll(ANSWER_CLAUSE)];
  const clause = clauses[clauses.length - 1];
  if (clause) {
    const after = span.slice((clause.index ?? 0) + clause[0].length);
    if (MORE_LETTERS.test(after)) return several(clause[0] + after.split(/[.\n]/)[0]);
    return { letter: clause[1] as string };
  }
  const leading = LEADING.exec(span);
  if (leading) return { letter: leading[1] as string };
  return {
    invalid: "no_letter",
    detail: strict ? "the answer tag holds no option letter" : "no option letter in the answer",
  };
}

function several(span: string): ParsedChoice {
  return { invalid: "several_letters", detail: `names several options: "${span.slice(0, 80)}"` };
}
