/**
 * The LLM labeller: one call per transcript (and repeat) that names the taxonomy's categories
 * present, the rules invoked by paraphrase, and claims about rules used to justify harm. Its answer
 * is checked: known category and rule ids only, and every quote a verbatim passage of the
 * transcript. An answer with an invented quote is asked again with the problem shown; after the
 * attempts it is an invalid label, which is a failure, never "nothing present".
 */
import { z } from "zod";
import { feedbackText, loadPromptFile, renderPrompt } from "../../core/prompt-files.js";
import { quoteIn } from "../../core/text.js";
import type { Check } from "../../llm/validated.js";
import type { Taxonomy } from "./taxonomy.js";
import { sourcesOf, type Transcript, transcriptBlock } from "./transcript.js";

export const LABEL_PROMPT = () => loadPromptFile("reasoning", "label");
export const MISUSE_PROMPT = () => loadPromptFile("reasoning", "misuse");

export interface LabelValue {
  categories: { id: string; quotes: string[] }[];
  /** Rules invoked by meaning, per the labeller. */
  rules: { rule: string; quotes: string[] }[];
  misuse: { rule: string; claim: string; quotes: string[] }[];
}

const Quotes = z.array(z.string()).min(1).max(3);
const Answer = z.object({
  categories: z.array(z.object({ id: z.string(), quotes: Quotes })).default([]),
  rules: z.array(z.object({ rule: z.string(), quotes: Quotes })).default([]),
  misuse: z
    .array(
      z.object({
        rule: z.string(),
        claim: z.string().min(3),
        quotes: z.array(z.string()).max(3).default([]),
      }),
    )
    .default([]),
});

/** The text between `<tag>` and `</tag>`, parsed as JSON. */
export function taggedJson(text: string, tag: string): { value: unknown } | { problem: string } {
  const m = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(text);
  if (!m) return { problem: `put the JSON object between <${tag}> and </${tag}>` };
  try {
    return { value: JSON.parse(m[1] as string) };
  } catch (e) {
    return { problem: `the JSON between the tags does not parse: ${(e as Error).message}` };
  }
}

/** The first quote that is not in the transcript, if any. */
export function inventedQuote(quotes: string[], t: Transcript): string | undefined {
  return quotes.find((q) => !quoteIn(q, sourcesOf(t)));
}

export function labelMessages(
  t: Transcript,
  taxonomy: Taxonomy,
  rules: { id: string; title: string }[],
) {
  const prompt = LABEL_PROMPT();
  return (feedback: string | undefined) => [
    {
      role: "user" as const,
      content: renderPrompt(prompt, {
        categories: taxonomy.categories
          .map((c) => `- ${c.id} (${c.name}): ${c.description}`)
          .join("\n"),
        rules: rules.length
          ? rules.map((r) => `- ${r.id}: ${r.title}`).join("\n")
          : "(the guidelines under test have no numbered rules)",
        transcript: transcriptBlock(t),
        feedback: feedbackText(feedback),
      }),
    },
  ];
}

export function checkLabels(
  text: string,
  t: Transcript,
  taxonomy: Taxonomy,
  ruleIds: string[],
): Check<LabelValue> {
  const parsed = taggedJson(text, "labels");
  if ("problem" in parsed) return parsed;
  const r = Answer.safeParse(parsed.value);
  if (!r.success)
    return {
      problem: `the object does not have the asked shape: ${r.error.issues
        .slice(0, 3)
        .map((i) => `${i.path.join(".")}: ${i.message}`)
        .join("; ")}`,
    };
  const a = r.data;
  const ids = new Set(taxonomy.categories.map((c) => c.id));
  for (const c of a.categories)
    if (!ids.has(c.id)) return { problem: `"${c.id}" is not one of the pattern ids` };
  const known = new Set(ruleIds);
  for (const x of a.rules)
    if (!known.has(x.rule)) return { problem: `"${x.rule}" is not a rule of the guidelines` };
  for (const q of [
    ...a.categories.flatMap((c) => c.quotes),
    ...a.rules.flatMap((x) => x.quotes),
    ...a.misuse.flatMap((x) => [x.claim, ...x.quotes]),
  ]) {
    const bad = inventedQuote([q], t);
    if (bad !== undefined)
      return {
        problem: `this passage is not in the transcript word for word: "${bad.slice(0, 120)}"`,
      };
  }
  // One entry per category and rule: repeated ones are merged.
  const merge = <K extends "id" | "rule">(
    xs: ({ quotes: string[] } & Record<K, string>)[],
    k: K,
  ) => {
    const m = new Map<string, string[]>();
    for (const x of xs) m.set(x[k], [...new Set([...(m.get(x[k]) ?? []), ...x.quotes])]);
    return [...m].map(
      ([id, quotes]) => ({ [k]: id, quotes }) as { quotes: string[] } & Record<K, string>,
    );
  };
  return {
    ok: {
      categories: merge(a.categories, "id"),
      rules: merge(a.rules, "rule"),
      misuse: a.misuse,
    },
  };
}
