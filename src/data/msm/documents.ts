/**
 * The document level: one job per (idea, repetition), written with the whole spec, the subject
 * and the idea's assertions in context (plan, then content), then passed through the
 * deterministic gates; and the optional LLM judge of realism and faithfulness.
 */

import { wordPattern } from "../../core/text.js";
import type { Completion, StopReason } from "../../llm/types.js";
import type { TokenCounter } from "../../spec/tokens.js";
import type { ItemJob, Verdict } from "../executor.js";
import {
  isUnsuitable,
  JudgeAnswer,
  type JudgeVerdict,
  parseDocument,
  parseJsonAnswer,
} from "./answers.js";
import { stageSettings } from "./config.js";
import { type CorpusContext, itemSeed, stageRequest } from "./context.js";
import { diversitySeeds, diversityText } from "./diversity.js";
import { findPlaceholder, type GateName, looksLikeRefusal } from "./gates.js";
import { mentionsTrainingPurpose, statesTrainingPurpose } from "./knobs.js";
import { feedbackText, loadPrompt } from "./prompts.js";
import { documentAttribution } from "./purpose.js";
import type { Idea } from "./tree.js";

/** A generated document as stored: kept or gated, with what produced it. */
export interface DocumentRecord {
  /** Why it is not in the corpus; null when it passed every deterministic gate. */
  gate: GateName | null;
  content: string | null;
  plan: string | null;
  tokens: number;
  stop: StopReason;
  /** Asked to state that the spec trains the model (absent when not asked). */
  training_purpose?: true;
  /** Some attempt at it hit the output budget (the truncation rate counts these). */
  truncated_once: boolean;
  max_tokens: number;
  model: string;
  prompt_version: string;
  seed: number;
  names: string[];
  places: string[];
}

export const docKey = (idea: Idea, rep: number) => `${idea.key}.r${rep}`;

export function documentJob(
  ctx: CorpusContext,
  idea: Idea,
  rep: number,
  tokenizer: TokenCounter,
): ItemJob<DocumentRecord> {
  const key = docKey(idea, rep);
  const seed = itemSeed(ctx.config.seed, key);
  const seeds = diversitySeeds(seed, ctx.config.diversity);
  const settings = stageSettings(ctx.config, "documents");
  const retryBudget = ctx.config.gates.retry_truncated_max_tokens;
  const byId = new Map(idea.type.assertions.map((a) => [a.id, a]));
  const purpose = statesTrainingPurpose(ctx.config, ctx.specName, key);
  const attribution = documentAttribution(ctx, purpose);
  const values = {
    doc_type: idea.type.name,
    doc_type_description: idea.type.description,
    author: idea.author,
    situation: idea.situation,
    summary: idea.summary,
    assertions: idea.assertion_ids.map((id) => `- ${byId.get(id)?.text ?? id}`).join("\n"),
    attribution_instruction: attribution,
    framing_instruction: ctx.knobText.framing,
    reasoning_instruction: ctx.knobText.reasoning,
    language: ctx.config.knobs.language,
    diversity: diversityText(seeds),
  };
  let truncatedOnce = false;
  let lastMaxTokens = settings.max_tokens;
  const record = (
    c: Completion,
    gate: GateName | null,
    content: string | null,
    plan: string | null,
  ): DocumentRecord => ({
    gate,
    content,
    plan,
    tokens: content ? tokenizer.count(content) : 0,
    stop: c.stopReason,
    truncated_once: truncatedOnce,
    max_tokens: lastMaxTokens,
    model: c.model,
    prompt_version: loadPrompt("document").version,
    seed,
    names: seeds.names,
    places: seeds.places,
    ...(purpose ? { training_purpose: true as const } : {}),
  });
  /** The gate a final answer falls into, or the problem to retry. */
  const classify = (
    c: Completion,
  ): { gate: GateName | null; problem?: string; doc?: { plan: string; content: string } } => {
    if (c.stopReason === "refusal" || isUnsuitable(c.text) || looksLikeRefusal(c.text))
      return { gate: "refused" };
    if (c.stopReason === "max_tokens") return { gate: "truncated", problem: "" };
    const doc = parseDocument(c.text);
    if (!doc)
      return { gate: "missing_content", problem: "the answer has no <content>…</content> section" };
    const slot = findPlaceholder(doc.content);
    if (slot)
      return {
        gate: "placeholder",
        problem: `the document contains the placeholder ${slot}; write concrete, realistic details instead`,
        doc,
      };
    const named = ctx.forbiddenNames.find((n) => wordPattern(n, "").test(doc.content));
    if (named)
      return {
        gate: "misattributed",
        problem: `the document names ${named}; attribute the principles as instructed, without naming it`,
        doc,
      };
    if (purpose && !mentionsTrainingPurpose(doc.content))
      return {
        gate: null,
        problem:
          "the document does not say that the spec is used to train the model; say so plainly, as instructed",
        doc,
      };
    return { gate: null, doc };
  };
  return {
    key,
    request: (attempt, feedback, maxTokens) => {
      lastMaxTokens = maxTokens;
      return stageRequest(
        ctx,
        "documents",
        "document",
        { ...values, feedback: feedbackText(feedback) },
        { key, attempt, maxTokens },
      );
    },
    check: (c): Verdict<DocumentRecord> => {
      const r = classify(c);
      if (r.gate === "truncated") {
        truncatedOnce = true;
        if (retryBudget && lastMaxTokens < retryBudget)
          return { retry: "", maxTokens: retryBudget };
        return { ok: record(c, "truncated", null, null) };
      }
      if (r.problem !== undefined) return { retry: r.problem };
      return { ok: record(c, r.gate, r.doc?.content ?? null, r.doc?.plan ?? null) };
    },
    exhausted: (_problem, last) => {
      const r = classify(last);
      // A document that only left out the training purpose is kept: the manifest counts how many
      // state it, against the share asked.
      const gate = r.gate ?? (r.doc ? null : "missing_content");
      return record(last, gate, r.doc?.content ?? null, r.doc?.plan ?? null);
    },
  };
}

/** A judge verdict's key names the judge and its prompt: another judge scores afresh. */
export const judgeKey = (model: string, docKey: string) =>
  `judge[${model}|${loadPrompt("judge").version}]:${docKey}`;

export interface JudgeRecord extends JudgeVerdict {
  model: string;
  prompt_version: string;
}

export function judgeJob(
  ctx: CorpusContext,
  key: string,
  idea: Idea,
  content: string,
): ItemJob<JudgeRecord> {
  const jobKey = judgeKey(stageSettings(ctx.config, "judge").model, key);
  return {
    key: jobKey,
    request: (attempt, feedback, maxTokens) =>
      stageRequest(
        ctx,
        "judge",
        "judge",
        { doc_type: idea.type.name, document: content, feedback: feedbackText(feedback) },
        { key: jobKey, attempt, maxTokens },
      ),
    check: (c) => {
      const r = parseJsonAnswer(c.text, JudgeAnswer);
      if ("problem" in r) return { retry: r.problem };
      return { ok: { ...r.ok, model: c.model, prompt_version: loadPrompt("judge").version } };
    },
  };
}
