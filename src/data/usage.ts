import type { Store } from "../store/index.js";

/** Calls, tokens and cost of one generation run, for its manifest. */
export function usageSummary(store: Store, runId: string) {
  const usage = store.llm.usage({ runId });
  const sum = (f: (u: (typeof usage)[number]) => number) => usage.reduce((a, u) => a + f(u), 0);
  return {
    // Calls of every run of this corpus, replays from the response cache included.
    calls: sum((u) => u.calls),
    cached_calls: sum((u) => u.cached),
    failed_calls: sum((u) => u.failed),
    input_tokens: sum((u) => u.inputTokens),
    output_tokens: sum((u) => u.outputTokens),
    /** USD; null when some call's model has no known price. */
    cost_usd: usage.some((u) => u.unpricedCalls > 0) ? null : sum((u) => u.costUsd),
    by_stage: usage.map((u) => ({
      stage: u.stage,
      model: u.model,
      calls: u.calls,
      failed: u.failed,
      cost_usd: u.unpricedCalls ? null : u.costUsd,
    })),
  };
}
