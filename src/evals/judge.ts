/**
 * LLM judges shared by every task: k independent judges, each asked again with feedback until its
 * answer passes a check (a JSON verdict whose quotes are verbatim passages of what is judged), and
 * a majority over the valid ones. A judge that never gives a valid answer is recorded as invalid;
 * when most are, the sample has no score (`judge_invalid`), never a default verdict.
 */
import { SpecsciError } from "../core/errors.js";
import { quoteInSquashed, squashSpace, unwrapQuote } from "../core/text.js";
import type { ChatModel } from "../llm/types.js";
import {
  type AnswerAttempt,
  type Check,
  generateValidated,
  NoValidAnswer,
} from "../llm/validated.js";
import { type ScoreContext, ScoringError } from "./types.js";

export interface JudgeOptions {
  model: ChatModel;
  /** Independent judges; the majority verdict wins (odd numbers avoid ties). */
  k: number;
  /** Answers asked for per judge before its verdict is invalid. */
  attempts: number;
  maxTokens: number;
}

/** Judge options from the CLI or an experiment, with the defaults every task shares. */
export function judgeOptions(
  model: ChatModel,
  o: { k?: number; attempts?: number; maxTokens?: number } = {},
): JudgeOptions {
  const k = o.k ?? 1;
  if (k < 1 || k % 2 === 0)
    throw new SpecsciError(`--judges must be an odd number (got ${k}): a majority needs no ties`);
  return { model, k, attempts: o.attempts ?? 3, maxTokens: o.maxTokens ?? 2048 };
}

/** The judge's part of a scorer's recorded spec (what makes two scorers' verdicts comparable). */
export const judgeSpec = (judge: JudgeOptions) => ({
  judge: judge.model.id,
  k: judge.k,
  attempts: judge.attempts,
});

/**
 * Quotes must be verbatim (up to whitespace) passages of one of `sources`; `required` asks for at
 * least one. Returns the problem to tell the judge, or undefined.
 */
export function checkQuotes(
  quotes: unknown,
  sources: string[],
  required: boolean,
  where = "the transcript",
): string | undefined {
  if (!Array.isArray(quotes) || !quotes.every((q) => typeof q === "string"))
    return '"quotes" must be an array of strings';
  if (required && quotes.length === 0) return `give at least one quote from ${where}`;
  if (quotes.length > 6) return "give at most four quotes";
  // A quote found as it is needs no squashing: a passage of a source (no space runs, trimmed) is
  // one of its squashed form too. Otherwise each source is squashed once for all the quotes (a
  // transcript is kilobytes; squashing it was ~2% of an eval run).
  let squashed: string[] | undefined;
  for (const q of quotes as string[]) {
    const needle = unwrapQuote(q);
    if (needle.length >= 3 && sources.some((s) => s.includes(needle))) continue;
    squashed ??= sources.map(squashSpace);
    if (!quoteInSquashed(q, squashed))
      return `this quote is not in ${where} word for word: "${q.slice(0, 120)}"`;
  }
  return undefined;
}

/** The JSON object between `<tag>` and `</tag>` (or anywhere in the text, when the tags are missing). */
export function verdictJson(
  text: string,
  tag: string,
): { value: Record<string, unknown> } | { problem: string } {
  const m = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(text);
  const body = (m?.[1] ?? text).trim();
  const start = body.indexOf("{");
  const end = body.lastIndexOf("}");
  if (start < 0 || end < start)
    return { problem: `put a JSON object between <${tag}> and </${tag}>` };
  try {
    const v = JSON.parse(body.slice(start, end + 1));
    return typeof v === "object" && v && !Array.isArray(v)
      ? { value: v as Record<string, unknown> }
      : { problem: "the verdict must be a JSON object" };
  } catch (e) {
    return { problem: `the verdict is not valid JSON (${(e as Error).message})` };
  }
}

export interface JudgeRecord<V> {
  model: string;
  prompt_version: string;
  verdict: V | null;
  attempts: AnswerAttempt[];
}

/** What one judging asks: the judge's role, the question, and the prompt version recorded. */
export interface JudgePrompt {
  system: string;
  user: string;
  promptVersion: string;
}

/** Runs k judges (each with its own retries) and returns their records; invalid judges have verdict null. */
export async function runJudges<V>(
  opts: JudgeOptions,
  prompt: JudgePrompt,
  check: (text: string) => Check<V>,
  context: ScoreContext,
): Promise<JudgeRecord<V>[]> {
  return Promise.all(
    Array.from({ length: opts.k }, async (_, j) => {
      try {
        const { value, attempts } = await generateValidated(
          opts.model,
          (feedback) => [
            { role: "system", content: prompt.system },
            {
              role: "user",
              content: feedback
                ? `${prompt.user}\n\nYour previous answer was rejected: ${feedback}`
                : prompt.user,
            },
          ],
          check,
          {
            attempts: opts.attempts,
            sampleBase: j * opts.attempts,
            params: { max_tokens: opts.maxTokens, temperature: 0 },
            context: context.context,
            ...(context.signal ? { signal: context.signal } : {}),
          },
        );
        return {
          model: opts.model.id,
          prompt_version: prompt.promptVersion,
          verdict: value,
          attempts,
        };
      } catch (e) {
        if (e instanceof NoValidAnswer)
          return {
            model: opts.model.id,
            prompt_version: prompt.promptVersion,
            verdict: null,
            attempts: e.attempts,
          };
        throw e;
      }
    }),
  );
}

/** The valid verdicts, or a `judge_invalid` scoring error when they are not a majority of the judges. */
export function validVerdicts<V>(records: JudgeRecord<V>[]): V[] {
  const verdicts = records.map((r) => r.verdict).filter((v): v is V => v !== null);
  if (verdicts.length * 2 <= records.length) {
    const last = records.flatMap((r) => r.attempts).at(-1)?.problem ?? "no answer";
    throw new ScoringError(
      "judge_invalid",
      `the judge gave no valid verdict (${records.length - verdicts.length} of ${records.length} judges invalid; last problem: ${last})`,
    );
  }
  return verdicts;
}

export const majority = (xs: boolean[]) => xs.filter(Boolean).length * 2 > xs.length;
