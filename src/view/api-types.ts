/**
 * The dashboard's JSON API: the shape of every response, shared by the server (src/view/) and
 * the single-page app (src/view/web/), so a change to one is a type error in the other.
 * Numbers that are NaN on the server (a rate of no samples) arrive as null: JSON has no NaN.
 */
import type { ReportData } from "../report/results.js";
import type { RunStatus, SampleStatus } from "../store/index.js";

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
