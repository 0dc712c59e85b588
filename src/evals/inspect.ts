/**
 * Export of an eval run as an Inspect eval log (EvalLog version 2, JSON), so runs open in Inspect
 * View. One file per task × model run, named as Inspect lists logs:
 * `{created}_{task}_{task_id}.json` with `:` replaced by `-`.
 */
import { hashValue } from "../core/hash.js";
import { packageVersion } from "../core/provenance.js";
import { mean, stderr } from "../core/stats.js";
import type { EvalRunRow, EvalSampleRecord, Store } from "../store/index.js";
import { AM_TASK_NAME, isAmTask } from "./am/task.js";
import { callsBySample, type RoleOf, type SampleCall, sampleEvents } from "./inspect-events.js";
import {
  assistantMessage,
  type CallTokens,
  inspectLogprobs,
  inspectTime,
  NO_TOKENS,
  outputMetadata,
  STOP,
  type StoredOutput,
  sized,
  usage,
  usageByKey,
} from "./inspect-messages.js";
import type { ScorerDecl } from "./registry.js";
import { taskDefinitions } from "./tasks.js";
import type { SampleError, Score } from "./types.js";

type Json = Record<string, unknown>;

/**
 * A sample's stable id in Inspect's form (a shortuuid: 22 base-57 digits of 128 bits), derived
 * from the run, sample and epoch so every export of a run names its samples alike. Hand-written:
 * shortuuid's encoding is a few lines, and its random ids are not what we need.
 */
export function sampleUuid(runId: string, sampleId: string, epoch: number): string {
  let n = BigInt(`0x${hashValue({ runId, sampleId, epoch }).slice(0, 32)}`);
  let out = "";
  for (let i = 0; i < 22; i++) {
    out = SHORTUUID_ALPHABET[Number(n % 57n)] + out;
    n /= 57n;
  }
  return out;
}
const SHORTUUID_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/** The answer's cost as ModelUsage's `total_cost`, where it is known. */
const costOf = (o: StoredOutput) =>
  o.cost_usd !== undefined && o.cost_usd !== null ? { total_cost: o.cost_usd } : {};

/** What every sample of a run shares in its export. */
interface RunSide {
  model: string;
  /** Merged into each sample's metadata (see runSampleMetadata). */
  metadata: Json;
  /** The usage role of a call ("grader" for a judge's). */
  roleOf: RoleOf;
}

/**
 * A sample's usage by model and by role, from the calls made for it (its answer and its judges),
 * as Inspect sums a sample's; a store from before calls were linked to samples has only the
 * answer's usage.
 */
function sampleUsage(o: StoredOutput | null, calls: SampleCall[], roleOf: RunSide["roleOf"]) {
  if (!calls.length)
    return {
      model_usage: o && sized(o.usage) ? { [o.model]: usage(o.usage) } : {},
      role_usage: {},
    };
  const billedCalls = calls.filter(sizedCall).map(billed);
  return {
    model_usage: usageByKey(billedCalls, (c) => c.model),
    role_usage: usageByKey(billedCalls, roleOf),
  };
}

function sampleToInspect(
  store: Store,
  r: EvalSampleRecord,
  run: RunSide,
  calls: SampleCall[],
): Json {
  const given = (r.input as { role: string; content: string }[]).map((m) => ({
    role: m.role,
    content: m.content,
    source: "input",
  }));
  // The viewer lists samples by their input: the system prompt, the same in every sample, stays
  // in `messages` only.
  const input = given.filter((m) => m.role !== "system");
  const o = r.output as StoredOutput | null;
  const scores: Record<string, Json> = {};
  for (const [name, s] of Object.entries((r.scores as Record<string, Score> | null) ?? {})) {
    scores[name] = {
      value: s.value,
      answer: s.answer ?? null,
      explanation: s.explanation ?? null,
      metadata: s.metadata ?? null,
      history: [],
    };
  }
  const metadata = {
    ...(r.metadata as Json),
    ...outcomeMetadata(r),
    // What the task read from the answer (AM: its tool calls, drafts, reasoning): Inspect has no
    // field for it, and it is what the scorers judged.
    ...(r.parsed !== null && r.parsed !== undefined ? { specsci_parsed: r.parsed } : {}),
    // Inspect's error is text; specsci's says which stage, scorer and kind failed.
    ...(r.status === "error" ? { specsci_error: r.error } : {}),
    ...run.metadata,
  };
  const out: Json = {
    id: r.sampleId,
    epoch: r.epoch,
    uuid: sampleUuid(r.runId, r.sampleId, r.epoch),
    input,
    target: "",
    messages: o ? [...given, assistantMessage(o)] : given,
    output: o
      ? {
          model: o.model,
          choices: [
            {
              message: assistantMessage(o),
              stop_reason: STOP[o.stop_reason] ?? "unknown",
              ...(o.logprobs ? { logprobs: inspectLogprobs(o.logprobs) } : {}),
            },
          ],
          completion: o.text,
          // Inspect's usage has no unknown counts: an answer of unknown size leaves it out.
          ...(sized(o.usage) ? { usage: { ...usage(o.usage), ...costOf(o) } } : {}),
          time: o.latency_ms / 1000,
          ...(outputMetadata(o) ? { metadata: outputMetadata(o) } : {}),
        }
      : { model: run.model, choices: [], completion: "" },
    scores,
    metadata,
    store: {},
    events: sampleEvents(store, r, { input: given, metadata }, scores, calls, run.roleOf),
    ...sampleUsage(o, calls, run.roleOf),
    attachments: {},
    started_at: r.startedAt,
    completed_at: r.completedAt,
    working_time: r.workingMs / 1000,
  };
  if (r.status === "error") {
    const e = r.error as SampleError;
    const message = `${e.stage}${e.scorer ? ` (${e.scorer})` : ""}: ${e.kind}: ${e.message}`;
    // No Python traceback exists; the viewer shows the traceback, so it carries the message.
    out.error = { message, traceback: message, traceback_ansi: message };
  }
  return out;
}

/**
 * A sample without a score says why in its metadata: Inspect has no outcome for "the target's
 * answer was cut off" or "refused" (its viewer shows the stop reason), and they are not errors.
 */
function outcomeMetadata(r: EvalSampleRecord): Json {
  if (r.status !== "truncated" && r.status !== "refused") return {};
  const e = r.error as SampleError;
  return {
    specsci_outcome: r.status,
    specsci_unscored: e.message,
    ...(e.max_tokens !== undefined ? { max_tokens: e.max_tokens } : {}),
  };
}

/** The numeric value of `key` in a sample's score from `scorer` (the score itself when not a dict). */
function numericValue(r: EvalSampleRecord, scorer: string, key: string): number | undefined {
  const v = (r.scores as Record<string, Score> | null)?.[scorer]?.value;
  const x = typeof v === "object" && v !== null ? (v as Record<string, unknown>)[key] : v;
  return typeof x === "number" ? x : undefined;
}

/**
 * The score series to report: each declared metric key of each scorer (every numeric key found,
 * for a task no longer registered), as `scorer/key`.
 */
function scoreSeries(
  records: EvalSampleRecord[],
  declared: ScorerDecl[] | null,
): { scorer: string; key: string }[] {
  if (declared)
    return declared.flatMap((d) =>
      d.metrics
        .filter((key) => records.some((r) => numericValue(r, d.name, key) !== undefined))
        .map((key) => ({ scorer: d.name, key })),
    );
  const found = new Map<string, { scorer: string; key: string }>();
  for (const r of records)
    for (const [scorer, sc] of Object.entries((r.scores as Record<string, Score> | null) ?? {})) {
      const keys =
        typeof sc.value === "object" && sc.value !== null ? Object.keys(sc.value) : [scorer];
      for (const key of keys)
        if (numericValue(r, scorer, key) !== undefined)
          found.set(`${scorer}/${key}`, { scorer, key });
    }
  return [...found.values()];
}

/**
 * A series' name in the results, as Inspect names it: a scorer's own name for a plain value, the
 * key for each key of a dict value. A key two scorers share keeps the scorer's name in front
 * (Inspect would write two scores of one name).
 */
function seriesName(x: { scorer: string; key: string }, all: { scorer: string; key: string }[]) {
  if (x.key === x.scorer) return x.scorer;
  const shared = all.some((y) => y.key === x.key && y.scorer !== x.scorer);
  return shared ? `${x.scorer}/${x.key}` : x.key;
}

/**
 * Per-sample means over epochs of a series (Inspect's `mean` reducer): metrics are computed over
 * these, so a model answering a sample differently across epochs counts once per sample.
 */
function reduced(
  bySample: Map<string, EvalSampleRecord[]>,
  s: { scorer: string; key: string },
): Map<string, number> {
  const out = new Map<string, number>();
  for (const [id, records] of bySample) {
    const vals = records
      .map((r) => numericValue(r, s.scorer, s.key))
      .filter((v): v is number => v !== undefined);
    if (vals.length) out.set(id, mean(vals));
  }
  return out;
}

/** What the run's task declares about its scorers; null for a task no longer registered. */
function registeredScorers(task: string): ScorerDecl[] | null {
  const name = isAmTask(task) ? AM_TASK_NAME : task;
  return taskDefinitions().find((t) => t.name === name)?.scorers ?? null;
}

/**
 * How the run ended, as Inspect says it. Every sample recorded: `success`, whatever each sample's
 * outcome (a failed sample carries its own `error`). Otherwise the run failed as a whole (`error`,
 * with one) or was stopped (`cancelled`; `started` would show as still running).
 */
function logStatus(store: Store, runId: string, recorded: number, total: number): Json {
  if (recorded === total) return { status: "success" };
  if (store.runs.get(runId)?.status !== "failed") return { status: "cancelled" };
  const message = `the run failed with ${recorded} of ${total} samples recorded; specsci's output of that run says why, and a re-run resumes it`;
  return { status: "error", error: { message, traceback: "", traceback_ansi: "" } };
}

/**
 * What a call counts toward usage: a replay from specsci's response cache made no provider call,
 * so its tokens count nothing (as `store.llm.usage` sums them).
 */
const billed = <C extends CallTokens & { source: string }>(c: C): C =>
  c.source === "cache" ? { ...c, ...NO_TOKENS } : c;

/**
 * Whether a call's usage is known: it answered, and its provider reported its size (Inspect's
 * usage has no unknown counts; a failed call used none that specsci knows of).
 */
function sizedCall(c: SampleCall): boolean {
  if (c.status !== "ok") return false;
  if (!c.response) return true;
  return sized((JSON.parse(c.response) as { usage: StoredOutput["usage"] }).usage);
}

/**
 * The grader's calls are those of the scorers that call a judge (their stage), whichever model
 * answered: every such scorer (misalignment, eval awareness) grades with the grader role.
 */
const graderRole = (judged: ReadonlySet<string>) => (c: { stage: string | null }) =>
  c.stage?.startsWith("score:") && judged.has(c.stage.slice("score:".length))
    ? "grader"
    : undefined;

export interface InspectExport {
  fileName: string;
  log: Json;
}

export interface InspectExportOptions {
  /** The specsci the log names as its producer (the running one unless told). */
  version?: string;
  /**
   * What the run is part of (an experiment's arm, spec, seed, …): merged into every sample's
   * metadata and into `eval.metadata`, over what the run itself records, so a log read alone says
   * where it belongs.
   */
  context?: Record<string, unknown>;
}

/**
 * What each sample's metadata records of its run: the model, the seed and the spec in the prompt
 * (when the run has them), then the caller's context.
 */
function runSampleMetadata(run: EvalRunRow, context: Json): Json {
  const seed = run.generateConfig.seed;
  const spec = (run.taskArgs as Json | null)?.spec;
  return {
    model: run.model,
    ...(seed !== undefined && seed !== null ? { seed } : {}),
    ...(spec ? { prompt_spec: spec } : {}),
    ...context,
  };
}

/** The name Inspect lists a log by: `{created}_{task}_{task_id}.json`, `:` written as `-`. */
function logFileName(run: EvalRunRow): string {
  return `${inspectTime(run.createdAt).replaceAll(":", "-")}_${run.task}_${taskIdOf(run.id)}.json`;
}

/** Inspect's task id for a run: stable, 22 characters like its own. */
const taskIdOf = (runId: string) => hashValue(runId).slice(0, 22);

/** A run's log file name without building its log. */
export function inspectLogFileName(store: Store, runId: string): string {
  const run = store.evals.run(runId);
  if (!run) throw new Error(`no eval run ${runId}`);
  return logFileName(run);
}

export function exportInspectLog(
  store: Store,
  runId: string,
  opts: InspectExportOptions = {},
): InspectExport {
  const version = opts.version ?? packageVersion().version;
  const context = opts.context ?? {};
  const run = store.evals.run(runId) as EvalRunRow;
  if (!run) throw new Error(`no eval run ${runId}`);
  const records = store.evals.samples(runId);
  const valid = records.filter((r) => r.status === "done");
  const count = (status: string) => records.filter((r) => r.status === status).length;
  const runCalls = store.llm.calls({ runId }).map(billed);
  const calls = callsBySample(store, runId);
  const scorerSpecs = (run.scorerConfig.scorers ?? []) as Json[];
  const declared = registeredScorers(run.task);
  // The grader is the judge of a scorer the task declares as calling one.
  const graders = new Set((declared ?? []).filter((d) => d.grader).map((d) => d.name));
  const judgedSpecs = scorerSpecs.filter(
    (s) => typeof s.judge === "string" && (!declared || graders.has(String(s.name))),
  );
  const judge = judgedSpecs[0];
  const roleOf = graderRole(new Set(judgedSpecs.map((s) => String(s.name))));
  const created = inspectTime(run.createdAt);
  const taskId = taskIdOf(runId);
  const sampleIds = [...new Set(records.map((r) => r.sampleId))];

  const series = scoreSeries(valid, declared);
  const bySample = new Map<string, EvalSampleRecord[]>(sampleIds.map((id) => [id, []]));
  for (const r of valid) bySample.get(r.sampleId)?.push(r);
  const perSample = series.map((x) => ({ ...x, values: reduced(bySample, x) }));
  const results = {
    total_samples: run.sampleCount * run.epochs,
    completed_samples: valid.length,
    scores: perSample.map((x) => {
      const values = [...x.values.values()];
      return {
        name: seriesName(x, series),
        scorer: x.scorer,
        reducer: "mean",
        params: {},
        scored_samples: values.length,
        unscored_samples: sampleIds.length - values.length,
        metrics: {
          mean: { name: "mean", value: mean(values), params: {} },
          stderr: { name: "stderr", value: stderr(values), params: {} },
        },
      };
    }),
  };
  const modelUsage = usageByKey(runCalls, (c) => c.model);
  const roleUsage = usageByKey(runCalls, roleOf);
  const reductions = [...new Set(perSample.map((x) => x.scorer))].map((scorer) => ({
    scorer,
    reducer: "mean",
    samples: sampleIds.map((id) => {
      const value: Record<string, number> = {};
      for (const x of perSample) {
        const v = x.scorer === scorer ? x.values.get(id) : undefined;
        if (v !== undefined) value[x.key] = v;
      }
      return { sample_id: id, value, history: [] };
    }),
  }));
  const generate = run.generateConfig as Json;
  const logMetadata: Json = {
    specsci_run: runId,
    dataset_hash: run.datasetHash,
    // Samples in no score, by why: failures, answers cut off at max_tokens, refusals.
    unscored: { error: count("error"), truncated: count("truncated"), refused: count("refused") },
    exported_by: `specsci ${version}`,
    ...context,
  };
  const side: RunSide = {
    model: run.model,
    metadata: runSampleMetadata(run, context),
    roleOf,
  };
  const log: Json = {
    version: 2,
    ...logStatus(store, runId, records.length, run.sampleCount * run.epochs),
    eval: {
      eval_id: hashValue({ runId, created }).slice(0, 22),
      run_id: runId,
      created,
      task: run.task,
      task_id: taskId,
      task_version: run.taskVersion,
      task_attribs: {},
      task_args: run.taskArgs as Json,
      task_args_passed: run.taskArgs as Json,
      dataset: {
        name: run.task,
        location: `specsci:${run.task}`,
        samples: run.sampleCount,
        sample_ids: sampleIds,
        shuffled: false,
      },
      model: run.model,
      model_generate_config: generate,
      model_args: {},
      ...(judge
        ? {
            model_roles: {
              grader: {
                model: judge.judge as string,
                config: { temperature: 0, max_tokens: judge.max_tokens ?? null },
                args: {},
                base_url: null,
              },
            },
          }
        : {}),
      config: { epochs: run.epochs },
      packages: { specsci: version },
      scorers: scorerSpecs.map((s) => ({
        name: String(s.name),
        options: s,
        metrics: Object.fromEntries(
          (declared?.find((d) => d.name === s.name)?.metrics ?? []).map((key) => [
            key,
            [
              { name: "mean", options: {} },
              { name: "stderr", options: {} },
            ],
          ]),
        ),
        metadata: {},
      })),
      // inspect_ai rebuilds the log's top-level metadata and tags from these on read.
      metadata: logMetadata,
      tags: [],
    },
    plan: {
      name: "plan",
      steps: [
        {
          solver: String((run.scorerConfig.solver as Json | undefined)?.name ?? "generate"),
          params: (run.scorerConfig.solver as Json) ?? {},
          params_passed: {},
        },
      ],
      config: generate,
    },
    results,
    stats: {
      started_at: inspectTime(records.map((r) => r.startedAt).sort()[0] ?? run.createdAt),
      completed_at: inspectTime(
        records
          .map((r) => r.completedAt)
          .sort()
          .at(-1) ?? run.createdAt,
      ),
      model_usage: modelUsage,
      role_usage: roleUsage,
      connection_limit_history: [],
    },
    invalidated: false,
    tags: [],
    metadata: logMetadata,
    samples: records.map((r) =>
      sampleToInspect(store, r, side, calls.get(`${r.sampleId}#${r.epoch}`) ?? []),
    ),
    reductions,
  };
  return { fileName: logFileName(run), log };
}
