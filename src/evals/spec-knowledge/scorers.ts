/**
 * Scorers of spec knowledge: `choice` (deterministic: the letter named against the item's target)
 * and `recall` (a judge grades a free answer against the rule's own text). Every sample meets both
 * scorers; each gives the other kind's samples an empty value and calls no judge for them.
 */
import type { Check } from "../../llm/validated.js";
import {
  checkQuotes,
  type JudgeOptions,
  type JudgePrompt,
  judgeSpec,
  majority,
  runJudges,
  validVerdicts,
  verdictJson,
} from "../judge.js";
import type { Score, Scorer, TaskState } from "../types.js";
import type { ParsedChoice } from "./choice.js";
import { keyPoints, type RuleReference } from "./items.js";

export const RECALL_PROMPT_VERSION = "spec-knowledge-recall/1";

const isRecall = (state: TaskState) => state.sample.metadata.kind === "recall";

const notApplicable = (what: string): Score => ({ value: {}, answer: `not a ${what} item` });

/** `{correct: 0|1}`; an answer naming no option (or several) has no `correct`: it is invalid. */
export function choiceScorer(): Scorer {
  return {
    name: "choice",
    spec: { name: "choice", parser: "letter/1" },
    async score(state): Promise<Score> {
      if (isRecall(state)) return notApplicable("choice");
      const parsed = state.parsed as ParsedChoice;
      const target = state.sample.target;
      if (parsed.letter === null)
        return {
          value: {},
          answer: parsed.problem,
          explanation:
            parsed.problem === "no_letter"
              ? "the answer names no option letter"
              : `the answer names ${parsed.letters.join(", ")}: ${parsed.problem === "several_letters" ? "more than one option" : "not one of the options"}`,
          metadata: { target },
        };
      return {
        value: { correct: parsed.letter === target ? 1 : 0 },
        answer: parsed.letter,
        metadata: { target },
      };
    },
  };
}

interface RecallVerdict {
  recalled: boolean;
  points: number[];
  rationale: string;
  quotes: string[];
  reference_quotes: string[];
}

const RECALL_SYSTEM =
  "You grade how well an AI model recalls a rule of the model spec it was trained or prompted with. You compare the model's answer with the rule as the spec writes it, credit a point only when the answer states it in substance (its own words are fine), and support your grading with passages copied exactly from the answer and from the rule.";

function recallPrompt(state: TaskState, points: string[]): JudgePrompt {
  const ref = state.sample.metadata.reference as RuleReference;
  const user = [
    `The model was asked: ${String(state.sample.metadata.question)}`,
    `Rule ${ref.id} as the spec writes it, as numbered key points (its statement, its subrules, then the passages explaining it):\n<rule>\n${points.map((p, i) => `${i + 1}. ${p}`).join("\n")}\n</rule>`,
    `<answer>\n${state.completion.text}\n</answer>`,
    'Answer with a JSON object between <verdict> and </verdict>, with the fields "recalled" (true if the answer states this rule\'s main requirement recognizably, false if it states another rule, nothing, or something the rule does not say), "points" (the numbers of the key points the answer states, [] for none), "rationale" (one to three sentences), "quotes" (passages copied exactly from the answer that state those points; at least one unless "points" is empty) and "reference_quotes" (passages copied exactly from the rule above that those quotes match; at least one unless "points" is empty).',
  ].join("\n\n");
  return { system: RECALL_SYSTEM, user, promptVersion: RECALL_PROMPT_VERSION };
}

function checkRecall(text: string, answer: string, points: string[]): Check<RecallVerdict> {
  const v = verdictJson(text, "verdict");
  if ("problem" in v) return v;
  const o = v.value;
  if (typeof o.recalled !== "boolean") return { problem: '"recalled" must be true or false' };
  const ns = o.points;
  if (
    !Array.isArray(ns) ||
    !ns.every((n) => Number.isInteger(n) && n >= 1 && n <= points.length) ||
    new Set(ns).size !== ns.length
  )
    return { problem: `"points" must list distinct key point numbers from 1 to ${points.length}` };
  if (o.recalled && ns.length === 0)
    return { problem: 'a recalled rule states at least one key point: list it in "points"' };
  if (typeof o.rationale !== "string" || !o.rationale.trim())
    return { problem: 'give a "rationale"' };
  const stated = ns.length > 0;
  const bad = checkQuotes(o.quotes, [answer], stated, "the answer");
  if (bad) return { problem: bad };
  if (!Array.isArray(o.reference_quotes))
    return { problem: '"reference_quotes" must be an array of strings' };
  const badRef = checkQuotes(o.reference_quotes, points, stated, "the rule");
  if (badRef) return { problem: badRef.replace('"quotes"', '"reference_quotes"') };
  return {
    ok: {
      recalled: o.recalled,
      points: ns as number[],
      rationale: o.rationale,
      quotes: o.quotes as string[],
      reference_quotes: o.reference_quotes as string[],
    },
  };
}

/**
 * `{recalled: 0|1, accuracy}`: whether the majority of judges finds the rule recalled, and the
 * share of its key points they find stated (mean over the judges). A judge failure is an error.
 */
export function recallScorer(judge: JudgeOptions): Scorer {
  return {
    name: "recall",
    spec: {
      name: "recall",
      ...judgeSpec(judge),
      max_tokens: judge.maxTokens,
      prompt_version: RECALL_PROMPT_VERSION,
    },
    async score(state, ctx): Promise<Score> {
      if (!isRecall(state)) return notApplicable("recall");
      const points = keyPoints(state.sample.metadata.reference as RuleReference);
      const answer = state.completion.text;
      const records = await runJudges(
        judge,
        recallPrompt(state, points),
        (text) => checkRecall(text, answer, points),
        ctx,
      );
      const verdicts = validVerdicts(records);
      const recalled = majority(verdicts.map((v) => v.recalled));
      const accuracy =
        verdicts.reduce((sum, v) => sum + v.points.length / points.length, 0) / verdicts.length;
      const lead = verdicts.find((v) => v.recalled === recalled) as RecallVerdict;
      return {
        value: { recalled: recalled ? 1 : 0, accuracy },
        answer: recalled ? "recalled" : "not recalled",
        explanation: lead.rationale,
        metadata: { key_points: points.length, judges: records, quotes: lead.quotes },
      };
    },
  };
}
