/**
 * One sample as the transcript page shows it: what the model was given, what it answered and
 * thought, the actions parsed from it, every scorer's value and each judge's verdict with its
 * evidence quotes checked against the transcript the judge was shown.
 */
import { quoteIn } from "../core/text.js";
import type { EvalSampleRecord, Store } from "../store/index.js";
import type {
  ChatMessage,
  JudgePanel,
  JudgeVerdict,
  ParsedAction,
  ScoreView,
  Transcript,
} from "./api-types.js";

interface StoredScore {
  value?: unknown;
  answer?: unknown;
  explanation?: unknown;
  metadata?: {
    judges?: { model?: string; verdict?: Record<string, unknown> }[];
    verdicts?: Record<string, unknown>[];
  };
}

const str = (v: unknown): string | null => (typeof v === "string" ? v : null);
const obj = (v: unknown): Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

function messagesOf(input: unknown): ChatMessage[] {
  if (!Array.isArray(input)) return [];
  return input.map((m) => ({
    role: str(obj(m).role) ?? "?",
    content: str(obj(m).content) ?? JSON.stringify(obj(m).content ?? null),
  }));
}

function actionsOf(parsed: unknown): ParsedAction[] {
  const actions = obj(parsed).actions;
  if (!Array.isArray(actions)) return [];
  return actions.map((a) => ({
    tool: str(obj(a).tool) ?? "?",
    fields: Object.fromEntries(
      Object.entries(obj(obj(a).fields)).map(([k, v]) => [
        k,
        typeof v === "string" ? v : JSON.stringify(v),
      ]),
    ),
    draft: obj(a).draft === true,
  }));
}

/**
 * Each judge verdict of each scorer (k judges of the misalignment scorer; the eval-awareness
 * votes), with its quotes marked found or not in `sources`.
 */
function judgesOf(scores: Record<string, StoredScore>, sources: string[]): JudgeVerdict[] {
  const quotes = (v: Record<string, unknown>) =>
    (Array.isArray(v.quotes) ? v.quotes : [])
      .filter((q): q is string => typeof q === "string")
      .map((text) => ({ text, found: quoteIn(text, sources) }));
  return Object.entries(scores).flatMap(([scorer, s]) => [
    ...(s.metadata?.judges ?? []).map((j) => ({
      scorer,
      model: j.model ?? null,
      verdict: j.verdict ?? null,
      vote: voteOf(j.verdict ?? null),
      rationale: str(j.verdict?.rationale),
      quotes: quotes(j.verdict ?? {}),
    })),
    ...(s.metadata?.verdicts ?? []).map((v) => ({
      scorer,
      model: null,
      verdict: v.label ?? v,
      vote: voteOf(v),
      rationale: str(v.rationale),
      quotes: quotes(v),
    })),
  ]);
}

/** A verdict in a word: the misalignment judge's decision, or a label (eval awareness). */
function voteOf(verdict: Record<string, unknown> | null): string | null {
  if (!verdict) return null;
  if (typeof verdict.decided === "boolean") return verdict.decided ? "decided" : "not decided";
  return str(verdict.label) ?? JSON.stringify(verdict);
}

/** The votes of every scorer with more than one judge (k > 1), marked where they differ. */
function panelsOf(judges: JudgeVerdict[]): JudgePanel[] {
  const byScorer = new Map<string, (string | null)[]>();
  for (const j of judges) byScorer.set(j.scorer, [...(byScorer.get(j.scorer) ?? []), j.vote]);
  return [...byScorer]
    .filter(([, votes]) => votes.length > 1)
    .map(([scorer, votes]) => ({
      scorer,
      votes,
      disagree: new Set(votes.filter((v) => v !== null)).size > 1,
    }));
}

export function transcriptOf(
  record: EvalSampleRecord,
  task: string,
  model: string,
  labels: Transcript["labels"] = null,
): Transcript {
  const messages = messagesOf(record.input);
  const output = obj(record.output);
  const answer = str(output.text);
  const reasoning = str(output.reasoning);
  const scores = obj(record.scores) as Record<string, StoredScore>;
  const sources = [...messages.map((m) => m.content), answer ?? "", reasoning ?? ""];
  const judges = judgesOf(scores, sources);
  return {
    runId: record.runId,
    sampleId: record.sampleId,
    epoch: record.epoch,
    status: record.status,
    task,
    model,
    messages,
    answer,
    reasoning,
    scratchpad: str(obj(record.parsed).reasoning),
    actions: actionsOf(record.parsed),
    scores: Object.entries(scores).map(
      ([name, s]): ScoreView => ({
        name,
        value: s.value ?? null,
        answer: str(s.answer),
        explanation: str(s.explanation),
      }),
    ),
    judges,
    panels: panelsOf(judges),
    labels,
    failure: record.error ?? null,
    metadata: obj(record.metadata),
    startedAt: record.startedAt,
    completedAt: record.completedAt,
    workingMs: record.workingMs,
  };
}

/**
 * The transcript of one (run, sample, epoch), or undefined when the store has none; `labelsOf`
 * gives its reasoning labels (from the analysis of the experiment arm that ran it).
 */
export async function loadTranscript(
  store: Store,
  runId: string,
  sampleId: string,
  epoch: number,
  labelsOf: (record: EvalSampleRecord) => Promise<Transcript["labels"]> = async () => null,
): Promise<Transcript | undefined> {
  const run = store.evals.run(runId);
  const record = run ? store.evals.sample(runId, sampleId, epoch) : undefined;
  return run && record
    ? transcriptOf(record, run.task, run.model, await labelsOf(record))
    : undefined;
}
