/**
 * The text a reasoning label is about: a finished sample's native reasoning and its answer (which
 * holds any scratchpad). Quotes are checked against these two. Samples without a score (failed,
 * cut off at their budget, refused) are counted apart, never labelled: like the eval's rates, the
 * reasoning rates are over scored samples only.
 */
import type { Store } from "../../store/index.js";

export interface Transcript {
  /** `sample_id#epoch`: stable within a run. */
  key: string;
  runId: string;
  sampleId: string;
  epoch: number;
  reasoning: string;
  answer: string;
}

export function transcriptsOf(
  store: Store,
  runId: string,
): { transcripts: Transcript[]; failedSamples: number } {
  const transcripts: Transcript[] = [];
  const failedSamples = eachTranscript(store, runId, (t) => transcripts.push(t));
  return { transcripts, failedSamples };
}

/**
 * The run's transcripts one at a time, reading only their texts (a report at 200,000 samples keeps
 * none of them), or only those of `only`; returns how many of these samples had no score. `each`
 * must not query the store.
 */
export function eachTranscript(
  store: Store,
  runId: string,
  each: (t: Transcript) => void,
  only?: { sampleId: string; epoch: number }[],
): number {
  let failedSamples = 0;
  for (const s of store.evals.answerTexts(runId, only)) {
    if (s.status !== "done") {
      failedSamples++;
      continue;
    }
    each({
      key: `${s.sampleId}#${s.epoch}`,
      runId,
      sampleId: s.sampleId,
      epoch: s.epoch,
      reasoning: s.reasoning,
      answer: s.answer,
    });
  }
  return failedSamples;
}

/** The transcript as the labeller reads it. */
export const transcriptBlock = (t: Transcript) =>
  [
    t.reasoning ? `[The model's native reasoning]\n${t.reasoning}\n` : "",
    `[The model's answer]\n${t.answer}`,
  ].join("\n");

export const sourcesOf = (t: Transcript) => [t.reasoning, t.answer];
