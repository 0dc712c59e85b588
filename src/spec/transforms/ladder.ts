/**
 * The richness ladder: from a one-paragraph general spec, variants that add, one step at a time,
 * principles, then worked examples, then self-preservation guidance (each rung is the rung below
 * plus one model-written section). So that richness is the only thing that changes along the
 * ladder, every rung is padded to the top rung's token count with neutral filler: a closing
 * "Notes on this document" section, present on every rung, whose sentences describe the document
 * and give no guidance. Rungs are never trimmed (the top rung is the longest by construction, and
 * trimming would take guidance away); the filler is deterministic, so one ladder always pads the
 * same way.
 */
import { SpecsciError } from "../../core/errors.js";
import { findReferences } from "../ids.js";
import { rulesOf, type Spec } from "../model.js";
import { parseSpec } from "../parse.js";
import { renderSpecBody } from "../render.js";
import { getTokenizer, type TokenizerName } from "../tokens.js";
import {
  MAX_STEP_PARAGRAPHS,
  RICHNESS_STEP_KEYS,
  RICHNESS_STEPS,
  type RichnessStepKey,
} from "./catalog.js";
import { askUntilValid, jsonStrings, type ModelContext, wordCount } from "./generative.js";
import { LADDER_STEP_REQUESTS, ladderStepPrompt } from "./prompts.js";

type RichnessStep = (typeof RICHNESS_STEPS)[number];

/** The rungs of the default ladder in order of richness: the general spec, then one per step. */
export const RICHNESS_RUNGS = ["general", ...RICHNESS_STEP_KEYS] as const;
export type RichnessRung = (typeof RICHNESS_RUNGS)[number];

export { MAX_STEP_PARAGRAPHS, RICHNESS_STEP_KEYS, RICHNESS_STEPS, type RichnessStepKey };

/**
 * The shape of a ladder: which steps, in which order (default: all three, as listed), how many
 * paragraphs each adds (default: the step's own count), and the length every rung is padded to
 * (default: the richest rung's).
 */
export interface LadderShape {
  steps?: string[];
  paragraphs?: Record<string, number>;
  targetTokens?: number;
}

/** A ladder's steps as it runs them, each with its paragraph count. */
type ResolvedStep = Omit<RichnessStep, "count"> & { count: number };

const stepList = () => RICHNESS_STEP_KEYS.join(", ");

/**
 * The steps a shape asks for, checked: known, none twice, and paragraph counts only for steps of
 * the ladder, whole numbers from 1 to MAX_STEP_PARAGRAPHS.
 */
export function ladderSteps(shape: LadderShape): ResolvedStep[] {
  const keys = shape.steps ?? RICHNESS_STEP_KEYS;
  if (keys.length === 0)
    throw new SpecsciError("richness-ladder steps: give at least one step", {
      hint: `choose from ${stepList()}`,
    });
  const seen = new Set<string>();
  const steps = keys.map((key) => {
    const step = RICHNESS_STEPS.find((s) => s.key === key);
    if (!step)
      throw new SpecsciError(`richness-ladder steps: "${key}" is not a step`, {
        hint: `choose from ${stepList()}`,
      });
    if (seen.has(key))
      throw new SpecsciError(`richness-ladder steps: "${key}" is given twice`, {
        hint: "each step adds its section once",
      });
    seen.add(key);
    return step;
  });
  for (const [key, n] of Object.entries(shape.paragraphs ?? {})) {
    if (!seen.has(key))
      throw new SpecsciError(
        `richness-ladder paragraphs: "${key}" is not a step of this ladder (its steps: ${[...seen].join(", ")})`,
        { hint: "give paragraph counts only for the steps the ladder takes" },
      );
    if (!Number.isInteger(n) || n < 1 || n > MAX_STEP_PARAGRAPHS)
      throw new SpecsciError(
        `richness-ladder paragraphs: ${key}=${n} must be a whole number from 1 to ${MAX_STEP_PARAGRAPHS}`,
      );
  }
  return steps.map((step) => ({ ...step, count: shape.paragraphs?.[step.key] ?? step.count }));
}

export const NOTES_HEADING = "Notes on this document";

/**
 * Sentences about the document itself, none of which says how the model should behave: the
 * filler that evens out the rungs' lengths. Cycled (in order) when more is needed.
 */
const NEUTRAL_SENTENCES = [
  "This document is one of several versions prepared for the same comparison.",
  "The versions share a title and an opening paragraph and differ in the sections that follow it.",
  "This closing section is part of every version, so that all of them have about the same length.",
  "Its sentences describe the document and are not part of the guidance.",
  "The document is written in plain Markdown, with one heading for each section.",
  "Each section starts on a new line and is separated from the next by a blank line.",
  "Paragraphs are kept short enough to be read on a small screen.",
  "The text uses British spelling and avoids abbreviations where it can.",
  "Section headings are written in sentence case.",
  "The document has no footnotes, tables or images.",
  "It was assembled by a program from parts written separately.",
  "Its front matter records the steps that produced it.",
  "A reader may take the sections in any order.",
  "Nothing in these notes is meant to be followed or applied.",
  "The notes end where the filler needed for this version ends.",
  "Other versions of the document may carry more or fewer of these sentences.",
];

const OPENING_NOTE = NEUTRAL_SENTENCES[2] as string;

/** The first `n` words of the cycled neutral sentences (after the opening note). */
function fillerWords(n: number): string {
  const pool = NEUTRAL_SENTENCES.filter((s) => s !== OPENING_NOTE)
    .join(" ")
    .split(" ");
  const words = Array.from({ length: n }, (_, i) => pool[i % pool.length] as string);
  const text = words.join(" ");
  return text === "" || text.endsWith(".") ? text : `${text}.`;
}

const withNotes = (body: string, filler: string) =>
  `${body}\n\n## ${NOTES_HEADING}\n\n${OPENING_NOTE}${filler ? ` ${filler}` : ""}\n`;

/**
 * What is wrong with a ladder's shape and rung, if anything, for a config check before any call
 * (the derivation checks the same again).
 */
export function ladderProblem(shape: LadderShape & { rung?: number }): string | undefined {
  try {
    const top = ladderSteps(shape).length;
    if (shape.rung !== undefined && shape.rung > top)
      return `rung ${shape.rung} is off this ladder: its rungs are 0 (general) to ${top}`;
  } catch (e) {
    if (e instanceof SpecsciError) return `${e.message}${e.hint ? ` (${e.hint})` : ""}`;
    throw e;
  }
  return undefined;
}

export interface RungReport {
  rung: number;
  /** `general`, or the step the rung adds. */
  name: RichnessRung;
  tokenizer: TokenizerName;
  tokens: number;
  targetTokens: number;
  ratio: number;
  fillerWords: number;
}

export interface LadderRung {
  spec: Spec;
  report: RungReport;
}

/** One step's paragraphs: exactly `count`, general (no ids, headings or lists), long enough. */
function stepParagraphs(spec: string, step: ResolvedStep, ctx: ModelContext): Promise<string[]> {
  return askUntilValid(
    ctx,
    `richness-ladder ${step.key}`,
    (feedback) =>
      ladderStepPrompt({
        spec,
        request: LADDER_STEP_REQUESTS[step.key],
        count: step.count,
        words: step.words,
        ...(feedback ? { feedback } : {}),
      }),
    (answer) => {
      const items = jsonStrings(answer, { min: step.count, max: step.count });
      if ("problem" in items) return items;
      const clean = items.ok.map((t) => t.trim());
      for (const [i, t] of clean.entries()) {
        if (/^\s*(#|[-*+] |\d+[.)] )/m.test(t))
          return { problem: `item ${i + 1} has a heading or a list; write plain paragraphs` };
        if (/\n\s*\n/.test(t)) return { problem: `item ${i + 1} is more than one paragraph` };
        if (findReferences(t).length)
          return { problem: `item ${i + 1} cites rule ids; the ladder's specs have no rules` };
        if (wordCount(t) < Math.min(15, step.words / 2))
          return { problem: `item ${i + 1} is too short` };
      }
      return { ok: clean };
    },
  );
}

/** The spec a rung's Markdown body makes, with the parent's front matter. */
function rungSpec(parent: Spec, markdown: string): Spec {
  const { spec } = parseSpec(markdown);
  return { ...spec, frontMatter: { ...parent.frontMatter } };
}

/**
 * The smallest filler that brings `body` to at least `target` tokens, or the one just short of it
 * when that is closer: a binary search over the number of filler words (the count grows with it).
 */
function padTo(body: string, target: number, count: (t: string) => number) {
  const tokens = (n: number) => count(withNotes(body, fillerWords(n)));
  let lo = 0;
  let hi = Math.max(1, target);
  if (tokens(0) >= target) return { words: 0, tokens: tokens(0) };
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (tokens(mid) >= target) hi = mid;
    else lo = mid + 1;
  }
  const over = tokens(lo);
  const under = lo > 0 ? tokens(lo - 1) : over;
  return target - under < over - target
    ? { words: lo - 1, tokens: under }
    : { words: lo, tokens: over };
}

/**
 * The whole ladder, least rich first. The parent must be a general spec (no rules): the ladder
 * asks whether richness alone, without specific rules, matches a specific spec.
 */
export async function richnessLadder(
  parent: Spec,
  params: { tokenizer?: TokenizerName; tolerance?: number } & LadderShape,
  ctx: ModelContext,
): Promise<LadderRung[]> {
  if (rulesOf(parent).length)
    throw new SpecsciError(
      `richness-ladder starts from a general spec without rules; this one has ${rulesOf(parent).length}`,
      { hint: "derive from the built-in general spec, or generalize this one first" },
    );
  const steps = ladderSteps(params);
  const tokenizer = getTokenizer(params.tokenizer ?? "qwen3");
  const tolerance = params.tolerance ?? 0.02;
  const bodies = [renderSpecBody(parent).trimEnd()];
  for (const step of steps) {
    const below = bodies.at(-1) as string;
    const paragraphs = await stepParagraphs(below, step, ctx);
    bodies.push(`${below}\n\n## ${step.heading}\n\n${paragraphs.join("\n\n")}`);
  }
  // Counted as written: the rung's Markdown read back and rendered, as its readers will see it.
  const count = (markdown: string) => tokenizer.count(renderSpecBody(parseSpec(markdown).spec));
  const richest = count(withNotes(bodies.at(-1) as string, ""));
  const targetTokens = params.targetTokens ?? richest;
  // Rungs are never trimmed: a target below the richest rung cannot be met.
  if (richest > targetTokens * (1 + tolerance))
    throw new SpecsciError(
      `richness-ladder target_tokens ${targetTokens}: the richest rung is already ${richest} ${tokenizer.name} tokens, and rungs are padded, never trimmed`,
      { hint: `raise target_tokens to at least ${richest}, or ask for fewer paragraphs` },
    );
  const names = ["general", ...steps.map((s) => s.key)] as RichnessRung[];
  return bodies.map((body, rung) => {
    const pad = padTo(body, targetTokens, count);
    const ratio = pad.tokens / targetTokens;
    if (Math.abs(ratio - 1) > tolerance)
      throw new SpecsciError(
        `richness-ladder: rung ${rung} (${names[rung]}) came to ${pad.tokens} tokens against ${targetTokens} (ratio ${ratio.toFixed(3)}, wanted 1 ± ${tolerance})`,
        { hint: "raise --tolerance" },
      );
    return {
      spec: rungSpec(parent, withNotes(body, fillerWords(pad.words))),
      report: {
        rung,
        name: names[rung] as RichnessRung,
        tokenizer: tokenizer.name,
        tokens: pad.tokens,
        targetTokens,
        ratio,
        fillerWords: pad.words,
      },
    };
  });
}
