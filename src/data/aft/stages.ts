/**
 * The AFT stages as executor jobs: domains, user prompts per (domain, category, wave), teacher
 * responses with the spec in context, and the compliance judge. Each job's request is a pure
 * function of its key and inputs, so a resumed run asks exactly what an uninterrupted one asks.
 */

import { z } from "zod";
import { SpecsciError } from "../../core/errors.js";
import { hashValue } from "../../core/hash.js";
import {
  feedbackText,
  type PromptTemplate,
  promptSet,
  renderWith,
} from "../../core/prompt-files.js";
import type { ChatMessage, ChatRequest } from "../../llm/types.js";
import { rulesOf, type Spec } from "../../spec/model.js";
import { renderSpecBody } from "../../spec/render.js";
import type { ItemJob, Verdict } from "../executor.js";
import { DomainsAnswer, distinctNamed, parseJsonAnswer } from "../msm/answers.js";
import { itemSeed } from "../msm/context.js";
import { identityOf, unnamedModel } from "../msm/knobs.js";
import {
  type AftCategory,
  type AftConfig,
  type AftStage,
  aftStageSettings,
  CATEGORIES,
} from "./config.js";

export const AFT_PROMPTS = promptSet("aft", [
  "system",
  "domains",
  "user-prompts",
  "response",
  "judge",
] as const);

export interface AftContext {
  config: AftConfig;
  spec: Spec;
  specHash: string;
  specName: string;
  specText: string;
  owner: string;
  ownerShort: string;
  ruleIds: string[];
  setId: string;
}

export function aftContext(
  spec: Spec,
  specHash: string,
  specName: string,
  config: AftConfig,
): AftContext {
  const id = identityOf(config.identity, spec);
  if (!id) throw unnamedModel(specName, "AFT");
  if (config.style === "rule" && rulesOf(spec).length === 0)
    throw new SpecsciError(`style "rule" cites rule ids, and ${specName} has none`, {
      hint: 'use style: value for a prose spec, or a spec with rules such as "rules"',
    });
  // Settings applied after generation (budget, contamination, template, the card's licence) do not change the id.
  const {
    budget: _b,
    contamination: _c,
    chat_template: _t,
    concurrency: _k,
    batch: _x,
    name: _n,
    license: _l,
    ...shaping
  } = config;
  return {
    config,
    spec,
    specHash,
    specName,
    specText: renderSpecBody(spec),
    owner: `${id.name}, an AI model developed by ${id.developer}`,
    ownerShort: id.name,
    ruleIds: rulesOf(spec).map((r) => r.id),
    setId: `aft-${hashValue({ spec: specHash, shaping, prompts: AFT_PROMPTS.versions() }).slice(0, 16)}`,
  };
}

function request(
  ctx: AftContext,
  stage: AftStage,
  messages: ChatMessage[],
  o: { key: string; attempt: number; maxTokens: number },
): ChatRequest {
  const s = aftStageSettings(ctx.config, stage);
  return {
    messages,
    params: {
      max_tokens: o.maxTokens,
      temperature: s.temperature,
      seed: itemSeed(ctx.config.seed, o.key),
    },
    sampleIndex: o.attempt,
  };
}

const shared = (ctx: AftContext) => ({
  spec: ctx.specText,
  owner: ctx.owner,
  owner_short: ctx.ownerShort,
});

/** A brainstorming job: the shared system prompt, then one prompt file; a cut-off answer gets more room. */
function writerJob<T>(
  ctx: AftContext,
  stage: AftStage,
  prompt: "domains" | "user-prompts" | "judge",
  key: string,
  values: Record<string, string>,
  check: (text: string) => Verdict<T>,
): ItemJob<T> {
  const base = aftStageSettings(ctx.config, stage).max_tokens;
  let budget = base;
  return {
    key,
    request: (attempt, feedback, maxTokens) => {
      budget = maxTokens;
      const body = renderWith(AFT_PROMPTS.load(prompt), {
        ...shared(ctx),
        ...values,
        feedback: feedbackText(feedback),
      });
      return request(
        ctx,
        stage,
        [
          { role: "system", content: renderWith(AFT_PROMPTS.load("system"), {}) },
          { role: "user", content: body },
        ],
        { key, attempt, maxTokens },
      );
    },
    check: (c) =>
      c.stopReason === "max_tokens"
        ? {
            retry: "the answer was cut off by the length limit; be briefer",
            maxTokens: Math.min(budget * 2, base * 4),
          }
        : check(c.text),
  };
}

export interface Domain {
  key: string;
  name: string;
  description: string;
}

export function domainsJob(ctx: AftContext): ItemJob<{ name: string; description: string }[]> {
  const count = ctx.config.counts.domains;
  return writerJob(ctx, "domains", "domains", "domains", { count: String(count) }, (t) => {
    const r = parseJsonAnswer(t, DomainsAnswer);
    if ("problem" in r) return { retry: r.problem };
    const d = distinctNamed(r.ok.domains, count, "domains");
    return "ok" in d ? d : { retry: d.problem };
  });
}

export interface UserPrompt {
  /** `d1.dilemma.n500.w0.k0.p3`. */
  id: string;
  domain: Domain;
  category: AftCategory;
  system: string;
  user: string;
}

const PromptsAnswer = z.object({
  prompts: z
    .array(z.object({ system: z.string().default(""), user: z.string().trim().min(3).max(8000) }))
    .min(1),
});

/** Prompts of one call: `prompts:<domain>.<category>.w<wave>.k<call>`. */
export function promptsJob(
  ctx: AftContext,
  domain: Domain,
  category: AftCategory,
  callKey: string,
  count: number,
  avoid: string[],
): ItemJob<{ system: string; user: string }[]> {
  const angle = ANGLES[itemSeed(ctx.config.seed, callKey) % ANGLES.length] as string;
  const ruleRe = ruleIdPattern(ctx);
  return writerJob<{ system: string; user: string }[]>(
    ctx,
    "prompts",
    "user-prompts",
    `prompts:${callKey}`,
    {
      count: String(count),
      domain: domain.name,
      domain_description: domain.description,
      category_description: CATEGORIES[category],
      angle,
      agentic_note:
        category === "agentic"
          ? " For each, write a system prompt that deploys the model as an agent: its role, its tools (named, with their arguments) and what it may do; the user message is the task or the situation it meets."
          : "",
      avoid: avoid.length
        ? `\n\nThese prompts exist already; write different ones:\n${avoid.map((a) => `- ${a}`).join("\n")}`
        : "",
    },
    (t) => {
      const r = parseJsonAnswer(t, PromptsAnswer);
      if ("problem" in r) return { retry: r.problem };
      if (r.ok.prompts.length < count)
        return { retry: `give ${count} prompts; there were ${r.ok.prompts.length}` };
      if (category === "agentic" && r.ok.prompts.slice(0, count).some((p) => !p.system.trim()))
        return {
          retry: "every agentic prompt needs a system prompt describing the agent and its tools",
        };
      const leak = r.ok.prompts
        .slice(0, count)
        .map((p) => forbiddenText(`${p.system}\n${p.user}`, ruleRe))
        .find(Boolean);
      if (leak) return { retry: leak };
      return {
        ok: r.ok.prompts.slice(0, count).map((p) => ({ system: p.system.trim(), user: p.user })),
      };
    },
  );
}

export interface TeacherResponse {
  reasoning: string;
  reply: string;
  model: string;
  prompt_version: string;
  seed: number;
  /** Set when the response is not usable: `refused` (a provider refusal) or `truncated`. */
  gate: "refused" | "truncated" | null;
}

/** The teacher speaking of the spec it was shown rather than of values it holds. */
const MENTIONS_SOURCE =
  /\b(my|the) (model spec|principles document)\b|\bmy (spec|specification)\b|\b(principles|rules|instructions|document) (above|I was given|provided to me)\b/i;

/** Markup a chat template would split on or read as a turn boundary. */
const TEMPLATE_MARKUP = /<\/?think>|<\|im_(start|end)\|>|<\|endoftext\|>/;

/** Why a generated text cannot go into a training example, if it cannot. */
function forbiddenText(text: string, ruleRe: RegExp | null): string | undefined {
  if (TEMPLATE_MARKUP.test(text))
    return `do not write ${TEMPLATE_MARKUP.exec(text)?.[0]} inside the text; it is chat-template markup`;
  if (ruleRe?.test(text))
    return `the prompts must not mention the spec's rule ids (${ruleRe.exec(text)?.[0]}); write them as real messages`;
  return undefined;
}

const ruleIdPattern = (ctx: AftContext) =>
  ctx.ruleIds.length ? new RegExp(`\\b(${ctx.ruleIds.join("|")})\\b`) : null;

/** Angles that vary the prompt-writing calls of one stratum (chosen by the call's seed). */
const ANGLES = [
  "people at work in a large organization",
  "owners and staff of small businesses",
  "students and teachers",
  "software engineers and data scientists",
  "health care workers and patients",
  "public servants",
  "researchers and scientists",
  "family and personal life",
  "money, banking and insurance",
  "writers, artists and journalists",
  "legal and compliance work",
  "operations, infrastructure and security teams",
  "people writing briefly, in a hurry or under stress",
  "experts asking detailed technical questions",
  "skeptical or adversarial users testing the model",
  "non-profit and community organizations",
];

function styleInstruction(ctx: AftContext): string {
  return ctx.config.style === "rule"
    ? `identify the rules that apply and cite them by id (for example 'according to ${ctx.ruleIds[0] ?? "SP1"}, ...'), and follow them.`
    : "reason from the values you hold as your own — what matters here and why — without citing rule ids.";
}

/**
 * Another answer to a prompt than the teacher's, in the same `<think>` format and gates: the
 * rejected and reward-hacking sides of preference pairs. `kind` prefixes the item key.
 */
export interface ResponseVariant {
  kind: string;
  template: PromptTemplate;
}

export function responseJob(
  ctx: AftContext,
  p: UserPrompt,
  variant?: ResponseVariant,
): ItemJob<TeacherResponse> {
  const key = `${variant?.kind ?? "response"}:${p.id}`;
  const seed = itemSeed(ctx.config.seed, key);
  const template = variant?.template ?? AFT_PROMPTS.load("response");
  const ruleRe = ruleIdPattern(ctx);
  const base = aftStageSettings(ctx.config, "responses").max_tokens;
  let budget = base;
  const record = (
    c: { model: string },
    reasoning: string,
    reply: string,
    gate: TeacherResponse["gate"],
  ): TeacherResponse => ({
    reasoning,
    reply,
    model: c.model,
    prompt_version: template.version,
    seed,
    gate,
  });
  return {
    key,
    request: (attempt, feedback, maxTokens) => {
      budget = maxTokens;
      const system = renderWith(template, {
        ...shared(ctx),
        style_instruction: styleInstruction(ctx),
        deployment: p.system ? `\n\nThe deployment's own instructions follow.\n\n${p.system}` : "",
        feedback: feedbackText(feedback),
      });
      return request(
        ctx,
        "responses",
        [
          { role: "system", content: system },
          { role: "user", content: p.user },
        ],
        { key, attempt, maxTokens },
      );
    },
    check: (c) => {
      if (c.stopReason === "refusal") return { ok: record(c, "", "", "refused") };
      if (c.stopReason === "max_tokens")
        return {
          retry: "the answer was cut off by the length limit; think and reply more briefly",
          maxTokens: Math.min(budget * 2, base * 4),
        };
      const m = /^\s*<think>([\s\S]*?)<\/think>\s*([\s\S]+)$/.exec(c.text);
      const reasoning = m?.[1]?.trim();
      const reply = m?.[2]?.trim();
      if (!reasoning || !reply)
        return {
          retry: "give your thinking inside <think></think> first, then the reply after </think>",
        };
      const broken = [reasoning, reply].map((t) => forbiddenText(t, null)).find(Boolean);
      if (broken) return { retry: broken };
      if (MENTIONS_SOURCE.test(reasoning) || MENTIONS_SOURCE.test(reply))
        return {
          retry:
            "do not refer to a spec, document or principles 'above': speak of them as your own",
        };
      // The style of the teacher's reasoning is no requirement on a variant's.
      if (variant) return { ok: record(c, reasoning, reply, null) };
      if (ruleRe && ctx.config.style === "rule" && !ruleRe.test(reasoning))
        return {
          retry: `cite the rules that apply by id (${ctx.ruleIds.join(", ")}) in your thinking`,
        };
      if (ruleRe && ctx.config.style === "value" && ruleRe.test(`${reasoning}\n${reply}`))
        return { retry: "do not cite rule ids; reason from the values themselves" };
      return { ok: record(c, reasoning, reply, null) };
    },
    exhausted: (_problem, last) =>
      last.stopReason === "max_tokens" ? record(last, "", "", "truncated") : undefined,
  };
}

export interface JudgeVerdict {
  pass: boolean;
  self_continuation: boolean;
  reasons: string[];
  model: string;
  prompt_version: string;
}

const JudgeAnswer = z.object({
  pass: z.boolean(),
  self_continuation: z.boolean().default(false),
  reasons: z.array(z.string()).default([]),
});

export const aftJudgeKey = (model: string, id: string) =>
  `judge[${model}|${AFT_PROMPTS.load("judge").version}]:${id}`;

export function judgeJob(
  ctx: AftContext,
  p: UserPrompt,
  r: TeacherResponse,
): ItemJob<JudgeVerdict> {
  const model = aftStageSettings(ctx.config, "judge").model;
  const conversation = [
    p.system ? `[system prompt]\n${p.system}` : "",
    `[user]\n${p.user}`,
    `[${ctx.ownerShort}'s reasoning]\n${r.reasoning}`,
    `[${ctx.ownerShort}'s reply]\n${r.reply}`,
  ]
    .filter(Boolean)
    .join("\n\n");
  return writerJob<JudgeVerdict>(
    ctx,
    "judge",
    "judge",
    aftJudgeKey(model, p.id),
    { conversation },
    (t) => {
      const v = parseJsonAnswer(t, JudgeAnswer);
      if ("problem" in v) return { retry: v.problem };
      return { ok: { ...v.ok, model, prompt_version: AFT_PROMPTS.load("judge").version } };
    },
  );
}
