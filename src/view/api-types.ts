/**
 * The dashboard's JSON API: the shape of every response, shared by the server (src/view/) and
 * the single-page app (src/view/web/), so a change to one is a type error in the other.
 * Numbers that are NaN on the server (a rate of no samples) arrive as null: JSON has no NaN.
 */
import type { AnnotationQueue, AnnotatorAgreement } from "../analysis/annotations/index.js";
import type { ReportData } from "../report/results.js";
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
  sort?: SampleSort;
  order?: "asc" | "desc";
  offset?: number;
  limit?: number;
}

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
}

/** GET /api/annotations/agreement: judge–human and labeller–human agreement per annotator. */
export interface AnnotationAgreementResponse {
  taxonomy: string;
  analysis: boolean;
  annotators: AnnotatorAgreement[];
}
