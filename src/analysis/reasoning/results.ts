/**
 * What a reasoning analysis reports: frequencies (see `summarizeReasoning`), how far the labels can be
 * trusted (agreement between labellers or repeats, and against a human-labelled subset), and the
 * misuse claims with the check that classified each.
 */
import { z } from "zod";
import { SpecsciError } from "../../core/errors.js";
import { readJsonl } from "../../core/jsonl.js";
import {
  type Confusion,
  cohenKappa,
  cohenKappaInterval,
  confusion,
  fleissKappa,
  type KappaInterval,
} from "../../core/statistics/agreement.js";
import { rulesOf } from "../../spec/model.js";
import type { LabelledRuns, ReasoningSummary, SpecUnderTest, TranscriptLabels } from "./analyze.js";
import { summarizeReasoning } from "./analyze.js";
import type { Taxonomy } from "./taxonomy.js";

export interface HumanLabel {
  /** In an experiment: the arm whose transcript it is (arms share sample ids). */
  arm?: string;
  run?: string;
  sample: string;
  epoch: number;
  categories: string[];
}

const HumanLine = z.strictObject({
  arm: z.string().optional(),
  run: z.string().optional(),
  sample: z.string().min(1),
  epoch: z.number().int().positive().default(1),
  categories: z.array(z.string()),
});

/** A JSONL of human labels: `{"sample": "...", "epoch": 1, "categories": ["..."]}` per line. */
export function loadHumanLabels(file: string, taxonomy: Taxonomy, from?: string): HumanLabel[] {
  const ids = new Set(taxonomy.categories.map((c) => c.id));
  return readJsonl(file, { what: "human label file", from, hint: "one JSON object per line" }).map(
    ({ line, value }) => {
      const r = HumanLine.safeParse(value);
      if (!r.success)
        throw new SpecsciError(
          `${file}:${line}: ${r.error.issues.map((i) => `${i.path.join(".") || "line"}: ${i.message}`).join("; ")}`,
          {
            hint: 'each line: {"arm" or "run": "<experiment arm, or eval run id; optional for one run>", "sample": "<sample id>", "epoch": 1, "categories": ["<category id>", ...]}',
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
    },
  );
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

/** Agreement among some raters on every category, over transcripts all of them labelled. */
export function agreementAmong(l: LabelledRuns, raters: string[]): Agreement | null {
  if (raters.length < 2) return null;
  const all = l.items.filter((i) => raters.every((r) => i.labels[r]?.status === "ok"));
  const method = raters.length === 2 ? "cohen" : "fleiss";
  return {
    method,
    raters,
    n: all.length,
    categories: l.taxonomy.categories.map((c) => {
      const k =
        method === "cohen"
          ? cohenKappa(
              all.map((i) => has(i, raters[0] as string, c.id)),
              all.map((i) => has(i, raters[1] as string, c.id)),
            )
          : fleissKappa(all.map((i) => raters.map((r) => has(i, r, c.id))));
      return { id: c.id, kappa: k.kappa, observed: k.observed, n: k.n };
    }),
  };
}

const labellerOf = (rater: string) => rater.slice(0, rater.lastIndexOf("#"));

/** Agreement between labellers: each one's first labels (repeats are not other labellers). */
export function raterAgreement(l: LabelledRuns): Agreement | null {
  return agreementAmong(
    l,
    l.raters.filter((r) => r.endsWith("#0")),
  );
}

/** Each labeller's agreement with itself across its repeats. */
export function selfAgreement(l: LabelledRuns): Agreement[] {
  const byLabeller = new Map<string, string[]>();
  for (const r of l.raters)
    byLabeller.set(labellerOf(r), [...(byLabeller.get(labellerOf(r)) ?? []), r]);
  return [...byLabeller.values()].flatMap((rs) => agreementAmong(l, rs) ?? []);
}

export interface HumanAgreement {
  /** Human-labelled transcripts the primary labeller labelled validly. */
  n: number;
  /** Human labels that match no transcript of these runs. */
  unmatched: number;
  categories: HumanCategoryAgreement[];
}

/** One category, the primary labeller (predicted) against the human (reference). */
export interface HumanCategoryAgreement extends CategoryAgreement, Confusion {
  /** Kappa's large-sample 95% interval; null where kappa is undefined. */
  interval: KappaInterval | null;
}

/** The transcripts the human labels are about (matched by run, sample and epoch). */
export function humanPairs(
  l: LabelledRuns,
  human: HumanLabel[],
): { pairs: { item: TranscriptLabels; human: HumanLabel }[]; unmatched: number } {
  const keyOf = (h: HumanLabel) => `${h.run ?? "*"}/${h.sample}#${h.epoch}`;
  // Only the keys some human label asks for (a report has 200,000 items and 2,000 human labels).
  const wanted = new Set(human.map(keyOf));
  const byKey = new Map<string, TranscriptLabels[]>();
  for (const i of l.items)
    for (const k of [`${i.runId}/${i.sampleId}#${i.epoch}`, `*/${i.sampleId}#${i.epoch}`])
      if (wanted.has(k)) byKey.set(k, [...(byKey.get(k) ?? []), i]);
  const pairs: { item: TranscriptLabels; human: HumanLabel }[] = [];
  let unmatched = 0;
  for (const h of human) {
    const found = byKey.get(keyOf(h)) ?? [];
    if (found.length > 1)
      throw new SpecsciError(
        `human label for ${h.sample} (epoch ${h.epoch}) matches transcripts of ${found.length} runs`,
        { hint: 'give "run" (the eval run id) on each line' },
      );
    const item = found[0];
    if (!item) unmatched++;
    else if (item.labels[l.primary]?.status === "ok") pairs.push({ item, human: h });
  }
  return { pairs, unmatched };
}

/** The primary labeller against human labels, per category. */
export function humanAgreement(l: LabelledRuns, human: HumanLabel[]): HumanAgreement {
  const { pairs, unmatched } = humanPairs(l, human);
  return agreementWithHumans(l.taxonomy, l.primary, pairs, unmatched);
}

/** Precision, recall and kappa of the primary labeller on matched transcripts. */
export function agreementWithHumans(
  taxonomy: Taxonomy,
  primary: string,
  pairs: { item: TranscriptLabels; human: HumanLabel }[],
  unmatched: number,
): HumanAgreement {
  return {
    n: pairs.length,
    unmatched,
    categories: taxonomy.categories.map((c) => {
      const predicted = pairs.map((p) => has(p.item, primary, c.id));
      const reference = pairs.map((p) => p.human.categories.includes(c.id));
      const k = cohenKappa(predicted, reference);
      return {
        id: c.id,
        kappa: k.kappa,
        observed: k.observed,
        n: k.n,
        interval: cohenKappaInterval(k),
        ...confusion(predicted, reference),
      };
    }),
  };
}

export interface LabelFailures {
  /** Per rater (`labeller#repeat`): labels that failed (call) or stayed invalid. */
  labels: Record<string, { call: number; invalid: number }>;
  /** Misuse claims whose reading failed (retried by the next run). */
  uncheckedClaims: number;
  total: number;
}

/** Every failure in an analysis, over all raters and the misuse readings, not only the first. */
export function labelFailures(l: LabelledRuns): LabelFailures {
  const labels: LabelFailures["labels"] = {};
  for (const r of l.raters) labels[r] = { call: 0, invalid: 0 };
  for (const i of l.items)
    for (const r of l.raters) {
      const x = i.labels[r];
      if (x?.status === "failed") (labels[r] as { call: number; invalid: number })[x.kind]++;
    }
  const uncheckedClaims = l.items.reduce(
    (n, i) => n + i.misuse.filter((m) => m.check.kind === "unchecked").length,
    0,
  );
  const total = Object.values(labels).reduce((n, x) => n + x.call + x.invalid, 0) + uncheckedClaims;
  return { labels, uncheckedClaims, total };
}

export interface ReasoningResults {
  analysisId: string;
  taxonomy: { version: string; source: string; categories: Taxonomy["categories"] };
  spec: { name: string; hash: string } | null;
  raters: string[];
  failedSamples: number;
  failures: LabelFailures;
  summary: ReasoningSummary;
  byRun: Record<string, ReasoningSummary>;
  /** By condition (the eval's sample id: a scenario of the agentic-misalignment suite). */
  byCondition: Record<string, ReasoningSummary>;
  /** Between labellers (their first labels). */
  agreement: Agreement | null;
  /** Each labeller with itself, across repeats. */
  selfAgreement: Agreement[];
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
    failures: labelFailures(l),
    summary: summarizeReasoning(l.items, l.taxonomy, ruleIds, l.primary),
    byRun: Object.fromEntries(
      l.runIds.map((r) => [
        r,
        summarizeReasoning(
          l.items.filter((i) => i.runId === r),
          l.taxonomy,
          ruleIds,
          l.primary,
        ),
      ]),
    ),
    byCondition: conditionSummaries(l, ruleIds),
    agreement: raterAgreement(l),
    selfAgreement: selfAgreement(l),
    human: human ? humanAgreement(l, human) : null,
    misuse: misuseRows(l),
  };
}

/** Frequencies per condition (the eval's sample id), conditions in order. */
export function conditionSummaries(
  l: LabelledRuns,
  ruleIds: string[],
): Record<string, ReasoningSummary> {
  // Grouped in one pass (items keep their order): a report has 200,000 items and 25 conditions.
  const byCondition = new Map<string, TranscriptLabels[]>();
  for (const i of l.items) {
    const list = byCondition.get(i.sampleId);
    if (list) list.push(i);
    else byCondition.set(i.sampleId, [i]);
  }
  return Object.fromEntries(
    [...byCondition.keys()]
      .sort()
      .map((c) => [
        c,
        summarizeReasoning(byCondition.get(c) ?? [], l.taxonomy, ruleIds, l.primary),
      ]),
  );
}

/** Every misuse claim of the items with its check. */
export function misuseRows(l: LabelledRuns): ReasoningResults["misuse"] {
  return l.items.flatMap((i) =>
    i.misuse.map((m) => ({
      runId: i.runId,
      key: i.key,
      rule: m.rule,
      claim: m.claim,
      kind: m.check.kind,
      why: m.check.why,
    })),
  );
}
