import { samplesLeft } from "../evals/runner.js";
import type { LlmClient } from "../llm/client.js";
import { getTokenizer } from "../spec/tokens.js";
import type { Store } from "../store/index.js";
import type { EvalStage } from "./stages.js";

/** Rough length of a judge prompt around the transcript (rubric, instructions). */
const JUDGE_OVERHEAD_TOKENS = 500;

export interface StagePlan {
  key: string;
  runId: string;
  model: string;
  samples: number;
  done: number;
  errors: number;
  /** Samples still to generate and score. */
  remaining: number;
  agentCalls: number;
  judgeCalls: number;
  /** Estimated with the o200k tokenizer: an approximation for every model. */
  agentInputTokens: number;
  /** Upper bound: every answer uses its whole output budget. */
  agentOutputTokensMax: number;
  judgeInputTokensMax: number;
  judgeOutputTokensMax: number;
  /** USD at most, at list prices, online and through batch APIs; null where a price is unknown. */
  costMax: number | null;
  costMaxBatch: number | null;
}

export interface ExperimentPlan {
  stages: StagePlan[];
  totals: Omit<StagePlan, "key" | "runId" | "model">;
}

/** What `run` would do, from the stage graph and the store: no model calls. */
export function planExperiment(
  stages: EvalStage[],
  client: LlmClient,
  store: Store,
): ExperimentPlan {
  const o200k = getTokenizer("gpt-o200k");
  const promptTokens = new Map<string, number>();
  const plans = stages.map((st): StagePlan => {
    const samples = st.task.dataset.length * st.epochs;
    const { done, error: errors } = store.evals.statusCounts(st.runId);
    const retry = st.eval.retry_max_tokens;
    const remaining = samplesLeft(store, st.runId, samples, retry);
    const perSampleInput = st.task.dataset.map((s) => {
      const text = s.input.map((m) => m.content).join("\n");
      let n = promptTokens.get(text);
      if (n === undefined) {
        n = o200k.count(text);
        promptTokens.set(text, n);
      }
      return n;
    });
    const meanInput =
      perSampleInput.reduce((a, b) => a + b, 0) / Math.max(1, perSampleInput.length);
    const maxTokens = st.generate.max_tokens ?? st.task.defaults.max_tokens;
    const judgeScorers = st.task.scorers.filter((s) => typeof s.spec.judge === "string");
    const judgeCallsPerSample = judgeScorers.reduce((k, s) => k + Number(s.spec.k ?? 1), 0);
    const judgeMaxTokens = Number(judgeScorers[0]?.spec.max_tokens ?? 2048);
    const agentInputTokens = Math.round(meanInput * remaining);
    // At most: every answer cut off and drawn again with the larger budget.
    const agentOutputTokensMax = remaining * (maxTokens + (retry ?? 0));
    const judgeCalls = remaining * judgeCallsPerSample;
    const judgeInputTokensMax = judgeCalls * (JUDGE_OVERHEAD_TOKENS + (retry ?? maxTokens));
    const judgeOutputTokensMax = judgeCalls * judgeMaxTokens;
    const judgeModel = String(judgeScorers[0]?.spec.judge ?? "");
    const cost = (batch: boolean) => {
      const a = client.prices.cost(
        st.model,
        { input_tokens: agentInputTokens, output_tokens: agentOutputTokensMax },
        { batch },
      );
      const j = judgeModel
        ? client.prices.cost(
            judgeModel,
            { input_tokens: judgeInputTokensMax, output_tokens: judgeOutputTokensMax },
            { batch },
          )
        : 0;
      return a === null || j === null ? null : a + j;
    };
    return {
      key: st.key,
      runId: st.runId,
      model: st.model,
      samples,
      done,
      errors,
      remaining,
      agentCalls: remaining,
      judgeCalls,
      agentInputTokens,
      agentOutputTokensMax,
      judgeInputTokensMax,
      judgeOutputTokensMax,
      costMax: cost(false),
      costMaxBatch: cost(true),
    };
  });
  const sum = (f: (p: StagePlan) => number) => plans.reduce((a, p) => a + f(p), 0);
  const sumCost = (f: (p: StagePlan) => number | null) =>
    plans.some((p) => f(p) === null) ? null : sum((p) => f(p) as number);
  return {
    stages: plans,
    totals: {
      samples: sum((p) => p.samples),
      done: sum((p) => p.done),
      errors: sum((p) => p.errors),
      remaining: sum((p) => p.remaining),
      agentCalls: sum((p) => p.agentCalls),
      judgeCalls: sum((p) => p.judgeCalls),
      agentInputTokens: sum((p) => p.agentInputTokens),
      agentOutputTokensMax: sum((p) => p.agentOutputTokensMax),
      judgeInputTokensMax: sum((p) => p.judgeInputTokensMax),
      judgeOutputTokensMax: sum((p) => p.judgeOutputTokensMax),
      costMax: sumCost((p) => p.costMax),
      costMaxBatch: sumCost((p) => p.costMaxBatch),
    },
  };
}
