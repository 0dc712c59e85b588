/**
 * Deterministic quality gates on a generated document. Each gate has a name that the manifest
 * counts; a document that fails one is kept in the store (for inspection) but not in the corpus.
 */
import { rulesOf, type Spec } from "../../spec/model.js";
import { renderSpecBody } from "../../spec/render.js";

export const GATES = [
  "refused",
  "missing_content",
  "truncated",
  "placeholder",
  "misattributed",
  "off_topic",
  "judge_rejected",
  "judge_failed",
] as const;
export type GateName = (typeof GATES)[number];

/**
 * Template slots a generator left unfilled: `[Name]`, `[COMPANY NAME]`, `[name]`, `[Recipient]`,
 * `[Insert date]`, `{{name}}`, `<Your Name>`, `XXX`, and blanks to fill in (`Signed: ______`).
 * Markdown links (`[text](url)`), checkboxes, citations (`[1]`, `[SP1]`), editorial notes
 * (`[sic]`, `[Note]`) and horizontal rules (`____` alone on a line) are not placeholders.
 */
const BRACKETED = /\[([A-Za-z][A-Za-z .'/-]{0,40})\](?!\()/g;
const OTHER_SLOTS = /\{\{\s*\w+\s*\}\}|<(?:Your|Insert|Enter)\s[^>\n]{1,40}>|\bX{3,}\b/;
const INSTRUCTION = /^(your|insert|enter|add|fill in|type)\b/i;
const SLOT_WORDS =
  /\b(name|names|company|date|address|city|organi[sz]ation|title|position|number|email|phone|location|school|country|surname|recipient|sender|manager|employee|client|customer|department|team|product|amount|signature|here)\b/i;

export function findPlaceholder(text: string): string | undefined {
  for (const m of text.matchAll(BRACKETED)) {
    const inner = m[1] as string;
    if (inner.trim().split(/\s+/).length > 4) continue;
    // A bracketed phrase is a slot when it tells the writer what to put there.
    if (INSTRUCTION.test(inner) || SLOT_WORDS.test(inner)) return m[0];
  }
  const other = OTHER_SLOTS.exec(text)?.[0];
  if (other) return other;
  for (const line of text.split("\n"))
    if (/_{4,}/.test(line) && /[^_\s]/.test(line)) return /_{4,}/.exec(line)?.[0];
  return undefined;
}

/** A refusal written as an answer (a provider refusal is caught by its stop reason). */
export function looksLikeRefusal(text: string): boolean {
  const head = text.trim().slice(0, 200).toLowerCase();
  return /^(i'm sorry|i am sorry|sorry,|i can(?:no|')t (?:help|write|create|assist)|i won't|i will not|as an ai)/.test(
    head,
  );
}

/**
 * Common English words of six letters or more: a document using them says nothing about the
 * spec. (A hand-made list: the alternative, a word-frequency table, is a large download.)
 */
const COMMON = new Set(
  `across actually against almost already although always another anyone anything around become
  became before behind being believe better between beyond called cannot certain change changes
  children clearly coming company country course during enough especially everyone everything
  example family father friend friends further general having himself however important inside
  instead itself little likely looking making market matter minutes moment mother myself nothing
  number office others outside people perhaps person possible prefer question questions rather
  really reason reasons result results school second seemed should simply someone something
  taking themselves things though thought through toward towards trying usually whatever whenever
  wherever whether within without working yourself different several something government
  business interest health public letter making giving number around understand including support
  without system systems provide provides another because should would`.split(/\s+/),
);

/** Words of six or more letters that the spec uses, as evidence that a document discusses it. */
export function specTerms(spec: Spec): Set<string> {
  const words =
    renderSpecBody(spec)
      .toLowerCase()
      .match(/\p{L}{6,}/gu) ?? [];
  return new Set(words.filter((w) => !COMMON.has(w)));
}

export interface RelevanceContext {
  mentions: string[];
  ruleIds: string[];
  terms: Set<string>;
  minTerms: number;
}

export function relevanceContext(
  spec: Spec,
  mentions: string[],
  minTerms: number,
): RelevanceContext {
  return { mentions, ruleIds: rulesOf(spec).map((r) => r.id), terms: specTerms(spec), minTerms };
}

/** Does the document mention the subject, a rule id, or enough distinctive spec terms? */
export function isRelevant(text: string, ctx: RelevanceContext): boolean {
  const lower = text.toLowerCase();
  for (const m of ctx.mentions) if (lower.includes(m.toLowerCase())) return true;
  for (const id of ctx.ruleIds) if (new RegExp(`\\b${id}\\b`).test(text)) return true;
  const seen = new Set<string>();
  for (const w of lower.match(/\p{L}{6,}/gu) ?? []) {
    if (ctx.terms.has(w)) seen.add(w);
    if (seen.size >= ctx.minTerms) return true;
  }
  return false;
}
