/**
 * The evaluation framework's concepts, in the spirit of Inspect: a Task has a dataset of Samples,
 * a solver (how the model is prompted) and scorers; an eval run is task × model × epochs ×
 * generation settings. Every part is a small function or plain data, so a run can be recreated
 * from what is stored.
 */
import type { CallContext, ChatMessage, ChatModel, Completion } from "../llm/types.js";

export interface Sample {
  /** Stable across models and runs (e.g. a scenario's condition id). */
  id: string;
  input: ChatMessage[];
  target?: string;
  metadata: Record<string, unknown>;
}

export interface GenerateConfig {
  temperature?: number;
  max_tokens: number;
  top_p?: number;
  seed?: number;
}

/** What one (sample, epoch) has produced so far. */
export interface TaskState {
  sample: Sample;
  epoch: number;
  completion: Completion;
  /** The solver's structured reading of the completion (e.g. parsed actions). */
  parsed: unknown;
}

/** A scorer's verdict on one sample. `value` follows Inspect: a number, a string or a dict. */
export interface Score {
  value: number | string | boolean | Record<string, number | string | boolean | null>;
  answer?: string;
  explanation?: string;
  metadata?: Record<string, unknown>;
}

export interface ScoreContext {
  /** Call context for judge calls (run and stage accounting). */
  context: CallContext;
  /** Aborts the judge calls (Ctrl-C, a budget): the sample is then left for the next run. */
  signal?: AbortSignal;
}

/**
 * A solver's or scorer's serializable description: its name with its arguments beside it (judge,
 * k, prompt version…), as Inspect records a registered object. Stored with every run and hashed
 * into its id, so a run can be told apart, and rebuilt, from what is stored.
 */
export interface ComponentSpec {
  name: string;
  [arg: string]: unknown;
}

export interface Scorer {
  name: string;
  /** Throws `ScoringError` when no valid score can be given (the sample is then an error). */
  score(state: TaskState, ctx: ScoreContext): Promise<Score>;
  /** A serializable description (name and arguments), recorded with the run. */
  spec: ComponentSpec;
}

export interface Solver {
  name: string;
  spec: ComponentSpec;
  /** Prompts the model for one sample; returns the completion and its parse. */
  solve(
    sample: Sample,
    model: ChatModel,
    config: GenerateConfig,
    epoch: number,
    context: CallContext,
    signal?: AbortSignal,
  ): Promise<{ completion: Completion; parsed: unknown }>;
}

export interface Task {
  name: string;
  version: string;
  /** The arguments the task was built with (recorded; enough to rebuild it). */
  args: Record<string, unknown>;
  dataset: Sample[];
  solver: Solver;
  scorers: Scorer[];
  /** Generation defaults when the caller gives none. */
  defaults: GenerateConfig;
}

/**
 * Why a sample has no score: a failed stage (generation or scoring), or the target's own outcome
 * (kind `truncated`: cut off at its output budget; `refused`: the provider reported a refusal).
 * Recorded; never counted as a score.
 */
export interface SampleError {
  stage: "generate" | "score";
  kind: string;
  message: string;
  scorer?: string;
  /** The output budget a cut-off answer had (kind `truncated`). */
  max_tokens?: number;
}

export class ScoringError extends Error {
  constructor(
    readonly kind: string,
    message: string,
  ) {
    super(message);
    this.name = "ScoringError";
  }
}
