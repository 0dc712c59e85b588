/**
 * Rule ids: capital letters then a number, optionally dotted (SP1, GP2, R3.1). Subrule ids add
 * the item's position (SP1.2). References are ids mentioned in prose.
 */
export const RULE_ID = /[A-Z]{1,5}\d+(?:\.\d+)*/;

const HEADING = new RegExp(
  `^(${RULE_ID.source})(?:\\s*[:.\\u2013\\u2014]\\s*|\\s+-\\s+|\\s*$)(.*)$`,
  "s",
);
const REFERENCE = new RegExp(`(?<![A-Za-z0-9.])(${RULE_ID.source})(?![A-Za-z0-9]|\\.\\d)`, "g");

/** `SP1: Do not …` → { id: "SP1", title: "Do not …" }; undefined for headings without an id. */
export function parseRuleHeading(text: string): { id: string; title: string } | undefined {
  const m = HEADING.exec(text.trim());
  if (!m) return undefined;
  return { id: m[1] as string, title: (m[2] ?? "").trim() };
}

/** The letters of an id (`SP` for `SP1.2`). */
export function idPrefix(id: string): string {
  return /^[A-Z]+/.exec(id)?.[0] ?? "";
}

/** Ids mentioned in a text, with their offsets. */
export function findReferences(text: string): { id: string; index: number }[] {
  const out: { id: string; index: number }[] = [];
  for (const m of text.matchAll(REFERENCE)) out.push({ id: m[1] as string, index: m.index ?? 0 });
  return out;
}
