import type { CallContext, ChatMessage, ChatModel, SamplingParams } from "./types.js";

export type Check<T> = { ok: T } | { problem: string };

export interface AnswerAttempt {
  text: string;
  cacheKey: string;
  /** Why the answer was rejected; absent for the accepted one. */
  problem?: string;
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
 * Asks a model until its answer passes `check`. Each attempt is a new sample index, so a retry is
 * a fresh answer rather than a cache replay of the rejected one, and a re-run replays exactly the
 * answers this run accepted. The reason for a rejection is passed to the next prompt. Model call
 * failures are not caught: they are the caller's to record.
 */
export async function generateValidated<T>(
  model: ChatModel,
  messages: (feedback: string | undefined) => ChatMessage[],
  check: (text: string) => Check<T>,
  options: ValidatedOptions,
): Promise<{ value: T; attempts: AnswerAttempt[] }> {
  const attempts: AnswerAttempt[] = [];
  let feedback: string | undefined;
  for (let k = 0; k < options.attempts; k++) {
    const c = await model.generate(
      {
        messages: messages(feedback),
        params: options.params,
        sampleIndex: (options.sampleBase ?? 0) + k,
      },
      {
        ...(options.context ? { context: options.context } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      },
    );
    const result: Check<T> =
      c.stopReason === "max_tokens"
        ? { problem: "the answer was cut off by the length limit; be more concise" }
        : check(c.text);
    if ("ok" in result) {
      attempts.push({ text: c.text, cacheKey: c.cacheKey });
      return { value: result.ok, attempts };
    }
    attempts.push({ text: c.text, cacheKey: c.cacheKey, problem: result.problem });
    feedback = result.problem;
  }
  throw new NoValidAnswer(attempts, feedback ?? "no attempts were allowed");
}
