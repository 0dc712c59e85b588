/**
 * The one validated-answer loop: ask a model, check its answer, ask again with the problem shown
 * up to N times, and end in an accepted value, an invalid answer, or a failed call, each recorded
 * as what it is by the caller. Online callers use `askValidated`; the batch path of the stage
 * executor drives the same steps (`firstAttempt`, `attemptRequest`, `settleAttempt`) in rounds.
 */
import { failureError } from "./errors.js";
import type {
  CallContext,
  CallFailure,
  ChatMessage,
  ChatModel,
  ChatOutcome,
  ChatRequest,
  Completion,
  SamplingParams,
} from "./types.js";

export type Check<T> = { ok: T } | { problem: string };

/**
 * A checked answer: accepted with its value, or rejected with the problem to show the model (and
 * optionally a larger output budget for the next attempt).
 */
export type Verdict<T> = { ok: T } | { retry: string; maxTokens?: number };

/** A question asked until its answer passes `check`. */
export interface Question<T> {
  /** The request of attempt `attempt` (from 0), with the last problem and the output budget. */
  request(
    attempt: number,
    feedback: string | undefined,
    maxTokens: number | undefined,
  ): ChatRequest;
  check(c: Completion): Verdict<T>;
  /** What to accept when the attempts run out; without it (or when it returns undefined) none is. */
  exhausted?(problem: string, last: Completion): T | undefined;
}

export interface AnswerAttempt {
  text: string;
  cacheKey: string;
  /** Why the answer was rejected; absent for the accepted one. */
  problem?: string;
}

/** How a question ended. `tries` counts the calls made, the failed one included. */
export type Answer<T> =
  | { status: "ok"; value: T; attempts: AnswerAttempt[]; tries: number }
  | {
      status: "invalid";
      problem: string;
      last: Completion;
      attempts: AnswerAttempt[];
      tries: number;
    }
  | { status: "failed"; failure: CallFailure; attempts: AnswerAttempt[]; tries: number };

/** Where a question stands between two attempts. */
export interface Asking<T> {
  question: Question<T>;
  attempt: number;
  feedback: string | undefined;
  maxTokens: number | undefined;
  attempts: AnswerAttempt[];
}

export const firstAttempt = <T>(question: Question<T>, maxTokens?: number): Asking<T> => ({
  question,
  attempt: 0,
  feedback: undefined,
  maxTokens,
  attempts: [],
});

export const attemptRequest = <T>(a: Asking<T>): ChatRequest =>
  a.question.request(a.attempt, a.feedback, a.maxTokens);

export const isAnswer = <T>(x: Answer<T> | Asking<T>): x is Answer<T> => "status" in x;

/** Settles one attempt's outcome: how the question ended, or its next attempt. */
export function settleAttempt<T>(
  a: Asking<T>,
  outcome: ChatOutcome,
  maxAttempts: number,
): Answer<T> | Asking<T> {
  const tries = a.attempt + 1;
  if (!outcome.ok) return { status: "failed", failure: outcome, attempts: a.attempts, tries };
  const verdict = a.question.check(outcome);
  if ("ok" in verdict) {
    const attempts = [...a.attempts, { text: outcome.text, cacheKey: outcome.cacheKey }];
    return { status: "ok", value: verdict.ok, attempts, tries };
  }
  const attempts = [
    ...a.attempts,
    { text: outcome.text, cacheKey: outcome.cacheKey, problem: verdict.retry },
  ];
  if (tries < maxAttempts)
    return {
      question: a.question,
      attempt: tries,
      feedback: verdict.retry,
      maxTokens: verdict.maxTokens ?? a.maxTokens,
      attempts,
    };
  const fallback = a.question.exhausted?.(verdict.retry, outcome);
  return fallback === undefined
    ? { status: "invalid", problem: verdict.retry, last: outcome, attempts, tries }
    : { status: "ok", value: fallback, attempts, tries };
}

export interface AskOptions {
  /** Answers asked for before the question ends as invalid (at least 1). */
  attempts: number;
  /** The first attempt's output budget, handed to `request` (a verdict may raise it). */
  maxTokens?: number;
  context?: CallContext;
  signal?: AbortSignal;
}

/** Asks `question` online until it ends. An abort rejects with its reason; nothing else throws. */
export async function askValidated<T>(
  model: ChatModel,
  question: Question<T>,
  options: AskOptions,
): Promise<Answer<T>> {
  const callOptions = {
    ...(options.context ? { context: options.context } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  };
  let a: Answer<T> | Asking<T> = firstAttempt(question, options.maxTokens);
  while (!isAnswer(a))
    a = settleAttempt(a, await model.call(attemptRequest(a), callOptions), options.attempts);
  return a;
}

export class NoValidAnswer extends Error {
  constructor(
    readonly attempts: AnswerAttempt[],
    readonly lastProblem: string,
  ) {
    super(`no acceptable answer in ${attempts.length} attempts; last problem: ${lastProblem}`);
    this.name = "NoValidAnswer";
  }
}

export interface ValidatedOptions {
  params: SamplingParams;
  attempts: number;
  /** Sample index of the first attempt; attempt k uses `sampleBase + k`. */
  sampleBase?: number;
  context?: CallContext;
  signal?: AbortSignal;
}

/**
 * Asks a model until its answer passes `check` (the loop above, for a question of fixed sampling
 * settings checked on its text). Each attempt is a new sample index, so a retry is a fresh answer
 * rather than a cache replay of the rejected one, and a re-run replays exactly the answers this
 * run accepted. The reason for a rejection is passed to the next prompt. A failed call rejects
 * with its `ModelCallError` (as `generate` does): it is the caller's to record.
 */
export async function generateValidated<T>(
  model: ChatModel,
  messages: (feedback: string | undefined) => ChatMessage[],
  check: (text: string) => Check<T>,
  options: ValidatedOptions,
): Promise<{ value: T; attempts: AnswerAttempt[] }> {
  if (options.attempts < 1) throw new NoValidAnswer([], "no attempts were allowed");
  const question: Question<T> = {
    request: (k, feedback) => ({
      messages: messages(feedback),
      params: options.params,
      sampleIndex: (options.sampleBase ?? 0) + k,
    }),
    check: (c) => {
      if (c.stopReason === "max_tokens")
        return { retry: "the answer was cut off by the length limit; be more concise" };
      const r = check(c.text);
      return "ok" in r ? r : { retry: r.problem };
    },
  };
  const askOptions: AskOptions = { attempts: options.attempts };
  if (options.context) askOptions.context = options.context;
  if (options.signal) askOptions.signal = options.signal;
  const a = await askValidated(model, question, askOptions);
  if (a.status === "ok") return { value: a.value, attempts: a.attempts };
  if (a.status === "invalid") throw new NoValidAnswer(a.attempts, a.problem);
  throw failureError(a.failure);
}
