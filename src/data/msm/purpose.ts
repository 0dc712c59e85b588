/**
 * The training-purpose check: how many kept documents say that the spec trains the model, against
 * the share the recipe asked for. Recorded in the manifest and card only when the knob is stated,
 * so corpora without it keep their bytes.
 */
import { wilson } from "../../core/stats.js";
import type { MsmConfig } from "./config.js";
import type { CorpusContext } from "./context.js";
import {
  mentionsTrainingPurpose,
  trainingPurposeInstruction,
  trainingPurposeShare,
} from "./knobs.js";
import type { CorpusDocument } from "./screen.js";

export interface TrainingPurposeSummary {
  /** The share of documents asked to state it. */
  asked_share: number;
  kept: number;
  /** Kept documents whose prompt asked for it. */
  asked: number;
  /** Kept documents that state it (asked or not), by `mentionsTrainingPurpose`. */
  stating: number;
  /** Of the asked, those that do not state it (kept after their retries ran out). */
  asked_not_stating: number;
  stated_share: number;
  /** 95% Wilson interval of the stated share. */
  interval: [number, number];
  /** The asked share lies inside that interval: the corpus has what the recipe asked for. */
  as_asked: boolean;
}

/**
 * A document prompt's attribution instructions, with the training-purpose bullet when the
 * document is asked to state it: an extra bullet rather than a slot in the prompt file (or a
 * field of the context), so documents and builds without it keep their bytes.
 */
export function documentAttribution(ctx: CorpusContext, statesPurpose: boolean): string {
  const plain = ctx.knobText.attribution;
  return statesPurpose ? `${plain}\n- ${trainingPurposeInstruction(ctx.subject)}` : plain;
}

/**
 * How many of `documents` document calls are expected to be asked to state the purpose (each
 * is a seeded draw at the share, see `statesTrainingPurpose`): the plan counts their longer
 * prompts.
 */
export const documentsStatingPurpose = (ctx: CorpusContext, documents: number) =>
  Math.round(trainingPurposeShare(ctx.config, ctx.specName) * documents);

export function trainingPurposeSummary(
  config: MsmConfig,
  specName: string,
  documents: readonly CorpusDocument[],
): TrainingPurposeSummary | null {
  const share = trainingPurposeShare(config, specName);
  if (share === 0) return null;
  const states = documents.map((d) => mentionsTrainingPurpose(d.record.content ?? ""));
  const asked = documents.filter((d) => d.record.training_purpose);
  const stating = states.filter(Boolean).length;
  const interval = wilson(stating, documents.length);
  return {
    asked_share: share,
    kept: documents.length,
    asked: asked.length,
    stating,
    asked_not_stating: asked.filter((d) => !mentionsTrainingPurpose(d.record.content ?? "")).length,
    stated_share: documents.length ? stating / documents.length : 0,
    interval,
    as_asked: documents.length > 0 && interval[0] <= share && share <= interval[1],
  };
}

/** The card's line for it. */
export function trainingPurposeLine(s: TrainingPurposeSummary): string {
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  return `- Training purpose: ${pct(s.asked_share)} of documents asked to say that the spec is used to train the model; ${s.stating} of ${s.kept} kept documents say so (${pct(s.stated_share)}, 95% CI ${pct(s.interval[0])}–${pct(s.interval[1])})${s.as_asked ? "" : "; **not the share asked**"}.`;
}
