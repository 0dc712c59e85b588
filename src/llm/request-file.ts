/**
 * Request files: JSONL with one prompt per line, run through the model access layer online or as
 * provider batches. This is how a researcher pushes an arbitrary prompt set through specsci with
 * caching, limits, retries, resumption and accounting, and how the crash tests drive the layer.
 *
 * Line format: {"id": "q1", "messages": [{"role": "user", "content": "…"}]} or the shorthand
 * {"id": "q1", "prompt": "…", "system": "…"}; optional "params" (sampling parameters) and
 * "samples" (how many samples of this prompt; default from the caller).
 */
import { z } from "zod";
import { SpecsciError } from "../core/errors.js";
import { readLines } from "../core/lines.js";
import { collectGarbage } from "../core/memory.js";
import { createProgress } from "../core/progress.js";
import type { BatchRunOptions } from "./batch/runner.js";
import type { LlmClient } from "./client.js";
import { callInOrder } from "./ordered-calls.js";
import {
  type CallContext,
  type ChatOutcome,
  type ChatRequest,
  completionRecord,
  type SamplingParams,
} from "./types.js";

const Message = z.strictObject({
  role: z.enum(["system", "user", "assistant"]),
  content: z.string(),
});
const Params = z.strictObject({
  max_tokens: z.number().int().positive().optional(),
  temperature: z.number().min(0).optional(),
  top_p: z.number().min(0).max(1).optional(),
  stop: z.array(z.string()).optional(),
  seed: z.number().int().optional(),
  reasoning: z
    .strictObject({
      budget_tokens: z.number().int().positive().optional(),
      effort: z.enum(["low", "medium", "high"]).optional(),
    })
    .optional(),
});
/** One line of a request file (exported for the test that pins `quickLine` to it). */
export const Line = z
  .strictObject({
    id: z.union([z.string().min(1), z.number()]).transform(String),
    messages: z.array(Message).min(1).optional(),
    prompt: z.string().optional(),
    system: z.string().optional(),
    params: Params.optional(),
    samples: z.number().int().positive().optional(),
  })
  .refine((l) => (l.messages === undefined) !== (l.prompt === undefined), {
    message: 'give exactly one of "messages" or "prompt"',
  });

export interface RequestSpec {
  id: string;
  messages: ChatRequest["messages"];
  params: Partial<SamplingParams>;
  samples: number | undefined;
}

/** One request to run: a line of the file and which of its samples. */
export interface RequestItem {
  id: string;
  sample: number;
  request: ChatRequest;
}

export function parseRequestsJsonl(text: string, file: string): RequestSpec[] {
  const specs: RequestSpec[] = [];
  const ids = new Set<string>();
  for (const [i, raw] of text.split("\n").entries()) {
    const spec = parseRequestLine(raw, `${file}:${i + 1}`, ids);
    if (spec) specs.push(spec);
  }
  if (specs.length === 0) throw noRequests(file);
  return specs;
}

/** One line of a request file, checked; null for a blank line. `ids` are those seen so far. */
function parseRequestLine(raw: string, where: string, ids: Set<string> | null): RequestSpec | null {
  if (!raw.trim()) return null;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (e) {
    throw new SpecsciError(`${where}: not valid JSON: ${(e as Error).message}`);
  }
  const quick = quickLine(json);
  const parsed = quick ? { success: true as const, data: quick } : Line.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.length ? `${issue.path.join(".")}: ` : "";
    throw new SpecsciError(`${where}: ${field}${issue?.message ?? "invalid request"}`, {
      hint: 'each line needs "id" and either "messages" or "prompt"',
    });
  }
  const l = parsed.data;
  if (ids?.has(l.id)) throw new SpecsciError(`${where}: duplicate id "${l.id}"`);
  ids?.add(l.id);
  const messages = l.messages ?? [
    ...(l.system === undefined ? [] : [{ role: "system" as const, content: l.system }]),
    { role: "user" as const, content: l.prompt as string },
  ];
  return { id: l.id, messages, params: l.params ?? {}, samples: l.samples };
}

type LineData = z.output<typeof Line>;
const QUICK_KEYS = new Set(["id", "messages", "prompt", "system", "samples"]);
const ROLES = new Set(["system", "user", "assistant"]);

/**
 * The common line (no "params") checked by hand, what `Line` gives for it, or undefined for
 * anything else, which `Line` then checks (its messages stay the only ones). Every line is parsed
 * twice (checked, then run), and zod's parse of it cost more than the rest of a cached call's
 * work on the line; this accepts only lines `Line` accepts, and is pinned against it by a test.
 */
export function quickLine(json: unknown): LineData | undefined {
  if (typeof json !== "object" || json === null || Array.isArray(json)) return undefined;
  const l = json as Record<string, unknown>;
  for (const k in l) if (!QUICK_KEYS.has(k)) return undefined;
  const { id, messages, prompt, system, samples } = l;
  if (!((typeof id === "string" && id !== "") || typeof id === "number")) return undefined;
  if (system !== undefined && typeof system !== "string") return undefined;
  if (samples !== undefined && !(Number.isInteger(samples) && (samples as number) > 0))
    return undefined;
  const out: LineData = { id: String(id) };
  if (system !== undefined) out.system = system;
  if (samples !== undefined) out.samples = samples as number;
  if (messages === undefined) {
    if (typeof prompt !== "string") return undefined;
    out.prompt = prompt;
    return out;
  }
  if (prompt !== undefined || !Array.isArray(messages) || messages.length === 0) return undefined;
  const checked: { role: "system" | "user" | "assistant"; content: string }[] = [];
  for (const m of messages as unknown[]) {
    if (typeof m !== "object" || m === null || Array.isArray(m)) return undefined;
    const { role, content } = m as Record<string, unknown>;
    if (Object.keys(m).length !== 2 || !ROLES.has(role as string) || typeof content !== "string")
      return undefined;
    checked.push({ role: role as "system" | "user" | "assistant", content });
  }
  out.messages = checked;
  return out;
}

const noRequests = (file: string) => new SpecsciError(`${file}: no requests (the file is empty)`);

export interface RequestDefaults {
  params: Partial<SamplingParams>;
  samples: number;
  maxTokens: number;
}

/** Expands specs into one item per sample; per-line params win over the defaults given here. */
export function expandRequests(specs: RequestSpec[], defaults: RequestDefaults): RequestItem[] {
  return specs.flatMap((s) => [...itemsOf(s, defaults)]);
}

function* itemsOf(s: RequestSpec, defaults: RequestDefaults): Generator<RequestItem> {
  const params = { ...defaults.params, ...s.params } as SamplingParams;
  params.max_tokens ??= defaults.maxTokens;
  for (let sample = 0; sample < (s.samples ?? defaults.samples); sample++)
    yield { id: s.id, sample, request: { messages: s.messages, params, sampleIndex: sample } };
}

/**
 * A request file read as a stream, for files too large to hold whole (a million prompts).
 * `check` reads it once: every line is validated (so a bad line fails before any call) and the
 * file's hash and item count are taken; `items` then reads it again, lazily, one item per sample.
 */
const LARGE_FILE_IDS = 100_000;

export class RequestFile {
  private checked: { sha256: string; items: number; samples: number } | undefined;

  constructor(
    private readonly path: string,
    /** The name in messages (`file:line: …`), as the user gave it. */
    private readonly file: string,
  ) {}

  /**
   * Validates every line; the SHA-256 of the file's bytes and how many items it expands to when
   * a line that does not say gets `samples`.
   */
  async check(samples: number): Promise<{ sha256: string; items: number }> {
    const { lines, sha256 } = readLines(this.path);
    const ids = new Set<string>();
    let items = 0;
    for await (const line of lines) {
      const spec = parseRequestLine(line.text, `${this.file}:${line.number}`, ids);
      if (spec) items += spec.samples ?? samples;
    }
    if (ids.size === 0) throw noRequests(this.file);
    // The ids of a large file (tens of MB for a million) are garbage from here: collected now,
    // the run's own working set is not stacked on them in the process's peak memory.
    const large = ids.size > LARGE_FILE_IDS;
    ids.clear();
    if (large) collectGarbage();
    this.checked = { sha256: sha256(), items, samples };
    return { sha256: this.checked.sha256, items };
  }

  /**
   * The items in file order, as many samples of a line as `check` counted; the file must not
   * have changed since.
   */
  async *items(defaults: Omit<RequestDefaults, "samples">): AsyncGenerator<RequestItem> {
    if (!this.checked) throw new Error("RequestFile.items before check");
    const expand = { ...defaults, samples: this.checked.samples };
    const { lines, sha256 } = readLines(this.path);
    // Ids were checked unique by `check`; the hash below catches a file changed since.
    for await (const line of lines) {
      const spec = parseRequestLine(line.text, `${this.file}:${line.number}`, null);
      if (spec) yield* itemsOf(spec, expand);
    }
    if (sha256() !== this.checked.sha256)
      throw new SpecsciError(`${this.file} changed while its requests ran`, {
        hint: "run the command again (answers already received come from the cache)",
      });
  }
}

export interface RunRequestsOptions {
  modelId: string;
  batch?: boolean;
  context?: CallContext;
  pollIntervalMs?: number;
  signal?: AbortSignal;
}

/** Runs every item, online (bounded concurrency) or as provider batches, keeping input order. */
export async function runRequests(
  client: LlmClient,
  items: RequestItem[],
  options: RunRequestsOptions,
): Promise<ChatOutcome[]> {
  const outcomes: ChatOutcome[] = [];
  await runRequestsInOrder(client, items, items.length, options, (o) => void outcomes.push(o));
  return outcomes;
}

/**
 * Calls whose results wait for an earlier, slower one: they bound memory (at most this many
 * outcomes are held), and a single slow request holds up the run only once this many later ones
 * are done. Online calls in progress at once are fewer (the model's limiter decides the wire).
 */
const ORDER_WINDOW = 4096;
const CALLS_STARTED = 512;
/** Items whose cache entries are looked up together (a chunk's hits are answered at once). */
const LOOKUP_CHUNK = 512;

/**
 * Runs `items` (read lazily) and hands each outcome to `emit` in input order as soon as the
 * earlier ones are out, so a caller can stream the results of any number of requests. Online,
 * at most ORDER_WINDOW outcomes are held at once; a batch needs its items whole (they go to the
 * provider together).
 */
export async function runRequestsInOrder(
  client: LlmClient,
  items: Iterable<RequestItem> | AsyncIterable<RequestItem>,
  total: number,
  options: RunRequestsOptions,
  emit: (outcome: ChatOutcome, item: RequestItem) => void | Promise<void>,
): Promise<void> {
  const progress = createProgress(options.batch ? "batch" : "calls", total);
  const callOpts: { context?: CallContext; signal?: AbortSignal } = {};
  if (options.context) callOpts.context = options.context;
  if (options.signal) callOpts.signal = options.signal;
  try {
    if (options.batch) {
      const all: RequestItem[] = [];
      for await (const item of items) all.push(item);
      const runOpts: BatchRunOptions = {
        ...callOpts,
        onProgress: (done) => progress.update(done),
      };
      if (options.pollIntervalMs !== undefined) runOpts.pollIntervalMs = options.pollIntervalMs;
      const outcomes = await client.batchRunner(options.modelId).run(
        all.map((i) => i.request),
        runOpts,
      );
      for (const [i, o] of outcomes.entries()) await emit(o, all[i] as RequestItem);
      return;
    }
    await callInOrder(
      client.model(options.modelId),
      items,
      (item) => item.request,
      {
        ...callOpts,
        chunk: LOOKUP_CHUNK,
        concurrency: CALLS_STARTED,
        window: ORDER_WINDOW,
      },
      emit,
      () => progress.increment(),
    );
  } finally {
    progress.stop();
  }
}

/** One line of a results file: the answer, or the failure (which has no text field at all). */
export function resultLine(item: RequestItem, o: ChatOutcome): string {
  if (o.ok) return JSON.stringify(completionRecord(o, item));
  return JSON.stringify({
    id: item.id,
    sample: item.sample,
    model: o.model,
    ok: false,
    stop_reason: "error",
    error: o.error,
    cache_key: o.cacheKey,
  });
}
