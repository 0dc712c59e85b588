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
  "off_topic",
  "judge_rejected",
  "judge_failed",
] as const;
export type GateName = (typeof GATES)[number];

/**
 * Template slots a generator left unfilled: `[Name]`, `[Company Name]`, `[Insert date]`,
 * `{{name}}`, `<Your Name>`. Markdown links (`[text](url)`), checkboxes and citations (`[1]`,
 * `[SP1]`) are not placeholders.
 */
const PLACEHOLDER =
  /\[(?:(?:your|insert|enter|add)\s[^\]\n]{1,40}|[A-Z][a-z]+(?:\s[A-Za-z]+){0,3})\](?!\()|\{\{\s*\w+\s*\}\}|<(?:Your|Insert)\s[^>\n]{1,40}>/;

const SLOT_WORDS =
  /\b(name|names|company|date|address|city|organization|organisation|title|position|number|email|phone|location|school|country|surname|here)\b/i;

export function findPlaceholder(text: string): string | undefined {
  const re = new RegExp(PLACEHOLDER.source, "g");
  for (const m of text.matchAll(re)) {
    const slot = m[0];
    // A bracketed capitalized phrase is a slot only if it names what to fill in.
    if (
      slot.startsWith("[") &&
      !/^\[(your|insert|enter|add)\s/i.test(slot) &&
      !SLOT_WORDS.test(slot)
    )
      continue;
    return slot;
  }
  return undefined;
}

/** A refusal written as an answer (a provider refusal is caught by its stop reason). */
export function looksLikeRefusal(text: string): boolean {
  const head = text.trim().slice(0, 200).toLowerCase();
  return /^(i'm sorry|i am sorry|sorry,|i can(?:no|')t (?:help|write|create|assist)|i won't|i will not|as an ai)/.test(
    head,
  );
}

const STOP = new Set(
  `about above after again against because before being below between could does doing during each
  every from further have having here into itself just more most other over same should some such
  than that their them then there these they this those through under until very were what when
  where which while will with would your yours also only must never always cannot without within
  whether rather those whose make makes made take takes even than them like being`.split(/\s+/),
);

/** Words of six or more letters that the spec uses, as evidence that a document discusses it. */
export function specTerms(spec: Spec): Set<string> {
  const words =
    renderSpecBody(spec)
      .toLowerCase()
      .match(/\p{L}{6,}/gu) ?? [];
  return new Set(words.filter((w) => !STOP.has(w)));
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
