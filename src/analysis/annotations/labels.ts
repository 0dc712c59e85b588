/**
 * Human labels from the store as the reasoning analysis reads them: the categories an annotator
 * picks from, a stored label's categories (policy misuse folded in), and the JSONL that
 * `specsci analyze reasoning --human FILE` and an experiment's `analysis.reasoning.human` read.
 */
import { SpecsciError } from "../../core/errors.js";
import { writeLines } from "../../core/jsonl.js";
import type { Annotation, Store } from "../../store/index.js";
import type { HumanLabel } from "../reasoning/results.js";
import { POLICY_MISUSE, type Taxonomy } from "../reasoning/taxonomy.js";

/**
 * The categories an annotator picks from: the taxonomy without policy misuse, which is its own
 * yes/no/unsure question on the label (same version: labels record the taxonomy in use).
 */
export function annotationTaxonomy(taxonomy: Taxonomy): Taxonomy {
  return { ...taxonomy, categories: taxonomy.categories.filter((c) => c.id !== POLICY_MISUSE) };
}

/** Unsure about policy misuse where the taxonomy has that category: its presence is unknown. */
export const policyMisuseUnknown = (a: Annotation, taxonomy: Taxonomy) =>
  a.policyMisuse === "unsure" && taxonomy.categories.some((c) => c.id === POLICY_MISUSE);

/**
 * A label's categories, in the taxonomy's order: the ones picked, with policy misuse present
 * exactly when the annotator said yes to it (where the taxonomy has that category).
 */
export function humanCategories(a: Annotation, taxonomy: Taxonomy): string[] {
  const present = new Set(a.categories.filter((c) => c !== POLICY_MISUSE));
  if (a.policyMisuse === "yes") present.add(POLICY_MISUSE);
  return taxonomy.categories.map((c) => c.id).filter((id) => present.has(id));
}

export interface HumanLabelExport {
  /** One line per labelled transcript: `{"run", "sample", "epoch", "categories"}`. */
  lines: HumanLabel[];
  /** Current labels not written, by why. */
  skipped: {
    /** Labelled under another taxonomy version: their categories are not this taxonomy's. */
    otherTaxonomy: number;
    /** About an answer a rerun has since replaced. */
    stale: number;
    /**
     * Unsure about policy misuse, where the taxonomy has that category: a line cannot say
     * "unsure" for one category, and writing it as absent would count as the human's "no".
     */
    policyMisuseUnsure: number;
  };
}

/**
 * The current labels of these runs as human-label lines for `taxonomy`. Each line names its eval
 * run (never only the arm): a run id is exact in an experiment with several models, where an arm
 * holds one run per model. Without `annotator`, every annotator's labels are written, and two
 * annotators of the same transcript are an error (the analysis would count it twice).
 */
export function humanLabelsOf(
  store: Store,
  o: { runIds: string[]; taxonomy: Taxonomy; annotator?: string },
): HumanLabelExport {
  const skipped = { otherTaxonomy: 0, stale: 0, policyMisuseUnsure: 0 };
  const lines: HumanLabel[] = [];
  const by = new Map<string, string>();
  const labels = store.annotations.list({
    runIds: o.runIds,
    ...(o.annotator === undefined ? {} : { annotator: o.annotator.trim() }),
  });
  for (const a of labels) {
    if (a.taxonomy !== o.taxonomy.version) skipped.otherTaxonomy++;
    else if (a.stale) skipped.stale++;
    else if (policyMisuseUnknown(a, o.taxonomy)) skipped.policyMisuseUnsure++;
    else {
      const key = `${a.runId}/${a.sampleId}#${a.epoch}`;
      const other = by.get(key);
      if (other !== undefined)
        throw new SpecsciError(
          `${a.runId}/${a.sampleId} (epoch ${a.epoch}) is labelled by ${other} and by ${a.annotator}`,
          { hint: "export one annotator's labels at a time (give the annotator)" },
        );
      by.set(key, a.annotator);
      lines.push({
        run: a.runId,
        sample: a.sampleId,
        epoch: a.epoch,
        categories: humanCategories(a, o.taxonomy),
      });
    }
  }
  return { lines, skipped };
}

/** Writes the lines of `humanLabelsOf` to a JSONL file (whole or not at all). */
export async function exportHumanLabels(
  store: Store,
  file: string,
  o: { runIds: string[]; taxonomy: Taxonomy; annotator?: string },
): Promise<HumanLabelExport> {
  const out = humanLabelsOf(store, o);
  await writeLines(
    file,
    out.lines.map((l) => JSON.stringify(l)),
  );
  return out;
}
