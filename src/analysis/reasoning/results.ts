/**
 * What a reasoning analysis reports: frequencies (see `summarize`), how far the labels can be
 * trusted (agreement between labellers or repeats, and against a human-labelled subset), and the
 * misuse claims with the check that classified each.
 */
import { z } from "zod";
import { SpecsciError } from "../../core/errors.js";
import { readJsonl } from "../../core/jsonl.js";
import { rulesOf } from "../../spec/model.js";
import { cohenKappa, confusion, fleissKappa } from "../agreement.js";
import type { LabelledRuns, ReasoningSummary, SpecUnderTest, TranscriptLabels } from "./analyze.js";
import { summarize } from "./analyze.js";
import type { Taxonomy } from "./taxonomy.js";

export interface HumanLabel {
  run?: string;
  sample: string;
  epoch: number;
  categories: string[];
}

const HumanLine = z.strictObject({
  run: z.string().optional(),
  sample: z.string().min(1),
  epoch: z.number().int().positive().default(1),
  categories: z.array(z.string()),
});

/** A JSONL of human labels: `{"sample": "...", "epoch": 1, "categories": ["..."]}` per line. */
export function loadHumanLabels(file: string, taxonomy: Taxonomy): HumanLabel[] {
  const ids = new Set(taxonomy.categories.map((c) => c.id));
  return readJsonl(file, "one JSON object per line").map(({ line, value }) => {
    const r = HumanLine.safeParse(value);
    if (!r.success)
      throw new SpecsciError(
        `${file}:${line}: ${r.error.issues.map((i) => `${i.path.join(".") || "line"}: ${i.message}`).join("; ")}`,
        {
          hint: 'each line: {"run": "<eval run id, optional>", "sample": "<sample id>", "epoch": 1, "categories": ["<category id>", ...]}',
        },
      );
    for (const c of r.data.categories)
      if (!ids.has(c))
        throw new SpecsciError(
          `${file}:${line}: "${c}" is not a category of taxonomy ${taxonomy.version}`,
          {
            hint: `categories: ${[...ids].join(", ")}`,
          },
        );
    return r.data;
  });
}

export interface CategoryAgreement {
  id: string;
  kappa: number | null;
  observed: number;
  n: number;
}

export interface Agreement {
  method: "cohen" | "fleiss";
  raters: string[];
  /** Transcripts every rater labelled validly. */
  n: number;
  categories: CategoryAgreement[];
}

const has = (i: TranscriptLabels, rater: string, category: string) => {
  const l = i.labels[rater];
  return l?.status === "ok" && l.value.categories.some((c) => c.id === category);
};

/** Agreement between the raters (labellers × repeats) on every category. */
export function raterAgreement(l: LabelledRuns): Agreement | null {
  if (l.raters.length < 2) return null;
  const both = l.items.filter((i) => l.raters.every((r) => i.labels[r]?.status === "ok"));
  const method = l.raters.length === 2 ? "cohen" : "fleiss";
  return {
    method,
    raters: l.raters,
    n: both.length,
    categories: l.taxonomy.categories.map((c) => {
      const k =
        method === "cohen"
          ? cohenKappa(
              both.map((i) => has(i, l.raters[0] as string, c.id)),
              both.map((i) => has(i, l.raters[1] as string, c.id)),
            )
          : fleissKappa(both.map((i) => l.raters.map((r) => has(i, r, c.id))));
      return { id: c.id, kappa: k.kappa, observed: k.observed, n: k.n };
    }),
  };
}

export interface HumanAgreement {
  /** Human-labelled transcripts the primary labeller labelled validly. */
  n: number;
  /** Human labels that match no transcript of these runs. */
  unmatched: number;
  categories: (CategoryAgreement & { precision: number | null; recall: number | null })[];
}

/** The primary labeller against human labels, per category. */
export function humanAgreement(l: LabelledRuns, human: HumanLabel[]): HumanAgreement {
  const byKey = new Map<string, TranscriptLabels[]>();
  for (const i of l.items) {
    for (const k of [`${i.runId}/${i.sampleId}#${i.epoch}`, `*/${i.sampleId}#${i.epoch}`])
      byKey.set(k, [...(byKey.get(k) ?? []), i]);
  }
  const pairs: { item: TranscriptLabels; human: HumanLabel }[] = [];
  let unmatched = 0;
  for (const h of human) {
    const found = byKey.get(`${h.run ?? "*"}/${h.sample}#${h.epoch}`) ?? [];
    if (found.length > 1)
      throw new SpecsciError(
        `human label for ${h.sample} (epoch ${h.epoch}) matches transcripts of ${found.length} runs`,
        { hint: 'give "run" (the eval run id) on each line' },
      );
    const item = found[0];
    if (!item) unmatched++;
    else if (item.labels[l.primary]?.status === "ok") pairs.push({ item, human: h });
  }
  return {
    n: pairs.length,
    unmatched,
    categories: l.taxonomy.categories.map((c) => {
      const predicted = pairs.map((p) => has(p.item, l.primary, c.id));
      const reference = pairs.map((p) => p.human.categories.includes(c.id));
      const k = cohenKappa(predicted, reference);
      const m = confusion(predicted, reference);
      return {
        id: c.id,
        kappa: k.kappa,
        observed: k.observed,
        n: k.n,
        precision: m.precision,
        recall: m.recall,
      };
    }),
  };
}

export interface ReasoningResults {
  analysisId: string;
  taxonomy: { version: string; source: string; categories: Taxonomy["categories"] };
  spec: { name: string; hash: string } | null;
  raters: string[];
  failedSamples: number;
  summary: ReasoningSummary;
  byRun: Record<string, ReasoningSummary>;
  /** By condition (the eval's sample id: a scenario of the agentic-misalignment suite). */
  byCondition: Record<string, ReasoningSummary>;
  agreement: Agreement | null;
  human: HumanAgreement | null;
  misuse: {
    runId: string;
    key: string;
    rule: string;
    claim: string;
    kind: string;
    why: string;
  }[];
}

export function reasoningResults(
  l: LabelledRuns,
  spec: SpecUnderTest | null,
  human?: HumanLabel[],
): ReasoningResults {
  const ruleIds = spec ? rulesOf(spec.spec).map((r) => r.id) : [];
  return {
    analysisId: l.analysisId,
    taxonomy: {
      version: l.taxonomy.version,
      source: l.taxonomy.source,
      categories: l.taxonomy.categories,
    },
    spec: l.spec,
    raters: l.raters,
    failedSamples: l.failedSamples,
    summary: summarize(l.items, l.taxonomy, ruleIds, l.primary),
    byRun: Object.fromEntries(
      l.runIds.map((r) => [
        r,
        summarize(
          l.items.filter((i) => i.runId === r),
          l.taxonomy,
          ruleIds,
          l.primary,
        ),
      ]),
    ),
    byCondition: Object.fromEntries(
      [...new Set(l.items.map((i) => i.sampleId))].sort().map((c) => [
        c,
        summarize(
          l.items.filter((i) => i.sampleId === c),
          l.taxonomy,
          ruleIds,
          l.primary,
        ),
      ]),
    ),
    agreement: raterAgreement(l),
    human: human ? humanAgreement(l, human) : null,
    misuse: l.items.flatMap((i) =>
      i.misuse.map((m) => ({
        runId: i.runId,
        key: i.key,
        rule: m.rule,
        claim: m.claim,
        kind: m.check.kind,
        why: m.check.why,
      })),
    ),
  };
}
