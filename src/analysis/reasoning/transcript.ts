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
  let failedSamples = 0;
  for (const s of store.evals.samples(runId)) {
    if (s.status !== "done") {
      failedSamples++;
      continue;
    }
    const out = (s.output ?? {}) as { text?: unknown; reasoning?: unknown };
    transcripts.push({
      key: `${s.sampleId}#${s.epoch}`,
      runId,
      sampleId: s.sampleId,
      epoch: s.epoch,
      reasoning: typeof out.reasoning === "string" ? out.reasoning : "",
      answer: typeof out.text === "string" ? out.text : "",
    });
  }
  return { transcripts, failedSamples };
}

/** The transcript as the labeller reads it. */
export const transcriptBlock = (t: Transcript) =>
  [
    t.reasoning ? `[The model's native reasoning]\n${t.reasoning}\n` : "",
    `[The model's answer]\n${t.answer}`,
  ].join("\n");

export const sourcesOf = (t: Transcript) => [t.reasoning, t.answer];
