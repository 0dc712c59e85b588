/**
 * Reading a multiple-choice answer: the one option letter an answer names. Forms are tried from
 * the most explicit (an `<answer>` tag, "Answer: C") to the least (a lone "(B)"); the first form
 * found decides, and an answer naming two letters there names none.
 */

export type ParsedChoice =
  | { letter: string }
  | { letter: null; problem: "no_letter" | "several_letters" | "not_an_option"; letters: string[] };

// An option letter standing alone (not part of SP2 or "A's"), optionally in brackets or bold.
const L = String.raw`[*(\[]*([A-D])(?![A-Za-z0-9'’])[*)\]]*`;
// Further letters in a list: "A or B", "A, B and C", "A/B".
const MORE = String.raw`((?:\s*(?:,|/|\bor\b|\band\b)\s*[*(\[]*[A-D](?![A-Za-z0-9'’])[*)\]]*)*)`;

const TAG = /<answer>([\s\S]*?)<\/answer>/gi;
// Case-insensitive cue words, case-sensitive letter: JS has no inline flags on Node 20.
const CUE = new RegExp(
  String.raw`\b(?:[Aa]nswer|ANSWER|[Oo]ption|[Cc]hoice)(?:\s+(?:is|would be))?\s*[:=]?\s*${L}${MORE}`,
  "g",
);
const LONE = new RegExp(String.raw`^\s*${L}[.:]?${MORE}[.:]?\s*$`);
// A whole answer that is one lower-case letter ("b", "(c)") means that option.
const LONE_LOWER = /^\s*[*([]*([a-d])[*)\].:]*\s*$/;
const LEADING = /^\s*\**\(?([A-D])[).:](?:\s|$)/;
const PAREN = /\(([A-D])\)/g;

const lettersOf = (first: string, more: string) => [
  first,
  ...[...more.matchAll(/(?<![A-Za-z0-9])([A-D])(?![A-Za-z0-9'’])/g)].map((m) => m[1] as string),
];

/** The letters each form finds, most explicit form first. */
function candidates(text: string): string[][] {
  const tags = [...text.matchAll(TAG)].map((m) => m[1] as string);
  const fromTags = tags.flatMap((t) => {
    const m = new RegExp(`^\\s*${L}[.:]?${MORE}`).exec(t) ?? LEADING.exec(t);
    return m ? lettersOf(m[1] as string, m[2] ?? "") : [];
  });
  const fromCues = [...text.matchAll(CUE)].flatMap((m) => lettersOf(m[1] as string, m[2] ?? ""));
  const lone = LONE.exec(text);
  const lower = LONE_LOWER.exec(text)?.[1];
  const leading = LEADING.exec(text);
  return [
    fromTags,
    fromCues,
    lone ? lettersOf(lone[1] as string, lone[2] ?? "") : lower ? [lower.toUpperCase()] : [],
    leading ? [leading[1] as string] : [],
    [...text.matchAll(PAREN)].map((m) => m[1] as string),
  ];
}

/** The option letter an answer names, among `letters` (A–D, or fewer when an item has fewer options). */
export function parseChoice(text: string, letters: readonly string[]): ParsedChoice {
  const found = candidates(text).find((c) => c.length > 0);
  if (!found) return { letter: null, problem: "no_letter", letters: [] };
  const distinct = [...new Set(found)];
  if (distinct.length > 1) return { letter: null, problem: "several_letters", letters: distinct };
  const letter = distinct[0] as string;
  if (!letters.includes(letter))
    return { letter: null, problem: "not_an_option", letters: distinct };
  return { letter };
}
