/**
 * An Inspect eval log written in Inspect's `.eval` format: a zip whose members are the parts
 * inspect_ai's eval-file recorder writes, so large runs open without parsing one huge JSON file.
 *
 * - `_journal/start.json`: `{version, eval, plan}` as the run started;
 * - `samples/{id}_epoch_{n}.json`: one member per sample;
 * - `_journal/summaries/1.json` and `summaries.json`: the samples' summaries (the viewer's sample list);
 * - `reductions.json`: the per-sample reduced scores;
 * - `header.json`: the log without `samples` and `reductions` (what `read_eval_log(header_only=True)` reads).
 *
 * Members are deflated (inspect_ai now writes zstd, but every reader of the format, its own
 * included, reads deflate, and Node has no zstd in Node 20). yazl is used for the zip because it
 * streams: each sample is serialised only when its member is written, so a large run is not held
 * twice in memory.
 */
import { createWriteStream, mkdirSync, renameSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import { Readable } from "node:stream";
import { finished } from "node:stream/promises";
import yazl from "yazl";

type Json = Record<string, unknown>;

/** The log without its samples and reductions: what `header.json` and the logs manifest hold. */
export function inspectLogHeader(log: Json): Json {
  const { samples: _samples, reductions: _reductions, ...header } = log;
  return header;
}

/** Inspect's summary input and target text limit, and what it appends to a cut text. */
const MAX_TEXT_LENGTH = 5120;
const truncateText = (text: string) =>
  text.length > MAX_TEXT_LENGTH
    ? `${text.slice(0, MAX_TEXT_LENGTH)}...\n(content truncated)`
    : text;

/**
 * Inspect's `thin_text` (Python's `textwrap.shorten` to 1024 characters): whitespace collapsed,
 * cut at a word with `...`. Written here because no JS library reproduces `shorten`.
 */
const THIN_WIDTH = 1024;
function thinText(text: string): string {
  const collapsed = text
    .slice(0, THIN_WIDTH * 8)
    .trim()
    .split(/\s+/)
    .join(" ");
  if (collapsed.length <= THIN_WIDTH) return collapsed;
  const room = collapsed.slice(0, THIN_WIDTH - 3 + 1);
  const cut = room.lastIndexOf(" ");
  return `${cut > 0 ? room.slice(0, cut).trimEnd() : ""}...`;
}

/** Summary metadata keeps scalars and values up to 1k of JSON, as Inspect's `thin_metadata`. */
function thinMetadata(metadata: unknown): Json {
  const out: Json = {};
  for (const [key, value] of Object.entries((metadata as Json | null) ?? {})) {
    if (typeof value === "string") out[key] = thinText(value);
    else if (value === null || typeof value !== "object") out[key] = value;
    else
      out[key] = JSON.stringify(value).length <= 1024 ? value : "Key removed from summary (> 1k)";
  }
  return out;
}

function thinInput(input: unknown): unknown {
  if (typeof input === "string") return truncateText(input);
  return (input as Json[]).map((m) =>
    typeof m.content === "string"
      ? { ...m, content: truncateText(m.content) }
      : {
          ...m,
          content: (m.content as Json[]).map((c) =>
            c.type === "text"
              ? { ...c, text: truncateText(String(c.text)) }
              : {
                  type: "text",
                  text: `(${String(c.type).charAt(0).toUpperCase()}${String(c.type).slice(1)})`,
                },
          ),
        },
  );
}

function thinScores(scores: unknown): Json | undefined {
  if (!scores) return undefined;
  const out: Json = {};
  for (const [name, s] of Object.entries(scores as Record<string, Json>))
    out[name] = dropNulls({
      value: s.value,
      answer: typeof s.answer === "string" ? thinText(s.answer) : s.answer,
      explanation: typeof s.explanation === "string" ? thinText(s.explanation) : s.explanation,
      metadata: s.metadata ? thinMetadata(s.metadata) : s.metadata,
    });
  return out;
}

/** Inspect writes without null fields (`exclude_none`). */
function dropNulls(o: Json): Json {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined));
}

/** A sample's summary, as Inspect's `EvalSample.summary()` makes it for the sample list. */
export function sampleSummary(sample: Json): Json {
  const target = sample.target;
  return dropNulls({
    id: sample.id,
    epoch: sample.epoch,
    input: thinInput(sample.input),
    choices: sample.choices,
    target: Array.isArray(target)
      ? target.map(String).map(truncateText)
      : truncateText(String(target ?? "")),
    metadata: thinMetadata(sample.metadata),
    scores: thinScores(sample.scores),
    model_usage: sample.model_usage ?? {},
    role_usage: sample.role_usage ?? {},
    model_fallbacks: sample.model_fallbacks,
    started_at: sample.started_at,
    completed_at: sample.completed_at,
    total_time: sample.total_time,
    working_time: sample.working_time,
    uuid: sample.uuid,
    error: (sample.error as Json | null | undefined)?.message,
    limit: (sample.limit as Json | null | undefined)?.type,
    retries: Array.isArray(sample.error_retries) ? sample.error_retries.length : undefined,
    completed: true,
    message_count: Array.isArray(sample.messages) ? sample.messages.length : undefined,
    turn_count: sample.turn_count,
    token_limit: sample.token_limit,
    token_limit_type: sample.token_limit_type,
    token_limit_usage: sample.token_limit_usage,
  });
}

/** The member a sample is stored in (Inspect's `_sample_filename`). */
export const sampleMemberName = (sample: Json) =>
  `samples/${String(sample.id)}_epoch_${String(sample.epoch)}.json`;

const jsonBytes = (value: unknown) => Buffer.from(JSON.stringify(value), "utf8");

/**
 * Writes `log` (an EvalLog object, e.g. from exportInspectLog) to `path` as an `.eval` zip. The
 * file appears whole or not at all (written beside it, then renamed).
 */
export async function writeInspectEvalZip(log: Json, path: string): Promise<void> {
  const samples = (log.samples as Json[] | null | undefined) ?? [];
  const header = inspectLogHeader(log);
  // The log's creation time, so the same log always makes the same bytes.
  const created = new Date(String((log.eval as Json | undefined)?.created ?? 0));
  const options = { mtime: Number.isNaN(created.getTime()) ? new Date(0) : created };
  const zip = new yazl.ZipFile();
  zip.addBuffer(
    jsonBytes({ version: log.version, eval: log.eval, plan: log.plan }),
    "_journal/start.json",
    options,
  );
  for (const sample of samples)
    zip.addReadStreamLazy(sampleMemberName(sample), options, (done) =>
      done(null, Readable.from([jsonBytes(sample)])),
    );
  const summaries = samples.map(sampleSummary);
  if (summaries.length) zip.addBuffer(jsonBytes(summaries), "_journal/summaries/1.json", options);
  zip.addBuffer(jsonBytes(summaries), "summaries.json", options);
  if (log.reductions) zip.addBuffer(jsonBytes(log.reductions), "reductions.json", options);
  zip.addBuffer(jsonBytes(header), "header.json", options);
  zip.end();

  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  const out = createWriteStream(tmp);
  try {
    await finished(zip.outputStream.pipe(out));
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}
