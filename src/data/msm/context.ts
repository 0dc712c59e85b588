/**
 * What every stage of one corpus shares: the spec as the model sees it, the subject and knobs,
 * per-stage settings, and how requests are built (system prompt, seed, sample index).
 */
import { hashValue, sha256Hex } from "../../core/hash.js";
import type { ChatRequest } from "../../llm/types.js";
import { rulesOf, type Spec } from "../../spec/model.js";
import { renderSpecBody } from "../../spec/render.js";
import { type MsmConfig, type StageName, stageSettings } from "./config.js";
import {
  attributionInstruction,
  authorInstruction,
  framingInstruction,
  reasoningInstruction,
  reasoningStyle,
  type Subject,
  subjectOf,
} from "./knobs.js";
import { loadPrompt, type PromptName, promptVersions, renderPrompt } from "./prompts.js";

export interface CorpusContext {
  spec: Spec;
  specHash: string;
  specName: string;
  /** The spec as it appears in every prompt (Markdown, no front matter). */
  specText: string;
  config: MsmConfig;
  subject: Subject;
  style: "compliance" | "values";
  ruleIds: string[];
  corpusId: string;
  knobText: { attribution: string; framing: string; reasoning: string; author: string };
  /** Names the documents must not use (see `Subject.forbidden`). */
  forbiddenNames: string[];
}

/**
 * The corpus id hashes everything that shapes the tree's items (spec, models, counts, knobs,
 * seed), so a changed setting starts a new tree, while settings applied after generation
 * (gates, dedup, budget, contamination) and `docs_per_idea` reuse the items already made.
 */
export function corpusIdOf(specHash: string, config: MsmConfig, specName = ""): string {
  const { docs_per_idea: _, ...counts } = config.counts;
  const shaping = {
    spec: specHash,
    model: config.model,
    identity: config.identity ?? null,
    seed: config.seed,
    counts,
    stages: config.stages,
    attempts: config.attempts,
    knobs: shapingKnobs(config, specName),
    diversity: config.diversity,
    prompts: promptVersions(),
    retry_truncated: config.gates.retry_truncated_max_tokens ?? null,
    tokenizer: config.tokenizer,
  };
  return `msm-${hashValue(shaping).slice(0, 16)}`;
}

/**
 * The knobs as the id hashes them: a training purpose that this spec's documents do not state
 * (absent, or for other specs) is the same corpus as none.
 */
function shapingKnobs(config: MsmConfig, specName: string): Partial<MsmConfig["knobs"]> {
  const k = config.knobs.training_purpose;
  if (k?.mode === "stated" && (!specName || !k.specs || k.specs.includes(specName)))
    return config.knobs;
  const { training_purpose: _, ...rest } = config.knobs;
  return rest;
}

export function corpusContext(
  spec: Spec,
  specHash: string,
  specName: string,
  config: MsmConfig,
): CorpusContext {
  const subject = subjectOf(config, spec, specName);
  const style = reasoningStyle(config, spec);
  return {
    spec,
    specHash,
    specName,
    specText: renderSpecBody(spec),
    config,
    subject,
    style,
    ruleIds: rulesOf(spec).map((r) => r.id),
    corpusId: corpusIdOf(specHash, config, specName),
    forbiddenNames: subject.forbidden,
    knobText: {
      author: authorInstruction(config, subject),
      attribution: attributionInstruction(config, subject),
      framing: framingInstruction(config, subject),
      reasoning: reasoningInstruction(style),
    },
  };
}

/** A per-item seed: the same corpus seed and item key give the same seed on every machine. */
export function itemSeed(seed: number, key: string): number {
  return Number.parseInt(sha256Hex(`${seed}:${key}`).slice(0, 8), 16) >>> 1;
}

/** The request of one attempt at an item: the shared system prompt, then the stage's prompt. */
export function stageRequest(
  ctx: CorpusContext,
  stage: StageName,
  prompt: PromptName,
  values: Record<string, string>,
  o: { key: string; attempt: number; maxTokens: number },
): ChatRequest {
  const s = stageSettings(ctx.config, stage);
  const shared = {
    spec: ctx.specText,
    subject: ctx.subject.full,
    subject_short: ctx.subject.short,
    owner: ctx.subject.owner,
    owner_short: ctx.subject.ownerShort,
  };
  const template = loadPrompt(prompt);
  const own = Object.fromEntries(
    Object.entries(shared).filter(([k]) => template.slots.includes(k)),
  );
  return {
    messages: [
      { role: "system", content: renderPrompt(loadPrompt("system"), {}) },
      { role: "user", content: renderPrompt(template, { ...own, ...values }) },
    ],
    params: {
      max_tokens: o.maxTokens,
      temperature: s.temperature,
      seed: itemSeed(ctx.config.seed, o.key),
    },
    sampleIndex: o.attempt,
  };
}
