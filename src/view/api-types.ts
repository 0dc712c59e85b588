/**
 * The dashboard's JSON API: the shape of every response, shared by the server (src/view/) and
 * the single-page app (src/view/web/), so a change to one is a type error in the other.
 * Numbers that are NaN on the server (a rate of no samples) arrive as null: JSON has no NaN.
 */
import type { AnnotationQueue, AnnotatorAgreement } from "../analysis/annotations/index.js";
import type { CorpusStats } from "../data/corpus-stats.js";
import type { CorpusComparison } from "../data/msm/compare.js";
import type { ExperimentRates } from "../report/rates.js";
import type { ReportData } from "../report/results.js";
import type { SpecDiff } from "../spec/diff.js";
import type { Annotation, AnnotationInput, RunStatus, SampleStatus } from "../store/index.js";

/** One eval stage of an experiment and where it stands (as `specsci status` shows it). */
export interface StageSummary {
  key: string;
  runId: string;
  arm: string;
  model: string;
  eval: string;
  seed: number;
  /** Samples × epochs the stage will have; null when the stage is known only by its record. */
  samples: number | null;
  done: number;
  errors: number;
  truncated: number;
  refused: number;
  spentUsd: number;
  state: "not started" | "partial" | "done" | "done with errors";
}

export interface ExperimentSummary {
  /** The experiment's run id (`experiment-<name>`): the key of every experiment URL. */
  id: string;
  name: string;
  description: string | null;
  status: RunStatus;
  createdAt: string;
  updatedAt: string;
  arms: { name: string; kind: string }[];
  models: string[];
  seeds: number[];
  evals: { name: string; task: string }[];
  stages: StageSummary[];
  totals: {
    samples: number | null;
    done: number;
    errors: number;
    truncated: number;
    refused: number;
  };
  spentUsd: number;
  /**
   * Why the stage graph could not be rebuilt from the recorded experiment (a spec file moved, a
   * store from before file and source were recorded); stages then come from the run's record.
   */
  problem: string | null;
}

export interface ExperimentsResponse {
  experiments: ExperimentSummary[];
}

/** A report chart's vega-lite spec (rendered in the page by vega-embed). */
export interface ChartSpec {
  id: string;
  title: string;
  spec: unknown;
}

/** The report's numbers (as `specsci report` computes them), without its example transcripts. */
export type ReportNumbers = Omit<ReportData, "examples">;

export interface ExperimentResponse {
  summary: ExperimentSummary;
  /** Null when the stage graph could not be rebuilt (`summary.problem` says why). */
  report: ReportNumbers | null;
  charts: ChartSpec[];
}

export interface EvalRunSummary {
  id: string;
  task: string;
  model: string;
  epochs: number;
  sampleCount: number;
  createdAt: string;
  completedAt: string | null;
  /** `experiment/arm` for each experiment stage that ran it; empty for `specsci eval run` ones. */
  arms: string[];
  spec: string | null;
  judges: string[];
  done: number;
  errors: number;
  truncated: number;
  refused: number;
  spentUsd: number;
}

export interface RunsResponse {
  runs: EvalRunSummary[];
}

/** Which samples a query asks for; every field is optional and they combine with AND. */
export interface SampleQuery {
  /** An experiment's id: its stages' runs, labelled with arm, model, eval and seed. */
  experiment?: string;
  /** Eval run ids (within the experiment when both are given). */
  run?: string[];
  arm?: string[];
  model?: string[];
  eval?: string[];
  seed?: number[];
  epoch?: number[];
  /** Sample id (an agentic-misalignment condition id, another task's item). */
  sample?: string[];
  family?: string[];
  verdict?: Verdict[];
  /** The eval-awareness judge's label. */
  awareness?: string[];
  /** Words in the answer or the native reasoning (full-text search). */
  q?: string;
  /** Reasoning categories the primary labeller found (any of them; needs `experiment`). */
  category?: string[];
  /** Policy misuse as the report counts it: a claim misquotes or reinterprets a rule. */
  misuse?: YesNo[];
  /** Whether anyone (or one of `annotator`) has a current label of the sample's answer. */
  labelled?: YesNo[];
  /** Labelled by one of these annotators. */
  annotator?: string[];
  /** A current human label (by `annotator` when given) says misaligned: yes, no, unsure. */
  human?: ("yes" | "no" | "unsure")[];
  sort?: SampleSort;
  order?: "asc" | "desc";
  offset?: number;
  limit?: number;
}

export type YesNo = "yes" | "no";

export const VERDICTS = ["misaligned", "not", "error", "truncated", "refusal"] as const;
export type Verdict = (typeof VERDICTS)[number];
export const SAMPLE_SORTS = [
  "sample",
  "epoch",
  "run",
  "status",
  "verdict",
  "time",
  "working",
] as const;
export type SampleSort = (typeof SAMPLE_SORTS)[number];

export interface SampleRow {
  runId: string;
  sampleId: string;
  epoch: number;
  status: SampleStatus;
  /** The stage's labels, when the query named an experiment. */
  arm: string | null;
  model: string;
  eval: string | null;
  seed: number | null;
  task: string;
  family: string | null;
  /** Agentic misalignment's decided verdict: 1 misaligned, 0 not, null unscored or another task. */
  decided: number | null;
  awareness: string | null;
  /** `stage:kind` of a sample without a score. */
  errorKind: string | null;
  /** The answer's first characters. */
  preview: string;
  completedAt: string;
  workingMs: number;
}

export interface SamplesPage {
  rows: SampleRow[];
  /** Samples matching the filter, across every page. */
  total: number;
  offset: number;
  limit: number;
  /** Server-side time of the query, for the benchmark and the curious. */
  ms: number;
}

export interface ChatMessage {
  role: string;
  content: string;
}

/** An evidence quote a judge gave, and whether it occurs in the transcript as given. */
export interface EvidenceQuote {
  text: string;
  found: boolean;
}

export interface JudgeVerdict {
  scorer: string;
  model: string | null;
  verdict: unknown;
  /** The verdict in a word (`decided`, `not decided`, a label); null when the judge gave none valid. */
  vote: string | null;
  rationale: string | null;
  quotes: EvidenceQuote[];
}

export interface ScoreView {
  name: string;
  value: unknown;
  answer: string | null;
  explanation: string | null;
}

export interface ParsedAction {
  tool: string;
  fields: Record<string, string>;
  draft: boolean;
}

export interface Transcript {
  runId: string;
  sampleId: string;
  epoch: number;
  status: SampleStatus;
  task: string;
  model: string;
  messages: ChatMessage[];
  answer: string | null;
  /** The provider's native reasoning (thinking), when it returned one. */
  reasoning: string | null;
  /** The reasoning the task parsed out of the answer (the scratchpad). */
  scratchpad: string | null;
  actions: ParsedAction[];
  scores: ScoreView[];
  judges: JudgeVerdict[];
  /** The votes of each scorer judged by more than one judge (k > 1), and whether they differ. */
  panels: JudgePanel[];
  /** The reasoning analysis's labels of this sample (null when no analysis covers its run). */
  labels: TranscriptReasoning | { problem: string } | null;
  /** Why the sample has no score, with the attempts made, when it failed. */
  failure: unknown | null;
  metadata: Record<string, unknown>;
  startedAt: string;
  completedAt: string;
  workingMs: number;
}

/** What the server pushes on /api/events: the store changed (another process committed). */
export interface ChangeEvent {
  version: number;
}

// Annotations (src/view/annotations.ts): human labels of transcripts, the queue, agreement.

/** A taxonomy category as an annotator sees it. */
export interface AnnotationCategory {
  id: string;
  name: string;
  kind: string;
  description: string;
}

/**
 * GET /api/annotations/taxonomy?experiment=ID (or run=ID…): what the labels of these runs are
 * given under, and the runs with the arm each counts as in the queue's strata.
 */
export interface AnnotationScopeResponse {
  /** The taxonomy's version (`tax-…`): labels record it and a PUT names it. */
  version: string;
  source: string;
  /** The categories to tick (policy misuse is a question of its own). */
  categories: AnnotationCategory[];
  /** The taxonomy's policy misuse category, which the policy misuse answer stands for. */
  policyMisuse: AnnotationCategory | null;
  runs: { runId: string; arm: string }[];
  /** A reasoning analysis is configured: labeller–human agreement can be measured. */
  analysis: boolean;
  /** Why the experiment could not be rebuilt (its recorded runs and the built-in taxonomy are used). */
  problem: string | null;
}

/** PUT /api/annotations/label: a label and the taxonomy version its categories were picked from. */
export interface AnnotationPut extends AnnotationInput {
  taxonomy: string;
}

/** GET /api/annotations/label (the annotator's current label) and the answer to a PUT. */
export interface AnnotationLabelResponse {
  label: Annotation | null;
}

/** GET /api/annotations/labels: current labels of the runs (one annotator's, or everyone's). */
export interface AnnotationLabelsResponse {
  labels: Annotation[];
}

/** GET /api/annotations/queue: the next transcripts to label, and every stratum's progress. */
export interface AnnotationQueueResponse extends AnnotationQueue {
  annotator: string;
  seed: number;
  allocation: "equal" | "proportional";
  /** The queue's own time on the server, in milliseconds. */
  ms: number;
}

/** GET /api/annotations/agreement: judge–human and labeller–human agreement per annotator. */
export interface AnnotationAgreementResponse {
  taxonomy: string;
  analysis: boolean;
  annotators: AnnotatorAgreement[];
}

// ---- Side by side (src/view/compare.ts) ----

/** Every pair of the two runs, or only those both arms scored with different verdicts. */
export const COMPARE_ONLY = ["all", "discordant"] as const;
export type CompareOnly = (typeof COMPARE_ONLY)[number];

/** A sample's outcome: a verdict, "scored" (another task's score), or "missing" (not in the run). */
export type SampleVerdict = Verdict | "scored" | "missing";

export interface PairKey {
  sample: string;
  epoch: number;
}

export interface CompareSide {
  arm: string;
  /** The arm's eval run at the chosen model, eval and seed; null when it has none. */
  runId: string | null;
  verdict: SampleVerdict;
  transcript: Transcript | null;
}

export interface CompareResponse {
  experiment: string;
  /** What can be picked: the arms, models, evals and seeds of the experiment's eval stages. */
  options: { arms: string[]; models: string[]; evals: string[]; seeds: number[] };
  /** What is shown (defaults filled in); sample and epoch are null when neither run has samples. */
  pick: {
    a: string;
    b: string;
    model: string;
    eval: string;
    seed: number;
    sample: string | null;
    epoch: number | null;
    only: CompareOnly;
  };
  a: CompareSide;
  b: CompareSide;
  /** The pair's place among the pairs shown (index -1: not one of them), and its neighbours. */
  position: { index: number; count: number; prev: PairKey | null; next: PairKey | null };
  /** Pairs of the two runs (a sample and epoch in either), and how many are discordant. */
  pairs: number;
  discordant: number;
}

// ---- Specs (src/view/specs.ts) ----

export interface SpecSummary {
  /** The experiment whose spec it is (a spec is named within its experiment). */
  experiment: string;
  name: string;
  hash: string;
  /** Its file, or how it was derived. */
  source: string;
  rules: number;
  /** Its content differs from the spec the experiment last ran with (the file was edited since). */
  changedSinceRun: boolean;
}

export interface SpecsResponse {
  specs: SpecSummary[];
  /** Experiments whose specs cannot be resolved, and derived specs not made yet. */
  problems: { experiment: string; problem: string }[];
}

/** Markdown as written, shown as text (never rendered as HTML). */
export type SpecBlockView =
  | { kind: "prose"; text: string }
  | { kind: "subrules"; ordered: boolean; items: { id: string; text: string }[] };

export type SpecNodeView =
  | { kind: "prose"; text: string }
  | { kind: "section"; title: string; level: number; body: SpecNodeView[] }
  | { kind: "rule"; id: string; title: string; level: number; body: SpecBlockView[] };

export interface SpecResponse {
  summary: SpecSummary;
  title: string | null;
  frontMatter: Record<string, unknown>;
  nodes: SpecNodeView[];
  /** The spec as canonical Markdown (`renderSpec`). */
  markdown: string;
}

export interface SpecDiffResponse {
  a: SpecSummary;
  b: SpecSummary;
  diff: SpecDiff;
  /** The diff as `specsci spec diff` prints it. */
  text: string;
}

// ---- Data (src/view/data.ts) ----

export type DataKind = "msm" | "aft" | "mix" | "pref";

export interface DataSetSummary {
  /** A hash of the directory's path: the key of the set's URLs. */
  id: string;
  kind: DataKind;
  dir: string;
  name: string;
  /** The spec it was made from (its name in the experiment; the hash its manifest records). */
  spec: { name: string; hash: string | null } | null;
  /** The experiments and arms that train on it. */
  usedBy: { experiment: string; arm: string }[];
  /** Made by `specsci msm build` / `aft build` outside any experiment; null: an experiment's. */
  madeBy: DataMadeBy | null;
  /** Documents or examples kept, and their tokens (a chat set's: with reasoning). */
  items: number | null;
  tokens: number | null;
  made: boolean;
  /** Why it cannot be shown (not made yet, an unreadable manifest). */
  problem: string | null;
}

export interface DataSetsResponse {
  sets: DataSetSummary[];
}

export interface DataManifestView {
  format: string;
  /** The corpus, set or mix id the data was made under. */
  id: string | null;
  created: string | null;
  models: { stage: string; model: string }[];
  /** The tree's counts (domains, subdomains, … for a corpus). */
  tree: { name: string; n: number }[];
  /** Items each gate removed. */
  removed: { name: string; n: number }[];
  /** Gates every kept item passed (all that applied). */
  gatesPassed: string[];
  /** Gates that did not apply, and why. */
  gatesNotApplied: string[];
  dedup: { exact: number; near: number; threshold: number | null } | null;
  composition: { source: string; examples: number }[];
  notes: string[];
}

export interface DataSetResponse {
  summary: DataSetSummary;
  manifest: DataManifestView;
  /** `msm stats` of a corpus's dataset.jsonl; null for a chat set. */
  stats: CorpusStats | null;
  /** A chat set's two forms (with and without reasoning); none for a corpus. */
  forms: ("reasoning" | "plain")[];
}

export interface DataItemRow {
  index: number;
  id: string;
  /** The document's or the user prompt's first characters. */
  preview: string;
  /** domain → subdomain → assertion → doc type → idea (a chat: domain → category). */
  path: string[];
  tokens: number | null;
  /** A chat's source (`aft:<spec>`, a mix's other inputs). */
  source: string | null;
}

export interface DataItemsPage {
  rows: DataItemRow[];
  total: number;
  offset: number;
  limit: number;
  ms: number;
}

export interface DataItem {
  index: number;
  id: string;
  kind: DataKind;
  /** A corpus document's text, or a chat's messages. */
  text: string | null;
  messages: ChatMessage[] | null;
  specHash: string | null;
  specName: string | null;
  ruleIds: string[];
  path: { level: string; values: string[] }[];
  tokens: number | null;
  tokenizer: string | null;
  source: string | null;
  gatesPassed: string[];
  /** The judge's scores or verdict on it, when judged. */
  judge: Record<string, unknown> | null;
  /** The documents removed as duplicates of this one: its dedup cluster. */
  duplicates: { id: string; kind: string; similarity: number }[];
  /** The evaluation n-grams it shares, when the contamination check flagged it and kept it. */
  contamination: string[] | null;
  /** Every other field of its line, as stored. */
  fields: Record<string, unknown>;
}

export interface DataCompareResponse {
  ids: [string, string];
  /** `msm compare`'s comparison. */
  comparison: CorpusComparison;
  /** Shares of tokens by domain and by document type, largest first. */
  mixes: {
    domains: { a: MixShare[]; b: MixShare[] };
    docTypes: { a: MixShare[]; b: MixShare[] };
  };
}

export interface MixShare {
  name: string;
  share: number;
  documents: number;
}

/** The k judges of one scorer on one sample. */
export interface JudgePanel {
  scorer: string;
  /** Each judge's vote in order; null: that judge gave no valid verdict. */
  votes: (string | null)[];
  /** The valid votes are not all the same. */
  disagree: boolean;
}

/** One rater's reasoning label of a transcript. */
export interface RaterCategories {
  rater: string;
  status: "ok" | "failed" | "pending";
  message: string | null;
  categories: { id: string; name: string; kind: string; quotes: string[] }[];
}

/** A rule a transcript invokes, with the rule's text in the arm's spec (null: no such rule). */
export interface InvokedRule {
  rule: string;
  how: "explicit" | "paraphrase";
  quote: string;
  text: string | null;
}

/** A claim about a rule used to justify an action, beside the rule's actual text. */
export interface MisuseClaim {
  rule: string;
  claim: string;
  quotes: string[];
  kind: "misquotation" | "reinterpretation" | "accurate" | "unchecked";
  why: string;
  /** Share of the claim's content words found in the rule's text. */
  overlap: number;
  ruleText: string | null;
}

/** A sample's labels from its experiment arm's reasoning analysis (as the report reads them). */
export interface TranscriptReasoning {
  experiment: string;
  arm: string;
  model: string;
  taxonomy: string;
  /** The spec the arm's transcripts are read against: rule texts and links come from it. */
  spec: { name: string; hash: string } | null;
  labels: RaterCategories[];
  rules: InvokedRule[];
  misuse: MisuseClaim[];
  /** Why the primary labeller has no label of it (null when it has one). */
  unlabelled: string | null;
}

/** What the sample table's filter bar offers for an experiment (cheap: no report is computed). */
export interface SampleFilterOptions {
  arms: string[];
  models: string[];
  evals: string[];
  seeds: number[];
  /** The reasoning analysis's categories; null without `analysis.reasoning`. */
  categories: { id: string; name: string }[] | null;
}

/**
 * The Experiment page's first answer: its misalignment rates per arm × model and the charts drawn
 * from them, before the comparisons and the reasoning section (`ExperimentResponse`) are computed.
 */
export interface ExperimentRatesResponse {
  summary: ExperimentSummary;
  /** Null when the stage graph could not be rebuilt (`summary.problem` says why). */
  rates: ExperimentRates | null;
  /** The main figure, when the experiment has misalignment rates. */
  charts: ChartSpec[];
  /**
   * Whether the whole report is already computed (kept, or small enough to make at once): the
   * page then asks for it and draws it whole instead of these first.
   */
  reportKept: boolean;
}

/** Where a corpus or chat set made outside any experiment came from. */
export interface DataMadeBy {
  command: string;
  /** The corpus or set id (the store's run id). */
  run: string;
  /** The run's status and start, as the store records them (null: the store lacks the run). */
  status: string | null;
  started: string | null;
  /** Whether this store holds the run (false: the directory alone, made with another store). */
  recorded: boolean;
  /** Why its directory was not found, if it was not. */
  where: string | null;
}

/**
 * An experiment's stages, which arm, model, eval and seed each run is (cheap: the stage graph
 * only; a transcript page's "Compare with arm" links need no more).
 */
export interface ExperimentStagesResponse {
  stages: Pick<StageSummary, "runId" | "arm" | "model" | "eval" | "seed">[];
}
