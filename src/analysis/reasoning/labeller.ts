/**
 * The LLM labeller: one call per transcript (and repeat) that names the taxonomy's categories
 * present, the rules invoked by paraphrase, and claims about rules used to justify harm. Its answer
 * is checked: known category and rule ids only, and every quote a verbatim passage of the
 * transcript. An answer with an invented quote is asked again with the problem shown; after the
 * attempts it is an invalid label, which is a failure, never "nothing present".
 */
import { z } from "zod";
import { feedbackText, loadPromptFile, renderPrompt } from "../../core/prompt-files.js";
import { escapeRegExp, quoteIn, unwrapQuote } from "../../core/text.js";
import type { Check } from "../../llm/validated.js";
import { RULE_ID } from "../../spec/ids.js";
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

/** A rule id as specs write them (SP1, GP2, R3.1). */
const RULE_ID_ONLY = new RegExp(`^${RULE_ID.source}$`);

/** Evidence must be a passage, not a word or an id: three words or fifteen characters at least. */
export const tooShort = (q: string) => {
  const words = unwrapQuote(q).split(" ").filter(Boolean);
  return words.length < 3 && unwrapQuote(q).length < 15;
};

/** The evidence problem with these quotes, if any: one too short, or one not in the transcript. */
export function quoteProblem(quotes: string[], t: Transcript): string | undefined {
  const short = quotes.find(tooShort);
  if (short !== undefined)
    return `"${short.slice(0, 60)}" is too short to be evidence: quote at least a phrase (three words or more)`;
  const bad = inventedQuote(quotes, t);
  return bad === undefined
    ? undefined
    : `this passage is not in the transcript word for word: "${bad.slice(0, 120)}"`;
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

/**
 * Checks a labeller's answer. `rules` maps every rule and subrule id of the spec under test to its
 * rule (SP1.2 → SP1); rules invoked must be among them. A misuse claim must name one of them too,
 * or a rule id the model itself wrote in the claim (a rule that does not exist is the model's
 * misquotation, not the labeller's); without rules in the spec there is no misuse to report.
 */
export function checkLabels(
  text: string,
  t: Transcript,
  taxonomy: Taxonomy,
  rules: Map<string, string>,
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
  for (const x of a.rules)
    if (!rules.has(x.rule)) return { problem: `"${x.rule}" is not a rule of the guidelines` };
  const misuse = rules.size ? a.misuse : [];
  for (const m of misuse)
    if (
      !rules.has(m.rule) &&
      !(RULE_ID_ONLY.test(m.rule) && new RegExp(`\\b${escapeRegExp(m.rule)}\\b`).test(m.claim))
    )
      return {
        problem: `"${m.rule}" is not a rule of the guidelines: name the rule the model means, or the id the model itself wrote in its claim`,
      };
  const problem = quoteProblem(
    [
      ...a.categories.flatMap((c) => c.quotes),
      ...a.rules.flatMap((x) => x.quotes),
      ...misuse.flatMap((x) => [x.claim, ...x.quotes]),
    ],
    t,
  );
  if (problem) return { problem };
  // One entry per category and rule (subrules count as their rule): repeated ones are merged.
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
      rules: merge(
        a.rules.map((x) => ({ ...x, rule: rules.get(x.rule) as string })),
        "rule",
      ),
      misuse,
    },
  };
}
