import { mapBounded } from "../core/pool.js";
import { ManagedModel } from "./managed.js";
import { callInOrder } from "./ordered-calls.js";
import type { CallOptions, ChatModel, ChatOutcome, ChatRequest } from "./types.js";

/** Outcomes that may wait for an earlier, slower call (beyond the calls in progress). */
const HELD = 4096;
/** Requests whose cache entries are looked up together. */
const LOOKUP_CHUNK = 512;

/**
 * Runs many calls through one model, keeping input order; failures are returned, not thrown.
 * `onResult(outcome, index)` gets every outcome with its index: in input order for a
 * `ManagedModel` (the cache is resolved a chunk at a time, llm/ordered-calls.ts), in order of
 * completion for any other `ChatModel`. `window` is the number of calls in progress at once.
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
  const concurrency = Math.max(1, options.window ?? 512);
  if (!(model instanceof ManagedModel)) {
    return mapBounded(
      requests,
      async (request, i) => {
        const outcome = await model.call(request, options);
        options.onResult?.(outcome, i);
        return outcome;
      },
      { concurrency, signal: options.signal },
    );
  }
  const out: ChatOutcome[] = new Array(requests.length);
  const onResult = options.onResult;
  await callInOrder(
    model,
    requests.keys(),
    (i) => requests[i] as ChatRequest,
    {
      ...(options.context ? { context: options.context } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      chunk: LOOKUP_CHUNK,
      concurrency,
      window: Math.max(HELD, concurrency),
    },
    (outcome, i) => {
      out[i] = outcome;
      onResult?.(outcome, i);
    },
  );
  return out;
}
