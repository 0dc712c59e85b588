/** How far an eval run has got, counted the same way by every command that shows it. */
import type { Store } from "../store/db.js";

export interface SampleProgress {
  /** Samples the run is made of: scenarios × epochs. */
  expected: number;
  /** Samples with a record, whatever their outcome. */
  recorded: number;
  /** Scored. */
  done: number;
  errors: number;
  /** Cut off at their output budget. */
  truncated: number;
  /** Refused by the provider. */
  refused: number;
}

/** `sampleCount` is the run's scenarios (its dataset), each run `epochs` times. */
export function sampleProgress(
  store: Store,
  runId: string,
  sampleCount: number,
  epochs: number,
): SampleProgress {
  const { done, error, truncated, refused } = store.evals.statusCounts(runId);
  return {
    expected: sampleCount * epochs,
    recorded: done + error + truncated + refused,
    done,
    errors: error,
    truncated,
    refused,
  };
}
