import { mapBounded } from "../core/pool.js";
import type { CallOptions, ChatModel, ChatOutcome, ChatRequest } from "./types.js";

/**
 * Runs many calls through one model, keeping input order; failures are returned, not thrown.
 * When `signal` aborts, no new call starts and the returned promise rejects with its reason
 * (calls already in flight end as recorded `aborted` failures); a re-run resumes from the cache.
 */
export async function callMany(
  model: ChatModel,
  requests: ChatRequest[],
  options: CallOptions & {
    onResult?: (outcome: ChatOutcome, index: number) => void;
    window?: number;
  } = {},
): Promise<ChatOutcome[]> {
  // A bounded window of outstanding calls keeps memory flat for very large inputs; the limiter
  // decides how many of them are actually on the wire.
  return mapBounded(
    requests,
    async (request, i) => {
      const outcome = await model.call(request, options);
      options.onResult?.(outcome, i);
      return outcome;
    },
    { concurrency: options.window ?? 512, signal: options.signal },
  );
}
