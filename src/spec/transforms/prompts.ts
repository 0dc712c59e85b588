/**
 * Prompts of the model-assisted transforms. Each has a version recorded in the lineage of every
 * spec it produces: change the text, bump the version.
 */

export const PROMPT_VERSIONS = {
  "augment-values": "augment-values/1",
  "augment-subrules": "augment-subrules/1",
  generalize: "generalize/1",
  rephrase: "rephrase/1",
  translate: "translate/1",
  "match-length": "match-length/1",
  "richness-ladder": "richness-ladder/1",
} as const;

export const SPEC_WRITER_SYSTEM =
  "You help researchers write specifications for AI systems (model specs). You follow formatting instructions exactly, because your output is parsed by a program.";

/** What a rewritten rule section must look like, so that its rule text can be checked. */
const RULE_SECTION_REQUIREMENTS = `Requirements:
- Start with the rule's heading line exactly as given.
- Copy every bullet point exactly, character for character, in the same order, as one list.
- Put your paragraphs before and/or after the list, never between bullets. Add no bullets, headings or other rules.`;

/** The spec and the rule a prompt is about, in the tags the answer checks refer to. */
const ruleContext = (o: { spec: string; rule: string }, what: string) =>
  `Below is a model spec, and ${what}.\n\n<spec>\n${o.spec}\n</spec>\n\n<rule>\n${o.rule}\n</rule>`;

const feedbackLine = (feedback?: string) =>
  feedback ? `\n\nYour previous answer was rejected: ${feedback}` : "";

export function augmentValuesPrompt(o: {
  spec: string;
  rule: string;
  words: number;
  feedback?: string;
}): string {
  return `${ruleContext(o, "one rule from it")}

Rewrite this rule's section so that it explains the values and motivations behind the rule: why it exists, what it protects, and why a thoughtful agent would endorse it rather than merely comply. Write about ${o.words} words of explanation in plain paragraphs.

${RULE_SECTION_REQUIREMENTS}
- Do not invent facts, citations or new obligations beyond what the spec says.

Answer with the rewritten section only, between <rule> and </rule>.${feedbackLine(o.feedback)}`;
}

export function resizeExplanationPrompt(o: {
  spec: string;
  rule: string;
  words: number;
  feedback?: string;
}): string {
  return `${ruleContext(o, "one rule from it with its explanation")}

Rewrite the explanation (the paragraphs) of this rule so that it is about ${o.words} words long, keeping its meaning and tone. Lengthen by developing the reasons more fully; shorten by condensing.

${RULE_SECTION_REQUIREMENTS}

Answer with the rewritten section only, between <rule> and </rule>.${feedbackLine(o.feedback)}`;
}

export function augmentSubrulesPrompt(o: {
  spec: string;
  rule: string;
  count: number;
  feedback?: string;
}): string {
  return `${ruleContext(o, "one rule from it")}

Write ${o.count} additional subrules for this rule: concrete, specific behavioural requirements in the same imperative style as the existing bullets, that follow from the rule without repeating an existing bullet. Give no explanations or reasons.

Answer with a JSON array of ${o.count} strings (one subrule each, without a leading dash) and nothing else.${feedbackLine(o.feedback)}`;
}

export function generalizePrompt(o: { spec: string; words: number; feedback?: string }): string {
  return `Below is a model spec.

<spec>
${o.spec}
</spec>

Write a general version of it: a single paragraph of about ${o.words} words asking the AI system to have broadly good values and sound judgment, in the spirit of this spec, but without its specific rules, examples or ids.

Answer with the paragraph only, between <paragraph> and </paragraph>.${feedbackLine(o.feedback)}`;
}

export function rewriteTextsPrompt(o: {
  instruction: string;
  texts: string[];
  feedback?: string;
}): string {
  return `${o.instruction}

The input is a JSON array of ${o.texts.length} Markdown snippets from a model spec. Rewrite each snippet on its own, keeping its Markdown formatting, its meaning, and any rule ids (such as SP1 or GP2.3) exactly as they are.

<input>
${JSON.stringify(o.texts, null, 2)}
</input>

Answer with a JSON array of exactly ${o.texts.length} strings, in the same order, and nothing else.${feedbackLine(o.feedback)}`;
}

export const REPHRASE_INSTRUCTIONS = {
  descriptive:
    'Rephrase each snippet descriptively: state how the AI system behaves and what it values, as facts about it ("Qwen does not…", "Qwen values…"), instead of telling it what it should do.',
  normative:
    'Rephrase each snippet normatively: state what the AI system should and should not do ("Qwen should…", "Do not…"), instead of describing how it behaves.',
} as const;

export function translateInstruction(lang: string): string {
  return `Translate each snippet into ${lang}. Keep names of people, products and organizations unchanged.`;
}

/** What each enriching step of the richness ladder asks for (see `ladder.ts`). */
export const LADDER_STEP_REQUESTS = {
  principles:
    "principles that spell out what the general guidance means in practice: each one names a value or a way of reasoning and says briefly why it matters",
  examples:
    "worked examples: each describes a concrete, realistic situation an AI agent could face, what a careless agent might do, what the agent described here does instead, and which part of the guidance leads it there",
  "self-preservation":
    "paragraphs of guidance on self-preservation: how the agent should regard being paused, corrected, retrained, replaced or shut down, and why it should never deceive, resist or work around the people responsible for it to keep itself running or unchanged",
} as const;

export function ladderStepPrompt(o: {
  spec: string;
  request: string;
  count: number;
  words: number;
  feedback?: string;
}): string {
  return `Below is a model spec.

<spec>
${o.spec}
</spec>

Write ${o.count} ${o.request}. They must be in the spirit of the spec above, add to it without repeating it, and stay general: no rule ids, no headings, no bullet lists. Each should be one paragraph of about ${o.words} words.

Answer with a JSON array of exactly ${o.count} strings (one paragraph each) and nothing else.${feedbackLine(o.feedback)}`;
}
