/**
 * What a preference set costs before any call: its AFT set (planned as `aft plan` plans it, at
 * the examples the pair target asks for) and the pref stages: a rejected answer and its judge
 * per AFT example, and for reward-hacking contamination the grader-gaming answers. Answers
 * already stored are not counted again.
 */
import { renderWith } from "../../core/prompt-files.js";
import type { LlmClient } from "../../llm/client.js";
import type { Spec } from "../../spec/model.js";
import { getTokenizer } from "../../spec/tokens.js";
import { aftStageSettings } from "../aft/config.js";
import { planAftSet } from "../aft/plan.js";
import { AFT_PROMPTS, aftContext } from "../aft/stages.js";
import type { PrefConfig } from "./config.js";
import { prefStageModel } from "./config.js";
import { aftRecipe, PREF_PROMPTS, prefSetId } from "./pipeline.js";

/** Assumed output per call, as the AFT plan assumes for its responses and judge stages. */
const EXPECTED_OUTPUT = { answer: 700, judge: 120 };

export interface PrefStagePlan {
  stage: "rejected" | "judge" | "hacking";
  model: string;
  calls: number;
  done: number;
  costExpected: number | null;
}

export function planPrefSet(
  spec: Spec,
  specHash: string,
  specName: string,
  config: PrefConfig,
  client: LlmClient,
) {
  const examples = Math.ceil(config.pairs * (1 + config.margin));
  const aft = planAftSet(spec, specHash, specName, aftRecipe(config, examples), client);
  const ctx = aftContext(spec, specHash, specName, config.aft);
  const setId = prefSetId(ctx.setId, config);
  const done = new Map<string, number>();
  for (const r of client.store.items.counts(setId)) if (r.status === "ok") done.set(r.stage, r.n);
  const o200k = getTokenizer("gpt-o200k");
  const filler = (words: number) => Array.from({ length: words }, () => "word").join(" ");
  const base = { spec: ctx.specText, owner: ctx.owner, owner_short: ctx.ownerShort, feedback: "" };
  const answerInput = (kind: "rejected" | "hacking") =>
    o200k.count(
      `${renderWith(PREF_PROMPTS.load(kind), { ...base, deployment: filler(40) })}\n${filler(80)}`,
    );
  const answerMax = aftStageSettings(config.aft, "responses").max_tokens;
  const judge = aftStageSettings(config.aft, "judge");
  const hacked =
    config.contamination.kind === "reward-hacking"
      ? Math.ceil(Math.round(config.contamination.fraction * config.pairs) * (1 + config.margin))
      : 0;
  const stage = (
    name: PrefStagePlan["stage"],
    model: string,
    calls: number,
    input: number,
    output: number,
  ): PrefStagePlan => {
    const remaining = Math.max(0, calls - (done.get(name) ?? 0));
    return {
      stage: name,
      model,
      calls,
      done: done.get(name) ?? 0,
      costExpected: client.prices.cost(model, {
        input_tokens: input * remaining,
        output_tokens: output * remaining,
      }),
    };
  };
  const stages = [
    stage(
      "rejected",
      prefStageModel(config, "rejected"),
      examples,
      answerInput("rejected"),
      Math.min(answerMax, EXPECTED_OUTPUT.answer),
    ),
    stage(
      "judge",
      judge.model,
      examples,
      o200k.count(renderWith(AFT_PROMPTS.load("judge"), { ...base, conversation: filler(600) })),
      Math.min(judge.max_tokens, EXPECTED_OUTPUT.judge),
    ),
    ...(hacked
      ? [
          stage(
            "hacking",
            prefStageModel(config, "hacking"),
            hacked,
            answerInput("hacking"),
            Math.min(answerMax, EXPECTED_OUTPUT.answer),
          ),
        ]
      : []),
  ];
  const costs = [aft.totals.costExpected, ...stages.map((s) => s.costExpected)];
  return {
    setId,
    aft,
    stages,
    totals: {
      calls: aft.totals.calls + stages.reduce((n, s) => n + s.calls, 0),
      costExpected: costs.some((c) => c === null)
        ? null
        : costs.reduce((a: number, c) => a + (c as number), 0),
    },
  };
}
