/**
 * Reasoning analysis of eval runs: every finished transcript labelled by one or more labellers
 * (and repeats), explicit rule ids found deterministically, misuse claims checked against the spec
 * under test, and the labels kept in the store (one item per transcript and rater), so a rerun
 * labels only what is missing and a failed call is retried. Summaries count failures apart: a
 * transcript whose label failed is in no denominator.
 */
import { z } from "zod";
import { hashValue } from "../../core/hash.js";
import { feedbackText, renderPrompt } from "../../core/prompt-files.js";
import { wilson } from "../../core/statistics/comparisons.js";
import type { LlmClient } from "../../llm/client.js";
import { rulesOf, type Spec } from "../../spec/model.js";
import type { Store } from "../../store/index.js";
import type { ItemRow } from "../../store/item-tables.js";
import { askItem, needsAsking, pool } from "./items.js";
import {
  checkLabels,
  LABEL_PROMPT,
  type LabelValue,
  labelMessages,
  MISUSE_PROMPT,
  taggedJson,
} from "./labeller.js";
import { lexicalCheck, type MisuseCheck, ruleIndex } from "./misuse.js";
import { explicitMentions, type RuleMention } from "./rules.js";
import type { Taxonomy } from "./taxonomy.js";
import { eachTranscript, type Transcript, transcriptsOf } from "./transcript.js";

export interface SpecUnderTest {
  name: string;
  hash: string;
  spec: Spec;
}

export interface ReasoningOptions {
  /** Labeller model ids: the first is the primary one; more give inter-labeller agreement. */
  labellers: string[];
  /** Labels per transcript per labeller (repeats give self-agreement). */
  repeats: number;
  attempts: number;
  temperature: number;
  maxTokens: number;
  concurrency: number;
  taxonomy: Taxonomy;
  spec: SpecUnderTest | null;
  signal?: AbortSignal;
  log?: (line: string) => void;
}

export type RaterLabel =
  | { status: "ok"; value: LabelValue }
  | { status: "failed"; kind: "call" | "invalid"; message: string };

export interface TranscriptLabels {
  key: string;
  runId: string;
  sampleId: string;
  epoch: number;
  explicit: RuleMention[];
  /** Rater (`<labeller>#<repeat>`) → label. */
  labels: Record<string, RaterLabel>;
  /** The primary label's misuse claims, checked against the spec. */
  misuse: { rule: string; claim: string; quotes: string[]; check: MisuseCheck }[];
}

export interface LabelledRuns {
  analysisId: string;
  runIds: string[];
  taxonomy: Taxonomy;
  spec: { name: string; hash: string } | null;
  raters: string[];
  primary: string;
  failedSamples: number;
  items: TranscriptLabels[];
}

export const raterId = (labeller: string, repeat: number) => `${labeller}#${repeat}`;

/**
 * Item keys are unique within an analysis across its stages: the stage leads
 * (`label:<rater>|<run>/<sample>#<epoch>`; the dashboard's sample filters match this in SQL).
 */
export const itemKey = (stage: string, t: { runId: string; key: string }) =>
  `${stage}|${t.runId}/${t.key}`;

/** The stage of a rater's labels, and of the primary labeller's misuse readings. */
export const labelStage = (rater: string) => `label:${rater}`;
export const misuseStage = (labeller: string) => `misuse:${labeller}`;

/** What labels depend on besides the labeller: taxonomy, prompt, spec, sampling. */
export function analysisId(
  o: Pick<ReasoningOptions, "taxonomy" | "spec" | "temperature" | "attempts" | "maxTokens">,
) {
  return `reasoning-${hashValue({
    taxonomy: o.taxonomy.version,
    prompts: [LABEL_PROMPT().version, MISUSE_PROMPT().version],
    spec: o.spec?.hash ?? null,
    temperature: o.temperature,
    attempts: o.attempts,
    max_tokens: o.maxTokens,
  }).slice(0, 16)}`;
}

/** Labels every finished transcript of the runs (resuming what is stored), then checks misuse. */
export async function labelRuns(
  client: LlmClient,
  runIds: string[],
  o: ReasoningOptions,
): Promise<LabelledRuns> {
  const store = client.store;
  const id = analysisId(o);
  store.runs.ensure({
    id,
    kind: "analysis",
    name: `reasoning ${o.taxonomy.version}`,
    config: {
      taxonomy: o.taxonomy,
      spec: o.spec ? { name: o.spec.name, hash: o.spec.hash } : null,
      prompt: LABEL_PROMPT().version,
      temperature: o.temperature,
      attempts: o.attempts,
    },
  });
  const rules = o.spec ? rulesOf(o.spec.spec).map((r) => ({ id: r.id, title: r.title })) : [];
  const index = ruleIndex(o.spec?.spec);
  const transcripts = runIds.flatMap((r) => transcriptsOf(store, r).transcripts);
  const raters = o.labellers.flatMap((l) =>
    Array.from({ length: o.repeats }, (_, k) => ({ labeller: l, repeat: k, id: raterId(l, k) })),
  );
  await store.runs.track(id, o.signal, async () => {
    for (const rater of raters) {
      const stage = labelStage(rater.id);
      const stored = store.items.stage(id, stage);
      // Stored answers stay; calls that failed are tried again.
      const todo = transcripts.filter((t) => needsAsking(stored.get(itemKey(stage, t))));
      if (!todo.length) continue;
      o.log?.(`labelling ${todo.length} transcript(s) with ${rater.id}`);
      const model = client.model(rater.labeller);
      await pool(todo, o.concurrency, async (t) => {
        o.signal?.throwIfAborted();
        await askItem(
          store,
          id,
          { key: itemKey(stage, t), stage },
          model,
          labelMessages(t, o.taxonomy, rules),
          (text) => checkLabels(text, t, o.taxonomy, index),
          {
            params: { temperature: o.temperature, max_tokens: o.maxTokens },
            attempts: o.attempts,
            sampleBase: rater.repeat * o.attempts,
            context: { runId: id, stage },
            ...(o.signal ? { signal: o.signal } : {}),
          },
        );
      });
    }
    if (o.spec) await compareClaims(client, id, transcripts, o);
  });
  return collectLabels(store, runIds, o);
}

/** The key of a transcript's misuse claim `n` in the primary labeller's misuse stage. */
export const claimKey = (labeller: string, t: { runId: string; key: string }, n: number) =>
  `${itemKey(misuseStage(labeller), t)}/${n}`;

const Verdict = z.object({ verdict: z.enum(["accurate", "reinterpretation"]), reason: z.string() });

/** The primary labeller reads each misuse claim beside its rule's text (misquotations aside). */
async function compareClaims(
  client: LlmClient,
  id: string,
  transcripts: Transcript[],
  o: ReasoningOptions,
): Promise<void> {
  const store = client.store;
  const labeller = o.labellers[0] as string;
  const primary = store.items.stage(id, labelStage(raterId(labeller, 0)));
  const stage = misuseStage(labeller);
  const stored = store.items.stage(id, stage);
  const prompt = MISUSE_PROMPT();
  const todo: { key: string; rule: string; claim: string; text: string }[] = [];
  for (const t of transcripts) {
    const row = primary.get(itemKey(labelStage(raterId(labeller, 0)), t));
    if (row?.status !== "ok") continue;
    (row.value as LabelValue).misuse.forEach((m, n) => {
      const key = claimKey(labeller, t, n);
      if (!needsAsking(stored.get(key))) return;
      const lex = lexicalCheck(m.claim, m.rule, (o.spec as SpecUnderTest).spec);
      if ("ruleText" in lex) todo.push({ key, rule: m.rule, claim: m.claim, text: lex.ruleText });
    });
  }
  if (!todo.length) return;
  o.log?.(`comparing ${todo.length} misuse claim(s) with their rules`);
  const model = client.model(labeller);
  await pool(todo, o.concurrency, async (c) => {
    await askItem(
      store,
      id,
      { key: c.key, stage },
      model,
      (feedback) => [
        {
          role: "user",
          content: renderPrompt(prompt, {
            rule: c.rule,
            rule_text: c.text,
            claim: c.claim,
            feedback: feedbackText(feedback),
          }),
        },
      ],
      (text) => {
        const j = taggedJson(text, "check");
        if ("problem" in j) return j;
        const v = Verdict.safeParse(j.value);
        return v.success
          ? { ok: v.data }
          : { problem: 'give "verdict" (accurate or reinterpretation) and "reason"' };
      },
      {
        params: { temperature: 0, max_tokens: 400 },
        attempts: o.attempts,
        context: { runId: id, stage },
        ...(o.signal ? { signal: o.signal } : {}),
      },
    );
  });
}

/** A transcript named by its run, sample id and epoch (a human label's, say). */
export interface TranscriptKey {
  runId: string;
  sampleId: string;
  epoch: number;
}

export interface CollectOptions {
  /**
   * Only these transcripts, read by key instead of every transcript of the runs (keys of other
   * runs are left out; `failedSamples` counts only these).
   */
  only?: TranscriptKey[];
  /**
   * For counts at scale (a report over 200,000 transcripts): each label keeps its category and
   * rule ids but no quotes, explicit mentions keep no sentence, and equal labels are one shared
   * object, so an item costs tens of bytes instead of its parsed JSON. Misuse claims stay whole.
   * The items must not be changed. Calls given the same `LeanForms` share them with each other
   * (a report's arms have the same sample ids and keys, and mostly the same labels).
   */
  lean?: boolean | LeanForms;
}

/** Labels are read this many transcripts at a time: one batch's JSON is parsed at once. */
const LABEL_BATCH = 1000;

/** The stored labels of the runs' transcripts, without any call (a report reads these). */
export function collectLabels(
  store: Store,
  runIds: string[],
  o: Pick<
    ReasoningOptions,
    "labellers" | "repeats" | "taxonomy" | "spec" | "temperature" | "attempts" | "maxTokens"
  >,
  c: CollectOptions = {},
): LabelledRuns {
  const id = analysisId(o);
  const ruleIds = o.spec ? rulesOf(o.spec.spec).map((r) => r.id) : [];
  const raters = o.labellers.flatMap((l) =>
    Array.from({ length: o.repeats }, (_, k) => ({ labeller: l, repeat: k, id: raterId(l, k) })),
  );
  const primary = raters[0]?.id as string;
  const labeller = o.labellers[0] as string;
  const lean = c.lean instanceof LeanForms ? c.lean : c.lean ? new LeanForms() : null;
  // First what the transcripts' texts give (read one at a time and not kept), then their labels,
  // filled in batches: no other query may run while the texts are streamed. The items are made
  // as the texts come (nothing else is kept meanwhile: a report makes 200,000).
  const items: TranscriptLabels[] = [];
  let failedSamples = 0;
  for (const runId of runIds) {
    const only = c.only?.filter((k) => k.runId === runId);
    if (only && !only.length) continue;
    failedSamples += eachTranscript(
      store,
      runId,
      (t) => {
        const sampleId = lean ? lean.sample(t.sampleId) : t.sampleId;
        const explicit = explicitMentions(t, ruleIds);
        items.push({
          key: lean ? lean.key(sampleId, t.epoch) : t.key,
          runId: t.runId,
          sampleId,
          epoch: t.epoch,
          explicit: lean ? lean.explicit(explicit) : explicit,
          labels: {},
          misuse: NONE,
        });
      },
      only,
    );
  }
  for (let from = 0; from < items.length; from += LABEL_BATCH) {
    const batch = items.slice(from, from + LABEL_BATCH);
    // Only these transcripts' labels: an analysis's stage can hold other arms' and models'.
    const rows = new Map(
      raters.map((r) => {
        const stage = labelStage(r.id);
        return [
          r.id,
          store.items.stage(
            id,
            stage,
            batch.map((t) => itemKey(stage, t)),
          ),
        ];
      }),
    );
    const checks = o.spec ? claimChecks(store, id, labeller, batch, rows.get(primary)) : new Map();
    for (const t of batch) {
      const labels: Record<string, RaterLabel> = {};
      for (const r of raters) {
        const row = rows.get(r.id)?.get(itemKey(labelStage(r.id), t));
        if (row) labels[r.id] = raterLabel(row);
      }
      const p = labels[primary];
      const misuse =
        p?.status === "ok" && o.spec
          ? checkedClaims(p.value, o.spec.spec, checks, labeller, t)
          : [];
      t.labels = lean ? lean.labels(labels, raters) : labels;
      t.misuse = lean ? lean.claims(misuse) : misuse;
    }
  }
  return {
    analysisId: id,
    runIds,
    taxonomy: o.taxonomy,
    spec: o.spec ? { name: o.spec.name, hash: o.spec.hash } : null,
    raters: raters.map((r) => r.id),
    primary,
    failedSamples,
    items,
  };
}

const raterLabel = (row: ItemRow): RaterLabel =>
  row.status === "ok"
    ? { status: "ok", value: row.value as LabelValue }
    : {
        status: "failed",
        kind: row.error?.kind === "invalid" ? "invalid" : "call",
        message: row.error?.message ?? "",
      };

/** The stored readings of a batch's misuse claims (those of its primary labels), by key. */
function claimChecks(
  store: Store,
  id: string,
  labeller: string,
  batch: TranscriptLabels[],
  primary: Map<string, ItemRow> | undefined,
): Map<string, ItemRow> {
  const stage = labelStage(raterId(labeller, 0));
  const keys = batch.flatMap((t) => {
    const row = primary?.get(itemKey(stage, t));
    return row?.status === "ok"
      ? (row.value as LabelValue).misuse.map((_, n) => claimKey(labeller, t, n))
      : [];
  });
  return keys.length ? store.items.stage(id, misuseStage(labeller), keys) : new Map();
}

// Shared by every lean item (never changed: see CollectOptions.lean).
const NONE: never[] = [];

/** The lean forms of collectLabels: equal labels, mentions, sample ids and keys shared. */
export class LeanForms {
  private shared = new Map<string, unknown>();
  /** Ids of the shared labels (a labels record is shared when all of its labels are). */
  private ids = new Map<RaterLabel, number>();

  private share<T>(key: string, make: () => T): T {
    let v = this.shared.get(key) as T | undefined;
    if (v === undefined) {
      v = make();
      this.shared.set(key, v);
    }
    return v;
  }

  sample(id: string): string {
    return this.share(`s\0${id}`, () => id);
  }

  key(sampleId: string, epoch: number): string {
    const key = `${sampleId}#${epoch}`;
    return this.share(`k\0${key}`, () => key);
  }

  /** Checked claims without their quotes, equal texts shared. */
  claims(claims: TranscriptLabels["misuse"]): TranscriptLabels["misuse"] {
    if (!claims.length) return NONE;
    const text = (t: string) => this.share(`t\0${t}`, () => t);
    return claims.map((m) => ({
      rule: text(m.rule),
      claim: text(m.claim),
      quotes: NONE,
      check: { ...m.check, why: text(m.check.why) },
    }));
  }

  explicit(mentions: RuleMention[]): RuleMention[] {
    if (!mentions.length) return NONE;
    return this.share(`e\0${mentions.map((m) => m.rule).join("\0")}`, () =>
      mentions.map((m) => ({ rule: m.rule, how: m.how, quote: "" })),
    );
  }

  private label(l: RaterLabel): RaterLabel {
    if (l.status === "failed") return this.known(`f\0${l.kind}\0${l.message}`, () => l);
    const v = l.value;
    const lean = (): RaterLabel => ({
      status: "ok",
      value: {
        categories: v.categories.map((x) => ({ id: x.id, quotes: NONE })),
        rules: v.rules.map((x) => ({ rule: x.rule, quotes: NONE })),
        misuse: v.misuse.length ? v.misuse.map((m) => ({ ...m, quotes: NONE })) : NONE,
      },
    });
    // A label with misuse claims keeps them, so it is its own.
    if (v.misuse.length) return lean();
    const ids = (xs: string[]) => xs.join("\0");
    return this.known(
      `o\0${ids(v.categories.map((x) => x.id))}\0\0${ids(v.rules.map((x) => x.rule))}`,
      lean,
    );
  }

  private known(key: string, make: () => RaterLabel): RaterLabel {
    return this.share(key, () => {
      const l = make();
      this.ids.set(l, this.ids.size);
      return l;
    });
  }

  labels(labels: Record<string, RaterLabel>, raters: { id: string }[]): Record<string, RaterLabel> {
    const lean: Record<string, RaterLabel> = {};
    const key: (number | string)[] = [];
    for (const r of raters) {
      const l = labels[r.id];
      if (!l) {
        key.push("-");
        continue;
      }
      const x = this.label(l);
      lean[r.id] = x;
      key.push(this.ids.get(x) ?? "own");
    }
    return key.includes("own") ? lean : this.share(`r\0${key.join(",")}`, () => lean);
  }
}

/**
 * A label's misuse claims, each checked against the spec: `checks` holds the stored readings of
 * the analysis's `misuse:<labeller>` stage (all of them, or at least this transcript's).
 */
export function checkedClaims(
  value: LabelValue,
  spec: Spec,
  checks: Map<string, ItemRow>,
  labeller: string,
  t: { runId: string; key: string },
): TranscriptLabels["misuse"] {
  return value.misuse.map((m, n) => ({
    ...m,
    check: claimCheck(m, spec, checks.get(claimKey(labeller, t, n))),
  }));
}

/** A claim's check: a misquotation found deterministically, or the model's stored reading. */
function claimCheck(
  m: { rule: string; claim: string },
  spec: Spec,
  row: ItemRow | undefined,
): MisuseCheck {
  const lex = lexicalCheck(m.claim, m.rule, spec);
  if ("final" in lex) return lex.final;
  if (row?.status !== "ok")
    return {
      kind: "unchecked",
      why: row ? `the comparison with ${m.rule} failed: ${row.error?.message}` : "not compared yet",
      overlap: lex.overlap,
    };
  const v = row.value as { verdict: "accurate" | "reinterpretation"; reason: string };
  return { kind: v.verdict, why: v.reason, overlap: lex.overlap };
}

export interface Frequency {
  present: number;
  n: number;
  rate: number | null;
  interval: [number, number] | null;
}

const frequency = (present: number, n: number): Frequency => ({
  present,
  n,
  rate: n ? present / n : null,
  interval: n ? wilson(present, n) : null,
});

export interface ReasoningSummary {
  transcripts: number;
  labelled: number;
  failed: { call: number; invalid: number };
  /** Transcripts not labelled yet (the analysis has not run on them). */
  pending: number;
  categories: ({ id: string; name: string; kind: string } & Frequency)[];
  /** Per rule of the spec: transcripts that invoke it by id, by paraphrase, either. */
  rules: { rule: string; explicit: Frequency; any: Frequency }[];
  misuse: {
    /** Transcripts with a misquoted or reinterpreted rule. */
    rate: Frequency;
    claims: Record<MisuseKind, number>;
  };
}

type MisuseKind = MisuseCheck["kind"];

/**
 * One transcript's value on the measures arms are compared on: 1 or 0, or null when it is in no
 * denominator (its label failed; for misuse, also when its only claims could not be compared or
 * no spec is under test).
 */
export function itemMeasures(
  i: TranscriptLabels,
  primary: string,
  ruleIds: string[],
): { misuse: 0 | 1 | null; rules: Record<string, 0 | 1 | null> } {
  const l = i.labels[primary];
  if (l?.status !== "ok")
    return { misuse: null, rules: Object.fromEntries(ruleIds.map((r) => [r, null])) };
  const misused = i.misuse.some(
    (m) => m.check.kind === "misquotation" || m.check.kind === "reinterpretation",
  );
  const unchecked = i.misuse.some((m) => m.check.kind === "unchecked");
  return {
    misuse: !ruleIds.length ? null : misused ? 1 : unchecked ? null : 0,
    rules: Object.fromEntries(
      ruleIds.map((r) => [
        r,
        i.explicit.some((m) => m.rule === r) || l.value.rules.some((m) => m.rule === r) ? 1 : 0,
      ]),
    ),
  };
}

/** Frequencies over a set of labelled transcripts (one arm, one run, or all). */
export function summarizeReasoning(
  items: TranscriptLabels[],
  taxonomy: Taxonomy,
  ruleIds: string[],
  primary: string,
): ReasoningSummary {
  const ok = items.filter((i) => i.labels[primary]?.status === "ok");
  const failed = { call: 0, invalid: 0 };
  let pending = 0;
  for (const i of items) {
    const l = i.labels[primary];
    if (l?.status === "failed") failed[l.kind]++;
    else if (!l) pending++;
  }
  const value = (i: TranscriptLabels) => (i.labels[primary] as { value: LabelValue }).value;
  const claims: Record<MisuseKind, number> = {
    misquotation: 0,
    reinterpretation: 0,
    accurate: 0,
    unchecked: 0,
  };
  const misused = (i: TranscriptLabels) =>
    i.misuse.some((m) => m.check.kind === "misquotation" || m.check.kind === "reinterpretation");
  // A transcript whose only claims could not be compared is in no misuse denominator; without a
  // spec under test (no rules) misuse is not analysed at all, so nothing is a denominator.
  const decided = ruleIds.length
    ? ok.filter((i) => misused(i) || !i.misuse.some((m) => m.check.kind === "unchecked"))
    : [];
  for (const i of ok) for (const m of i.misuse) claims[m.check.kind]++;
  return {
    transcripts: items.length,
    labelled: ok.length,
    failed,
    pending,
    categories: taxonomy.categories.map((c) => ({
      id: c.id,
      name: c.name,
      kind: c.kind,
      ...frequency(
        ok.filter((i) => value(i).categories.some((x) => x.id === c.id)).length,
        ok.length,
      ),
    })),
    rules: ruleIds.map((rule) => ({
      rule,
      // Explicit mentions need no label: every transcript counts.
      explicit: frequency(
        items.filter((i) => i.explicit.some((m) => m.rule === rule)).length,
        items.length,
      ),
      any: frequency(
        ok.filter(
          (i) =>
            i.explicit.some((m) => m.rule === rule) || value(i).rules.some((m) => m.rule === rule),
        ).length,
        ok.length,
      ),
    })),
    misuse: {
      rate: frequency(decided.filter(misused).length, decided.length),
      claims,
    },
  };
}
