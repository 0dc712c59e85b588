/**
 * `specsci aft plan`: calls, tokens and cost of a chat set before any call, over all the prompt
 * waves the target needs. Backfill depends on how many responses pass, so the plan assumes the
 * first wave's 80% pass rate and says so.
 */

import { renderWith } from "../../core/prompt-files.js";
import type { LlmClient } from "../../llm/client.js";
import type { Spec } from "../../spec/model.js";
import { getTokenizer } from "../../spec/tokens.js";
import { MAX_CALLS_PER_STRATUM, planBackfill } from "./backfill.js";
import {
  type AftConfig,
  type AftStage,
  aftStageSettings,
  CATEGORIES,
  categoryShares,
} from "./config.js";
import { AFT_PROMPTS, aftContext } from "./stages.js";

export interface AftStagePlan {
  stage: AftStage;
  model: string;
  calls: number;
  done: number;
  inputTokens: number;
  outputTokensMax: number;
  outputTokensExpected: number;
  costExpected: number | null;
  costExpectedBatch: number | null;
  costMax: number | null;
}

/** Assumed for planning: share of prompts left after dedup (the pass rate is backfill's 80%). */
const PASS_RATE = 0.8;
const UNIQUE_RATE = 0.9;
const EXPECTED_OUTPUT: Record<AftStage, number> = {
  domains: 600,
  prompts: 2500,
  responses: 700,
  judge: 120,
};

export function planAftSet(
  spec: Spec,
  specHash: string,
  specName: string,
  config: AftConfig,
  client: LlmClient,
) {
  const ctx = aftContext(spec, specHash, specName, config);
  const o200k = getTokenizer("gpt-o200k");
  const examples = config.budget.target_tokens
    ? Math.ceil(config.budget.target_tokens / 800)
    : config.budget.examples;
  // The prompts each stratum needs, as the first wave plans them; the pipeline asks for them
  // over waves 0..max_waves, at most MAX_CALLS_PER_STRATUM calls a stratum per wave.
  const needs = planBackfill(
    Array.from({ length: config.counts.domains }).flatMap((_, d) =>
      categoryShares(config).map((c) => ({
        key: `d${d + 1}.${c.category}`,
        share: c.share / config.counts.domains,
        live: true,
        examples: 0,
        tokens: 0,
        written: 0,
        kept: 0,
        answered: 0,
      })),
    ),
    { examples },
  );
  const per = config.counts.prompts;
  const perWave = per * MAX_CALLS_PER_STRATUM;
  const cap = perWave * (config.budget.max_waves + 1);
  const asked = needs.map((n) => Math.min(n.prompts, cap));
  const prompts = asked.reduce((a, n) => a + n, 0);
  const responses = Math.ceil(prompts * UNIQUE_RATE);
  const calls: Record<AftStage, number> = {
    domains: 1,
    prompts: asked.reduce((a, n) => a + Math.ceil(n / per), 0),
    responses,
    judge: responses,
  };
  const waves = Math.max(1, ...asked.map((n) => Math.ceil(n / perWave)));
  // Strata whose need exceeds what max_waves can ask for: the target would be missed.
  const reachable = needs.every((n) => n.prompts <= cap);
  const filler = (words: number) => Array.from({ length: words }, () => "word").join(" ");
  const base = { spec: ctx.specText, owner: ctx.owner, owner_short: ctx.ownerShort, feedback: "" };
  const inputs: Record<AftStage, string> = {
    domains: renderWith(AFT_PROMPTS.load("domains"), {
      ...base,
      count: String(config.counts.domains),
    }),
    prompts: renderWith(AFT_PROMPTS.load("user-prompts"), {
      ...base,
      count: String(config.counts.prompts),
      domain: "x",
      domain_description: filler(20),
      category_description: CATEGORIES.dilemma,
      angle: "students and teachers",
      agentic_note: "",
      avoid: filler(200),
    }),
    responses: `${renderWith(AFT_PROMPTS.load("response"), { ...base, style_instruction: filler(30), deployment: filler(40) })}\n${filler(80)}`,
    judge: renderWith(AFT_PROMPTS.load("judge"), { ...base, conversation: filler(600) }),
  };
  const done = new Map<string, number>();
  for (const r of client.store.items.counts(ctx.setId))
    if (r.status === "ok") done.set(r.stage, r.n);
  const stages = (Object.keys(calls) as AftStage[]).map((stage): AftStagePlan => {
    const s = aftStageSettings(config, stage);
    const remaining = Math.max(0, calls[stage] - (done.get(stage) ?? 0));
    const input = o200k.count(inputs[stage]) * remaining;
    const outMax = s.max_tokens * remaining;
    const outExp = Math.min(s.max_tokens, EXPECTED_OUTPUT[stage]) * remaining;
    const cost = (out: number, batch: boolean) =>
      client.prices.cost(s.model, { input_tokens: input, output_tokens: out }, { batch });
    return {
      stage,
      model: s.model,
      calls: calls[stage],
      done: done.get(stage) ?? 0,
      inputTokens: input,
      outputTokensMax: outMax,
      outputTokensExpected: outExp,
      costExpected: cost(outExp, false),
      costExpectedBatch: cost(outExp, true),
      costMax: cost(outMax, config.batch),
    };
  });
  const sum = (f: (p: AftStagePlan) => number | null) =>
    stages.some((p) => f(p) === null) ? null : stages.reduce((a, p) => a + (f(p) as number), 0);
  return {
    setId: ctx.setId,
    examples,
    assumptions: { pass_rate: PASS_RATE, unique_prompts: UNIQUE_RATE },
    /** Prompt waves expected (wave 0 included), and whether max_waves can reach the target. */
    waves,
    reachable,
    stages,
    totals: {
      calls: stages.reduce((a, p) => a + p.calls, 0),
      costExpected: sum((p) => p.costExpected),
      costExpectedBatch: sum((p) => p.costExpectedBatch),
      costMax: sum((p) => p.costMax),
    },
  };
}
