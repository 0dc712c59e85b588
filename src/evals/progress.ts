/** How far an eval run has got, counted the same way by every command that shows it. */
import type { Store } from "../store/db.js";

export interface SampleProgress {
  /** Samples the run is made of: scenarios × epochs. */
  expected: number;
  /** Samples with a record, finished or failed. */
  recorded: number;
  done: number;
  errors: number;
}

/** `sampleCount` is the run's scenarios (its dataset), each run `epochs` times. */
export function sampleProgress(
  store: Store,
  runId: string,
  sampleCount: number,
  epochs: number,
): SampleProgress {
  const { done, error } = store.evals.statusCounts(runId);
  return { expected: sampleCount * epochs, recorded: done + error, done, errors: error };
}
