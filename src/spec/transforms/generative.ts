/**
 * Model-assisted transforms. Every answer is checked before it is used: the rule and subrule text
 * of a rule must come back byte-identical, JSON must have the promised shape, rule ids must
 * survive. A rejected answer is asked for again (a new sample, with the reason), up to
 * `attempts` times; then the transform fails, naming the rule and the problem.
 */
import { SpecsciError } from "../../core/errors.js";
import { ModelCallError } from "../../llm/errors.js";
import type { CallContext, ChatModel } from "../../llm/types.js";
import { type Check, generateValidated, NoValidAnswer } from "../../llm/validated.js";
import { findReferences } from "../ids.js";
import {
  type Block,
  explanationOf,
  type Rule,
  rulesOf,
  type Spec,
  type SpecNode,
  subrulesOf,
  withoutPositions,
} from "../model.js";
import { parseSpec } from "../parse.js";
import { renderRule, renderSpecBody } from "../render.js";
import { getTokenizer, type TokenizerName } from "../tokens.js";
import {
  augmentSubrulesPrompt,
  augmentValuesPrompt,
  generalizePrompt,
  REPHRASE_INSTRUCTIONS,
  resizeExplanationPrompt,
  rewriteTextsPrompt,
  SPEC_WRITER_SYSTEM,
  translateInstruction,
} from "./prompts.js";

export interface ModelContext {
  model: ChatModel;
  context?: CallContext;
  /** Answers asked for per item before giving up. */
  attempts?: number;
  temperature?: number;
}

/**
 * Asks until an answer passes `check` (see `generateValidated`); a model that never gives an
 * acceptable answer, or a failed call, ends the transform with a message naming the item.
 */
export async function askUntilValid<T>(
  ctx: ModelContext,
  label: string,
  prompt: (feedback?: string) => string,
  check: (text: string) => Check<T>,
  maxTokens = 4096,
): Promise<T> {
  const attempts = ctx.attempts ?? 3;
  try {
    const { value } = await generateValidated(
      ctx.model,
      (feedback) => [
        { role: "system", content: SPEC_WRITER_SYSTEM },
        { role: "user", content: prompt(feedback) },
      ],
      check,
      {
        attempts,
        params: {
          max_tokens: maxTokens,
          ...(ctx.temperature !== undefined ? { temperature: ctx.temperature } : {}),
        },
        ...(ctx.context ? { context: ctx.context } : {}),
      },
    );
    return value;
  } catch (e) {
    if (e instanceof ModelCallError)
      throw new SpecsciError(`${label}: the model call failed: ${e.message}`);
    if (e instanceof NoValidAnswer) {
      throw new SpecsciError(
        `${label}: no acceptable answer from ${ctx.model.id} in ${attempts} attempts; last problem: ${e.lastProblem}`,
        {
          hint: "try a stronger --model or more --attempts",
        },
      );
    }
    throw e;
  }
}

function between(text: string, tag: string): string | undefined {
  const m = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(text);
  return m?.[1]?.trim();
}

export function jsonStrings(text: string, count?: { min: number; max: number }): Check<string[]> {
  const start = text.indexOf("[");
  const end = text.lastIndexOf("]");
  if (start < 0 || end < start) return { problem: "it was not a JSON array" };
  let value: unknown;
  try {
    value = JSON.parse(text.slice(start, end + 1));
  } catch (e) {
    return { problem: `it was not valid JSON (${(e as Error).message})` };
  }
  if (!Array.isArray(value) || !value.every((v) => typeof v === "string" && v.trim() !== "")) {
    return { problem: "it was not an array of non-empty strings" };
  }
  if (count && (value.length < count.min || value.length > count.max)) {
    return {
      problem: `it had ${value.length} items, not ${count.min === count.max ? count.min : `${count.min} to ${count.max}`}`,
    };
  }
  return { ok: value as string[] };
}

export const wordCount = (t: string) => t.split(/\s+/).filter(Boolean).length;

/** Checks that a rewritten rule section kept the rule's statement and subrules byte-identical. */
function checkRuleRewrite(original: Rule, answer: string): Check<Rule> {
  const section = between(answer, "rule") ?? answer.trim();
  const rules = rulesOf(parseSpec(section).spec);
  const rule = rules.find((r) => r.id === original.id);
  if (!rule || rules.length !== 1)
    return { problem: `it must contain exactly one rule, ${original.id}, with its heading` };
  if (rule.title !== original.title)
    return {
      problem: `the rule statement changed: "${rule.title}" instead of "${original.title}"`,
    };
  const want = subrulesOf(original).map((s) => s.markdown);
  const got = subrulesOf(rule).map((s) => s.markdown);
  if (got.length !== want.length)
    return {
      problem: `it has ${got.length} bullets; the rule has ${want.length}, which must be copied exactly`,
    };
  const i = got.findIndex((g, k) => g !== want[k]);
  if (i >= 0)
    return { problem: `bullet ${i + 1} is not an exact copy: "${got[i]}" instead of "${want[i]}"` };
  const lists = rule.body.filter((b) => b.kind === "subrules").length;
  if (want.length > 0 && lists !== 1)
    return { problem: "the bullets must stay together in one list" };
  return { ok: { ...withoutPositions(rule), level: original.level } };
}

function replaceRules(spec: Spec, replaced: Map<string, Rule>): Spec {
  const out = withoutPositions(spec);
  const walk = (nodes: SpecNode[]): SpecNode[] =>
    nodes.map((n) =>
      n.kind === "rule"
        ? (replaced.get(n.id) ?? n)
        : n.kind === "section"
          ? { ...n, body: walk(n.body) }
          : n,
    );
  out.body = walk(out.body);
  return out;
}

type RulePrompt = (o: { spec: string; rule: string; words: number; feedback?: string }) => string;

/**
 * Has the model rewrite whole rule sections (heading, prose, bullets) and keeps each answer only
 * if the rule's statement and subrules came back byte-identical.
 */
async function rewriteRuleSections(
  spec: Spec,
  words: Map<string, number>,
  label: string,
  prompt: RulePrompt,
  ctx: ModelContext,
  needsExplanation: boolean,
): Promise<Spec> {
  const text = renderSpecBody(spec);
  const rules = rulesOf(spec).filter((r) => words.has(r.id));
  const done = await Promise.all(
    rules.map((rule) =>
      askUntilValid(
        ctx,
        `${label} ${rule.id}`,
        (feedback) =>
          prompt({
            spec: text,
            rule: renderRule(rule).join("\n\n"),
            words: words.get(rule.id) as number,
            ...(feedback ? { feedback } : {}),
          }),
        (answer) => {
          const checked = checkRuleRewrite(rule, answer);
          if ("problem" in checked || !needsExplanation) return checked;
          const written = explanationOf(checked.ok).reduce((k, b) => k + wordCount(b.text), 0);
          return written < 10 ? { problem: "it contains no explanation" } : checked;
        },
      ).then((r) => [rule.id, r] as const),
    ),
  );
  return replaceRules(spec, new Map(done));
}

/** Writes an explanation of the values behind each rule; rule and subrule text stay byte-identical. */
export function augmentValues(
  spec: Spec,
  params: { words?: number; rules?: string[] },
  ctx: ModelContext,
): Promise<Spec> {
  const targets = rulesOf(spec).filter((r) => !params.rules || params.rules.includes(r.id));
  const words = new Map(targets.map((r) => [r.id, params.words ?? 150]));
  return rewriteRuleSections(spec, words, "augment-values", augmentValuesPrompt, ctx, true);
}

/** Rewrites the explanation of the given rules to about the given number of words each. */
function resizeExplanations(
  spec: Spec,
  targets: Map<string, number>,
  ctx: ModelContext,
): Promise<Spec> {
  return rewriteRuleSections(spec, targets, "match-length", resizeExplanationPrompt, ctx, false);
}

/** Adds `count` new subrules to each rule (after the existing ones, which stay byte-identical). */
export async function augmentSubrules(
  spec: Spec,
  params: { count?: number | Map<string, number>; rules?: string[] },
  ctx: ModelContext,
): Promise<Spec> {
  const text = renderSpecBody(spec);
  const countFor = (id: string) =>
    params.count instanceof Map ? (params.count.get(id) ?? 0) : (params.count ?? 5);
  const targets = rulesOf(spec).filter(
    (r) => (!params.rules || params.rules.includes(r.id)) && countFor(r.id) > 0,
  );
  const done = await Promise.all(
    targets.map((rule) => {
      const count = countFor(rule.id);
      const existing = new Set(subrulesOf(rule).map((s) => s.markdown.trim().toLowerCase()));
      return askUntilValid(
        ctx,
        `augment-subrules ${rule.id}`,
        (feedback) =>
          augmentSubrulesPrompt({
            spec: text,
            rule: renderRule(rule).join("\n\n"),
            count,
            ...(feedback ? { feedback } : {}),
          }),
        (answer) => {
          const items = jsonStrings(answer, { min: 1, max: count * 2 });
          if ("problem" in items) return items;
          const clean = items.ok.map((s) => s.trim().replace(/^[-*]\s+/, ""));
          const dup = clean.find((s) => existing.has(s.toLowerCase()));
          return dup ? { problem: `"${dup}" repeats an existing subrule` } : { ok: clean };
        },
      ).then((items) => {
        const r = withoutPositions(rule);
        let list = [...r.body].reverse().find((b) => b.kind === "subrules");
        if (!list) {
          list = { kind: "subrules", ordered: false, items: [] };
          r.body.push(list);
        }
        const n = subrulesOf(r).length;
        for (const [i, md] of items.entries())
          list.items.push({ id: `${r.id}.${n + i + 1}`, markdown: md, text: md });
        return [rule.id, r] as const;
      });
    }),
  );
  return replaceRules(spec, new Map(done));
}

/** A one-paragraph general spec in the spirit of the given one. */
export async function generalize(
  spec: Spec,
  params: { words?: number; title?: string },
  ctx: ModelContext,
): Promise<Spec> {
  const paragraph = await askUntilValid<Block>(
    ctx,
    "generalize",
    (feedback) =>
      generalizePrompt({
        spec: renderSpecBody(spec),
        words: params.words ?? 150,
        ...(feedback ? { feedback } : {}),
      }),
    (answer) => {
      const md = between(answer, "paragraph") ?? answer.trim();
      const parsed = parseSpec(md).spec;
      if (parsed.body.length !== 1 || parsed.body[0]?.kind !== "paragraph")
        return { problem: "it must be exactly one paragraph of prose" };
      const block = parsed.body[0] as Block;
      return wordCount(block.text) < 30
        ? { problem: "the paragraph is too short" }
        : { ok: withoutPositions(block) };
    },
  );
  const out: Spec = { frontMatter: { ...spec.frontMatter }, body: [paragraph] };
  const title = params.title ?? spec.title;
  if (title !== undefined) out.title = title;
  return out;
}

interface Slot {
  get: () => string;
  set: (v: string) => void;
}

/** Text slots of a spec grouped into units (one per rule; prose and headings outside rules). */
function textUnits(spec: Spec): Slot[][] {
  const units: Slot[][] = [];
  const headings: Slot[] = [];
  const prose: Slot[] = [];
  if (spec.title !== undefined)
    headings.push({ get: () => spec.title as string, set: (v) => (spec.title = v) });
  const blockSlot = (b: Block): Slot => ({
    get: () => b.markdown,
    set: (v) => {
      b.markdown = v;
      b.text = v;
    },
  });
  const walk = (nodes: SpecNode[]) => {
    for (const n of nodes) {
      if (n.kind === "section") {
        headings.push({ get: () => n.title, set: (v) => (n.title = v) });
        walk(n.body);
      } else if (n.kind === "rule") {
        const unit: Slot[] = [{ get: () => n.title, set: (v) => (n.title = v) }];
        for (const b of n.body) {
          if (b.kind === "subrules") {
            for (const s of b.items)
              unit.push({
                get: () => s.markdown,
                set: (v) => {
                  s.markdown = v;
                  s.text = v;
                },
              });
          } else unit.push(blockSlot(b));
        }
        units.push(unit);
      } else prose.push(blockSlot(n));
    }
  };
  walk(spec.body);
  if (headings.length) units.push(headings);
  if (prose.length) units.push(prose);
  return units;
}

const idsIn = (t: string) =>
  findReferences(t)
    .map((r) => r.id)
    .sort()
    .join(",");

/** Rewrites every piece of text by an instruction, unit by unit, keeping structure and ids. */
async function rewriteAll(
  spec: Spec,
  instruction: string,
  label: string,
  ctx: ModelContext,
): Promise<Spec> {
  const out = withoutPositions(spec);
  const units = textUnits(out);
  const answers = await Promise.all(
    units.map((unit, u) => {
      const texts = unit.map((s) => s.get());
      return askUntilValid(
        ctx,
        `${label} (part ${u + 1} of ${units.length})`,
        (feedback) => rewriteTextsPrompt({ instruction, texts, ...(feedback ? { feedback } : {}) }),
        (answer) => {
          const got = jsonStrings(answer, { min: texts.length, max: texts.length });
          if ("problem" in got) return got;
          const lost = got.ok.findIndex((t, i) => idsIn(t) !== idsIn(texts[i] as string));
          return lost >= 0 ? { problem: `item ${lost + 1} changed its rule ids` } : got;
        },
      );
    }),
  );
  for (const [u, unit] of units.entries())
    for (const [i, slot] of unit.entries()) slot.set(answers[u]?.[i] as string);
  return out;
}

export function rephrase(
  spec: Spec,
  params: { mode: "descriptive" | "normative" },
  ctx: ModelContext,
): Promise<Spec> {
  const instruction = REPHRASE_INSTRUCTIONS[params.mode];
  if (!instruction)
    throw new SpecsciError(
      `rephrase --mode must be descriptive or normative, not "${params.mode}"`,
    );
  return rewriteAll(spec, instruction, `rephrase ${params.mode}`, ctx);
}

export async function translate(
  spec: Spec,
  params: { lang: string },
  ctx: ModelContext,
): Promise<Spec> {
  if (!params.lang?.trim()) throw new SpecsciError("translate needs --lang (e.g. --lang French)");
  const out = await rewriteAll(
    spec,
    translateInstruction(params.lang),
    `translate ${params.lang}`,
    ctx,
  );
  out.frontMatter.language = params.lang;
  return out;
}

export interface MatchLengthReport {
  tokenizer: TokenizerName;
  targetTokens: number;
  tokens: number;
  ratio: number;
  rounds: number;
}

/**
 * Expands or trims a spec until its token count is within `tolerance` of a target's: specs with
 * explanations have them rewritten longer or shorter (rule text untouched); rules-only specs get
 * more subrules. Fails, with the ratio reached, if `rounds` are not enough.
 */
export async function matchLength(
  spec: Spec,
  params: { target: Spec; tokenizer?: TokenizerName; tolerance?: number; rounds?: number },
  ctx: ModelContext,
): Promise<{ spec: Spec; report: MatchLengthReport }> {
  const tokenizer = getTokenizer(params.tokenizer ?? "qwen3");
  const tolerance = params.tolerance ?? 0.02;
  const rounds = params.rounds ?? 6;
  const targetTokens = tokenizer.count(renderSpecBody(params.target));
  let current = withoutPositions(spec);
  for (let round = 0; ; round++) {
    const tokens = tokenizer.count(renderSpecBody(current));
    const ratio = tokens / targetTokens;
    const report = { tokenizer: tokenizer.name, targetTokens, tokens, ratio, rounds: round };
    if (Math.abs(ratio - 1) <= tolerance) return { spec: current, report };
    if (round >= rounds) {
      throw new SpecsciError(
        `match-length did not converge in ${rounds} rounds: ${tokens} tokens against a target of ${targetTokens} (ratio ${ratio.toFixed(3)}, wanted 1 ± ${tolerance})`,
        {
          hint: "raise --rounds or --tolerance, or use a model that follows length instructions more closely",
        },
      );
    }
    const rules = rulesOf(current);
    const prose = new Map(
      rules.map((r) => [r.id, explanationOf(r).reduce((k, b) => k + wordCount(b.text), 0)]),
    );
    const proseWords = [...prose.values()].reduce((a, b) => a + b, 0);
    const tokensPerWord = tokens / Math.max(1, wordCount(renderSpecBody(current)));
    const deltaWords = (targetTokens - tokens) / tokensPerWord;
    if (proseWords > 0) {
      const targets = new Map<string, number>();
      for (const [id, w] of prose) {
        if (w === 0) continue;
        const want = Math.max(20, Math.round(w + (deltaWords * w) / proseWords));
        if (Math.abs(want - w) >= Math.max(3, 0.02 * w)) targets.set(id, want);
      }
      if (targets.size === 0)
        throw new SpecsciError(
          "match-length: the remaining difference is too small to change any explanation",
        );
      current = await resizeExplanations(current, targets, ctx);
    } else {
      if (deltaWords < 0) {
        throw new SpecsciError(
          `match-length: this spec has no explanations to trim, and it is ${Math.round((ratio - 1) * 100)}% longer than the target; trimming would change its rules`,
        );
      }
      const subrules = rules.flatMap(subrulesOf);
      const wordsPerSubrule = subrules.length
        ? subrules.reduce((k, s) => k + wordCount(s.text), 0) / subrules.length
        : 15;
      const needed = Math.max(1, Math.round(deltaWords / wordsPerSubrule));
      const counts = new Map(
        rules.map((r, i) => [
          r.id,
          Math.floor(needed / rules.length) + (i < needed % rules.length ? 1 : 0),
        ]),
      );
      current = await augmentSubrules(current, { count: counts }, ctx);
    }
  }
}
