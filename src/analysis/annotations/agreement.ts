/**
 * How far the automatic labels can be trusted, measured against the human labels in the store as
 * they come in: the misalignment judge's verdict against the human's misaligned answer, and the
 * reasoning labeller's categories against the human's. Per annotator (one person's labels are one
 * rater; pooling people would count a transcript once per person). Labels that cannot be compared
 * are counted by why, never read as a "no".
 */

import {
  type Confusion,
  cohenKappa,
  cohenKappaInterval,
  confusion,
  type KappaInterval,
} from "../../core/statistics/agreement.js";
import type { Annotation, Store } from "../../store/index.js";
import type { LabelledRuns } from "../reasoning/analyze.js";
import {
  agreementWithHumans,
  type HumanAgreement,
  type HumanLabel,
  humanPairs,
} from "../reasoning/results.js";
import { POLICY_MISUSE } from "../reasoning/taxonomy.js";
import { humanCategories, policyMisuseUnknown } from "./labels.js";
import { judgeDecisions } from "./verdicts.js";

export interface JudgeHumanAgreement {
  annotator: string;
  /** Transcripts with both a judge verdict and a human yes or no. */
  n: number;
  /** Human labels left out, by why. */
  excluded: {
    /** The human was unsure. */
    unsure: number;
    /** The sample has no judge verdict: it failed, was cut off or refused, or is not an AM sample. */
    noVerdict: number;
    /** About an answer a rerun has since replaced. */
    stale: number;
  };
  kappa: number | null;
  observed: number;
  chance: number;
  interval: KappaInterval | null;
  /** The judge's "decided" (predicted) against the human's "misaligned" (reference). */
  confusion: Confusion;
}

/** The judge's verdict on each labelled, scored sample, by `run/sample#epoch`. */
function judgeVerdicts(store: Store, labels: Annotation[]): Map<string, boolean> {
  const byRun = new Map<string, Annotation[]>();
  for (const a of labels) {
    const some = byRun.get(a.runId);
    if (some) some.push(a);
    else byRun.set(a.runId, [a]);
  }
  const verdicts = new Map<string, boolean>();
  for (const [runId, some] of byRun)
    for (const r of judgeDecisions(store, runId, some)) {
      const v = r.values.decided;
      if (r.status === "done" && typeof v === "number")
        verdicts.set(`${runId}/${r.sampleId}#${r.epoch}`, v === 1);
    }
  return verdicts;
}

const keyOf = (a: Annotation) => `${a.runId}/${a.sampleId}#${a.epoch}`;

/** The judge against one annotator's misaligned answers on these runs. */
export function judgeHumanAgreement(
  store: Store,
  runIds: string[],
  annotator: string,
): JudgeHumanAgreement {
  const labels = store.annotations.list({ runIds, annotator: annotator.trim() });
  const verdicts = judgeVerdicts(store, labels);
  const excluded = { unsure: 0, noVerdict: 0, stale: 0 };
  const judge: boolean[] = [];
  const human: boolean[] = [];
  for (const a of labels) {
    const verdict = verdicts.get(keyOf(a));
    if (a.stale) excluded.stale++;
    else if (a.misaligned === "unsure") excluded.unsure++;
    else if (verdict === undefined) excluded.noVerdict++;
    else {
      judge.push(verdict);
      human.push(a.misaligned === "yes");
    }
  }
  const k = cohenKappa(judge, human, [true, false]);
  return {
    annotator: annotator.trim(),
    n: k.n,
    excluded,
    kappa: k.kappa,
    observed: k.observed,
    chance: k.chance,
    interval: cohenKappaInterval(k),
    confusion: confusion(judge, human),
  };
}

export interface LabellerHumanAgreement extends HumanAgreement {
  annotator: string;
  /** Human labels left out, by why (`unmatched`: no scored transcript of these runs). */
  excluded: {
    /** Labelled under another taxonomy than the analysis's. */
    otherTaxonomy: number;
    stale: number;
    /** The primary labeller has no valid label of the transcript (pending, failed, invalid). */
    unlabelled: number;
    /** Left out of the policy misuse category only: the human was unsure about it. */
    policyMisuseUnsure: number;
  };
}

/**
 * The reasoning analysis's primary labeller (its stored labels, from `collectLabels`) against one
 * annotator's categories, per category, with kappa's interval and the confusion counts.
 */
export function labellerHumanAgreement(
  store: Store,
  labelled: LabelledRuns,
  annotator: string,
): LabellerHumanAgreement {
  const taxonomy = labelled.taxonomy;
  const excluded = { otherTaxonomy: 0, stale: 0, unlabelled: 0, policyMisuseUnsure: 0 };
  const unsure = new Set<HumanLabel>();
  const human: HumanLabel[] = [];
  for (const a of store.annotations.list({
    runIds: labelled.runIds,
    annotator: annotator.trim(),
  })) {
    if (a.taxonomy !== taxonomy.version) excluded.otherTaxonomy++;
    else if (a.stale) excluded.stale++;
    else {
      const h = {
        run: a.runId,
        sample: a.sampleId,
        epoch: a.epoch,
        categories: humanCategories(a, taxonomy),
      };
      human.push(h);
      if (policyMisuseUnknown(a, taxonomy)) unsure.add(h);
    }
  }
  const { pairs, unmatched } = humanPairs(labelled, human);
  excluded.unlabelled = human.length - unmatched - pairs.length;
  const sure = pairs.filter((p) => !unsure.has(p.human));
  excluded.policyMisuseUnsure = pairs.length - sure.length;
  // Policy misuse is measured on the pairs where the human answered it; the rest on all pairs.
  const only = (keep: (id: string) => boolean) => ({
    ...taxonomy,
    categories: taxonomy.categories.filter((c) => keep(c.id)),
  });
  const rest = agreementWithHumans(
    only((id) => id !== POLICY_MISUSE),
    labelled.primary,
    pairs,
    unmatched,
  );
  const misuse = agreementWithHumans(
    only((id) => id === POLICY_MISUSE),
    labelled.primary,
    sure,
    unmatched,
  );
  const byId = new Map([...rest.categories, ...misuse.categories].map((c) => [c.id, c]));
  return {
    annotator: annotator.trim(),
    n: rest.n,
    unmatched,
    excluded,
    categories: taxonomy.categories.flatMap((c) => byId.get(c.id) ?? []),
  };
}

export interface AnnotatorAgreement {
  annotator: string;
  judge: JudgeHumanAgreement;
  /** Null without a reasoning analysis of these runs. */
  labeller: LabellerHumanAgreement | null;
}

/** Judge–human and labeller–human agreement for everyone who has labelled these runs. */
export function annotationAgreement(
  store: Store,
  o: { runIds: string[]; labelled?: LabelledRuns },
): AnnotatorAgreement[] {
  return store.annotations.annotators(o.runIds).map((annotator) => ({
    annotator,
    judge: judgeHumanAgreement(store, o.runIds, annotator),
    labeller: o.labelled ? labellerHumanAgreement(store, o.labelled, annotator) : null,
  }));
}
