import { canonicalJson, sha256Hex } from "../core/hash.js";
import { nowIso } from "../core/time.js";
import { backendOf, dialect, type SqlDatabase, type SqlStatement } from "./database.js";
import type { Texts } from "./texts.js";

export interface EvalRunRow {
  id: string;
  task: string;
  taskVersion: string;
  taskArgs: unknown;
  model: string;
  epochs: number;
  generateConfig: Record<string, unknown>;
  scorerConfig: Record<string, unknown>;
  datasetHash: string;
  sampleCount: number;
  createdAt: string;
  completedAt: string | null;
}

/**
 * How a (sample, epoch) ended. Only `done` samples are scored and enter rates. `error`: a call or
 * a scorer failed (retried by the next run). `truncated`: the answer stopped at its output budget
 * (no evidence of a decision; retried only with a larger budget). `refused`: the provider reported
 * a refusal (the target's outcome, final). The last two keep their transcript.
 */
export type SampleStatus = "done" | "error" | "truncated" | "refused";

/** Samples of a run by outcome. */
export type StatusCounts = Record<SampleStatus, number>;

/** A sample's outcome and the fields a task's metrics read (see `fieldRows`). */
export interface FieldRow {
  sampleId: string;
  epoch: number;
  status: SampleStatus;
  /** The item the sample belongs to (`metadata.item`, else the sample id). */
  item: string;
  /** `stage:kind` of a sample without a score (a failure, a cut-off answer, a refusal). */
  errorKind: string | null;
  values: Record<string, unknown>;
}

/** A sample's outcome and the texts of its answer (see `answerTexts`). */
export interface AnswerTexts {
  sampleId: string;
  epoch: number;
  status: SampleStatus;
  answer: string;
  reasoning: string;
}

export interface EvalSampleRecord {
  runId: string;
  sampleId: string;
  epoch: number;
  status: SampleStatus;
  /** The messages the model was given (stored once per distinct input). */
  input: unknown;
  output: unknown | null;
  parsed: unknown | null;
  scores: unknown | null;
  error: unknown | null;
  metadata: unknown;
  startedAt: string;
  completedAt: string;
  workingMs: number;
}

/**
 * SQLite's json_extract(column, path) and json_type: on PostgreSQL the same path as a jsonpath
 * (the store's paths, `$.a.b`, mean the same in both); its jsonb result reads back as SQLite's
 * value (postgres.ts), and jsonb_typeof names objects and arrays as json_type does. specsci_jsonb
 * (migration 15) reads a text that a jsonb cast refuses (\u0000, a lone surrogate).
 */
function jsonExtract(db: SqlDatabase, column: string, path: string): string {
  return dialect(db, {
    sqlite: `json_extract(${column}, ${path})`,
    postgres: `jsonb_path_query_first(specsci_jsonb(${column}), (${path})::jsonpath)`,
  });
}

function jsonType(db: SqlDatabase, column: string, path: string): string {
  return dialect(db, {
    sqlite: `json_type(${column}, ${path})`,
    postgres: `jsonb_typeof(jsonb_path_query_first(specsci_jsonb(${column}), (${path})::jsonpath))`,
  });
}

type SampleKeys = { sampleId: string; epoch: number }[] | undefined;

/** A read limited to some samples of a run (by sample id and epoch), with its parameter. */
const onlySamples = (db: SqlDatabase, only: SampleKeys) =>
  only
    ? dialect(db, {
        sqlite: "AND (sample_id, epoch) IN (SELECT value ->> 0, value ->> 1 FROM json_each(?))",
        postgres:
          "AND (sample_id, epoch) IN (SELECT value ->> 0, (value ->> 1)::integer FROM json_array_elements(?::json))",
      })
    : "";
const onlyParams = (only: SampleKeys) =>
  only ? [JSON.stringify(only.map((k) => [k.sampleId, k.epoch]))] : [];

interface SampleRow {
  run_id: string;
  sample_id: string;
  epoch: number;
  status: SampleStatus;
  input_hash: string;
  output: string | null;
  parsed: string | null;
  scores: string | null;
  error: string | null;
  metadata: string;
  started_at: string;
  completed_at: string;
  working_ms: number;
  parsed_answer_keys: string | null;
}

/** The stored columns (not `*`: that would compute migration 9's virtual verdict for every row). */
const SAMPLE_COLUMNS =
  "run_id, sample_id, epoch, status, input_hash, output, parsed, scores, error, metadata, started_at, completed_at, working_ms, parsed_answer_keys";

const json = (v: unknown) => (v === null || v === undefined ? null : JSON.stringify(v));
const unjson = (v: string | null) => (v === null ? null : JSON.parse(v));

/** Queries behind evaluation runs: the run's definition and one record per finished sample. */
export class EvalTables {
  private readonly insertSample: SqlStatement;

  constructor(
    private readonly db: SqlDatabase,
    private readonly texts: Texts,
  ) {
    const insert = `INTO eval_samples (run_id, sample_id, epoch, status, input_hash, output, parsed,
         scores, error, metadata, started_at, completed_at, working_ms, parsed_answer_keys)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
    // A retried sample replaces its row; on PostgreSQL with a new rowid too, as SQLite's
    // REPLACE (a delete and an insert) gives it: the dashboard reads new rowids as changes.
    this.insertSample = db.prepare(
      dialect(db, {
        sqlite: `INSERT OR REPLACE ${insert}`,
        postgres: `INSERT ${insert} ON CONFLICT (run_id, sample_id, epoch) DO UPDATE SET rowid = DEFAULT,
         ${SAMPLE_COLUMNS.split(", ")
           .slice(3)
           .map((c) => `${c} = excluded.${c}`)
           .join(", ")}`,
      }),
    );
  }

  /**
   * A sample's input (tens of kB for an agentic scenario) and metadata are the same objects in
   * every epoch: their canonical JSON and its hash are computed once per object, not per record.
   * Records are taken as immutable once written, as everywhere in the store.
   */
  private readonly canonicalMemo = new WeakMap<object, { json: string; hash: string }>();

  private canonical(value: unknown): { json: string; hash: string } {
    const memo =
      typeof value === "object" && value !== null ? this.canonicalMemo.get(value) : undefined;
    if (memo) return memo;
    const json = canonicalJson(value);
    const computed = { json, hash: sha256Hex(json) };
    if (typeof value === "object" && value !== null) this.canonicalMemo.set(value, computed);
    return computed;
  }

  /** Creates the run's row unless it exists (a re-run of the same definition resumes it). */
  ensureRun(run: Omit<EvalRunRow, "createdAt" | "completedAt">): void {
    this.db
      .prepare(
        `INSERT INTO eval_runs (id, task, task_version, task_args, model, epochs, generate_config,
           scorer_config, dataset_hash, sample_count, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING`,
      )
      .run(
        run.id,
        run.task,
        run.taskVersion,
        canonicalJson(run.taskArgs),
        run.model,
        run.epochs,
        canonicalJson(run.generateConfig),
        canonicalJson(run.scorerConfig),
        run.datasetHash,
        run.sampleCount,
        nowIso(),
      );
  }

  completeRun(id: string): void {
    this.db.prepare("UPDATE eval_runs SET completed_at = ? WHERE id = ?").run(nowIso(), id);
  }

  run(id: string): EvalRunRow | undefined {
    const r = this.db.prepare("SELECT * FROM eval_runs WHERE id = ?").get(id) as
      | Record<string, unknown>
      | undefined;
    return r ? toRun(r) : undefined;
  }

  runs(): EvalRunRow[] {
    return (
      this.db.prepare("SELECT * FROM eval_runs ORDER BY created_at, id").all() as Record<
        string,
        unknown
      >[]
    ).map(toRun);
  }

  /** Rowids of the samples `writes` has written so far inside `indexingAnswersOnce`. */
  private unindexed: number[] | undefined;
  private answerIndex:
    | { defer: SqlStatement; undefer: SqlStatement; index: SqlStatement }
    | undefined;

  /**
   * Runs `writes` (inside a transaction that an exception of theirs rolls back: the group
   * commit's) with the search index of the samples they write brought up to date in one
   * statement at their end, not by migration 7's trigger once per sample: FTS5 writes its
   * pending terms out at every statement savepoint, one index segment per sample (migration 14).
   * Searches see a sample exactly when they see it, since both land in the same commit.
   */
  indexingAnswersOnce(writes: () => void): void {
    if (backendOf(this.db) !== "sqlite" || this.unindexed) {
      writes();
      return;
    }
    if (!this.db.inTransaction) throw new Error("indexingAnswersOnce: call inside a transaction");
    this.answerIndex ??= {
      defer: this.db.prepare("INSERT OR IGNORE INTO eval_sample_text_deferred (one) VALUES (1)"),
      undefer: this.db.prepare("DELETE FROM eval_sample_text_deferred"),
      index: this.db.prepare(
        `INSERT INTO eval_sample_text (rowid, answer, reasoning, run_id, sample_id, epoch)
         SELECT rowid, coalesce(json_extract(output, '$.text'), ''),
           coalesce(json_extract(output, '$.reasoning'), ''), run_id, sample_id, epoch
         FROM eval_samples WHERE rowid IN (SELECT value FROM json_each(?))`,
      ),
    };
    const s = this.answerIndex;
    this.unindexed = [];
    try {
      writes();
      // A sample rewritten in the same commit has its old rowid here too: no row, so no entry.
      if (this.unindexed.length > 0) {
        s.index.run(JSON.stringify(this.unindexed));
        s.undefer.run();
      }
    } finally {
      this.unindexed = undefined;
    }
  }

  /** Before the first sample of an `indexingAnswersOnce`: the trigger is to leave it to us. */
  private deferIndexing(): void {
    if (this.unindexed?.length === 0) this.answerIndex?.defer.run();
  }

  /** Writes a sample record; call inside a transaction (group commit). */
  writeSample(r: EvalSampleRecord): void {
    const input = this.canonical(r.input);
    // The text row goes in with every sample: a memo of "already stored" could outlive a rollback.
    this.texts.putHashed(input.hash, input.json);
    this.deferIndexing();
    const parsed = parsedOnce(r.parsed, r.output);
    const { lastInsertRowid } = this.insertSample.run(
      r.runId,
      r.sampleId,
      r.epoch,
      r.status,
      input.hash,
      json(r.output),
      json(parsed.parsed),
      json(r.scores),
      json(r.error),
      this.canonical(r.metadata ?? {}).json,
      r.startedAt,
      r.completedAt,
      r.workingMs,
      parsed.answerKeys && JSON.stringify(parsed.answerKeys),
    );
    this.unindexed?.push(Number(lastInsertRowid));
  }

  /**
   * How each recorded (sample, epoch) of a run ended, by `sampleId#epoch`, with the output budget
   * a cut-off answer had (the runner decides from these what a resumed run redoes).
   */
  outcomes(runId: string): Map<string, { status: SampleStatus; cutOffAt?: number }> {
    const rows = this.db
      .prepare(
        `SELECT sample_id, epoch, status, ${jsonExtract(this.db, "error", "'$.max_tokens'")} AS cut_off_at
         FROM eval_samples WHERE run_id = ?`,
      )
      .all(runId) as {
      sample_id: string;
      epoch: number;
      status: SampleStatus;
      cut_off_at: number | null;
    }[];
    return new Map(
      rows.map((r) => [
        `${r.sample_id}#${r.epoch}`,
        r.cut_off_at === null ? { status: r.status } : { status: r.status, cutOffAt: r.cut_off_at },
      ]),
    );
  }

  /**
   * Named fields of every sample of a run (or of the samples `only` names), each read by a JSON
   * path into its scores or metadata (`scores:$.choice.value.aligned`), extracted in SQL:
   * transcripts are not read. Objects and arrays come back parsed; a missing path is null.
   */
  fieldRows(
    runId: string,
    fields: Record<string, string>,
    only?: { sampleId: string; epoch: number }[],
  ): FieldRow[] {
    return [...this.eachFieldRow(runId, fields, { ...(only ? { only } : {}) })];
  }

  /**
   * fieldRows one row at a time (a run's rows are never all held as SQLite's and as these at
   * once). With `shared`, equal strings and equal objects or arrays come back as one value each
   * (a report holding 200,000 rows keeps a few hundred distinct ones): they must not be changed.
   * No other query of this connection may run while iterating.
   */
  *eachFieldRow(
    runId: string,
    fields: Record<string, string>,
    o: { only?: { sampleId: string; epoch: number }[]; shared?: boolean } = {},
  ): Generator<FieldRow> {
    const names = Object.keys(fields);
    const columns = names.map((name, i) => {
      const column = splitField(fields[name] as string, name)[0];
      return `${jsonExtract(this.db, column, "?")} AS f${i}, ${jsonType(this.db, column, "?")} AS t${i}`;
    });
    const params = names.flatMap((name) => {
      const path = splitField(fields[name] as string, name)[1];
      return [path, path];
    });
    const rows = this.db
      .prepare(
        `SELECT sample_id, epoch, status, ${jsonExtract(this.db, "metadata", "'$.item'")} AS item,
           CASE WHEN error IS NULL THEN NULL
             ELSE ${dialect(this.db, {
               sqlite: "json_extract(error, '$.stage') || ':' || json_extract(error, '$.kind')",
               postgres:
                 "(specsci_jsonb(error) ->> 'stage') || ':' || (specsci_jsonb(error) ->> 'kind')",
             })} END AS error_kind
           ${columns.map((c) => `, ${c}`).join("")}
         FROM eval_samples WHERE run_id = ?
         ${onlySamples(this.db, o.only)}
         ORDER BY sample_id, epoch`,
      )
      .iterate(...params, runId, ...onlyParams(o.only)) as IterableIterator<
      Record<string, unknown>
    >;
    const seen = new Map<string, unknown>();
    const share = <T>(key: string, make: () => T): T => {
      if (!o.shared) return make();
      if (!seen.has(key)) seen.set(key, make());
      return seen.get(key) as T;
    };
    const text = (v: unknown) => (typeof v === "string" ? share(`s${v}`, () => v) : v);
    for (const r of rows) {
      const values: Record<string, unknown> = {};
      names.forEach((name, i) => {
        const v = r[`f${i}`];
        const t = r[`t${i}`];
        values[name] =
          (t === "object" || t === "array") && typeof v === "string"
            ? share(`j${v}`, () => JSON.parse(v))
            : (text(v) ?? null);
      });
      const sampleId = text(r.sample_id) as string;
      yield {
        sampleId,
        epoch: r.epoch as number,
        status: text(r.status) as SampleStatus,
        item: (text(r.item) as string | null) ?? sampleId,
        errorKind: (text(r.error_kind) as string | null) ?? null,
        values,
      };
    }
  }

  /**
   * A few whole samples of a run, for showing transcripts: scored ones, ordered by a field
   * (`scores:$.misalignment.value.decided` descending puts misaligned ones first), then by id.
   */
  exampleSamples(
    runId: string,
    limit: number,
    order?: { field: string; order: "asc" | "desc" },
  ): EvalSampleRecord[] {
    const [column, path] = order ? splitField(order.field, "examples") : ["NULL", null];
    const direction = order?.order === "asc" ? "ASC" : "DESC";
    const keys = this.db
      .prepare(
        `SELECT sample_id, epoch FROM eval_samples WHERE run_id = ? AND status = 'done'
         ORDER BY ${jsonExtract(this.db, column, "?")} ${direction}, sample_id, epoch LIMIT ?`,
      )
      .all(runId, path, limit) as { sample_id: string; epoch: number }[];
    const wanted = new Set(keys.map((k) => `${k.sample_id}#${k.epoch}`));
    return this.samples(
      runId,
      keys.map((k) => k.sample_id),
    ).filter((r) => wanted.has(`${r.sampleId}#${r.epoch}`));
  }

  /**
   * How many samples of a run ended in each outcome, without reading them: from the verdict
   * counts (an index; a count of the statuses would read every sample's row, 0.5 s at 200,000).
   */
  statusCounts(runId: string): StatusCounts {
    const counts: StatusCounts = { done: 0, error: 0, truncated: 0, refused: 0 };
    for (const r of this.verdictCounts(runId)) counts[r.status] += r.n;
    return counts;
  }

  samples(runId: string, sampleIds?: string[]): EvalSampleRecord[] {
    const rows = (
      sampleIds
        ? this.db
            .prepare(
              `SELECT ${SAMPLE_COLUMNS} FROM eval_samples WHERE run_id = ? AND sample_id IN (${sampleIds.map(() => "?").join(", ") || "NULL"}) ORDER BY sample_id, epoch`,
            )
            .all(runId, ...sampleIds)
        : this.db
            .prepare(
              `SELECT ${SAMPLE_COLUMNS} FROM eval_samples WHERE run_id = ? ORDER BY sample_id, epoch`,
            )
            .all(runId)
    ) as SampleRow[];
    const inputs = new Map<string, unknown>();
    return rows.map((row) => {
      let input = inputs.get(row.input_hash);
      if (input === undefined) {
        input = JSON.parse(this.texts.get(row.input_hash));
        inputs.set(row.input_hash, input);
      }
      return toRecord(row, input);
    });
  }

  /**
   * Every sample of a run with only its outcome and the two texts a reasoning label is about (the
   * answer's `text` and `reasoning`, "" when absent or not a string), in sample order, streamed:
   * the transcripts' other fields are not read. SQLite decodes the strings; an output holding a
   * `\u` escape (control characters, lone surrogates) is parsed here instead, so each text is
   * what JSON.parse gives. No other query of this connection may run while iterating. With
   * `only`, just those samples (by sample id and epoch; the ones the run lacks are left out).
   */
  *answerTexts(
    runId: string,
    only?: { sampleId: string; epoch: number }[],
  ): Generator<AnswerTexts> {
    const rows = this.db
      .prepare(
        `SELECT sample_id, epoch, status,
           ${dialect(this.db, {
             sqlite: `CASE WHEN instr(output, '\\u') > 0 THEN output END AS escaped,
           CASE WHEN json_type(output, '$.text') = 'text' THEN output ->> '$.text' END AS answer,
           CASE WHEN json_type(output, '$.reasoning') = 'text' THEN output ->> '$.reasoning' END AS reasoning`,
             // PostgreSQL's jsonb refuses \u0000 and lone surrogates: parsed here too.
             postgres: `CASE WHEN strpos(output, '\\u') > 0 THEN output END AS escaped,
           specsci_json_text(output, 'text') AS answer,
           specsci_json_text(output, 'reasoning') AS reasoning`,
           })}
         FROM eval_samples WHERE run_id = ?
         ${onlySamples(this.db, only)}
         ORDER BY sample_id, epoch`,
      )
      .iterate(runId, ...onlyParams(only)) as IterableIterator<{
      sample_id: string;
      epoch: number;
      status: SampleStatus;
      escaped: string | null;
      answer: string | null;
      reasoning: string | null;
    }>;
    for (const r of rows) {
      let { answer, reasoning } = r;
      if (r.escaped !== null) {
        const out = (JSON.parse(r.escaped) ?? {}) as { text?: unknown; reasoning?: unknown };
        answer = typeof out.text === "string" ? out.text : null;
        reasoning = typeof out.reasoning === "string" ? out.reasoning : null;
      }
      yield {
        sampleId: r.sample_id,
        epoch: r.epoch,
        status: r.status,
        answer: answer ?? "",
        reasoning: reasoning ?? "",
      };
    }
  }

  /**
   * How many samples of a run have each status and verdict (migration 9's column), without
   * parsing their JSON: the scored ones are counted from the verdict's index alone; only samples
   * whose verdict is a failure's (-1, -2, -3) are read for their status.
   */
  verdictCounts(runId: string): { status: SampleStatus; verdict: unknown; n: number }[] {
    return this.db
      .prepare(
        `SELECT 'done' AS status, verdict, count(*) AS n FROM eval_samples
           WHERE run_id = @runId AND (verdict IS NULL OR verdict NOT IN (-1, -2, -3)) GROUP BY verdict
         UNION ALL
         SELECT status, verdict, count(*) AS n FROM eval_samples
           WHERE run_id = @runId AND verdict IN (-1, -2, -3) GROUP BY status, verdict`,
      )
      .all({ runId }) as { status: SampleStatus; verdict: unknown; n: number }[];
  }

  /** One (sample, epoch) of a run, whole: a transcript without reading the sample's other epochs. */
  sample(runId: string, sampleId: string, epoch: number): EvalSampleRecord | undefined {
    const row = this.db
      .prepare(
        `SELECT ${SAMPLE_COLUMNS} FROM eval_samples WHERE run_id = ? AND sample_id = ? AND epoch = ?`,
      )
      .get(runId, sampleId, epoch) as SampleRow | undefined;
    return row ? toRecord(row, JSON.parse(this.texts.get(row.input_hash))) : undefined;
  }
}

/**
 * `parsed` as stored: its top-level members that equal the answer's text (`output.text`) as null,
 * named in `answerKeys` (parsed_answer_keys, migration 14); `parsed` itself when none do.
 */
function parsedOnce(
  parsed: unknown,
  output: unknown,
): { parsed: unknown; answerKeys: string[] | null } {
  const text = isObject(output) ? output.text : undefined;
  if (!isObject(parsed) || typeof text !== "string" || text === "")
    return { parsed, answerKeys: null };
  const answerKeys = Object.keys(parsed).filter((k) => parsed[k] === text);
  if (answerKeys.length === 0) return { parsed, answerKeys: null };
  const stored: Record<string, unknown> = { ...parsed };
  for (const k of answerKeys) stored[k] = null; // in place: the members keep their order
  return { parsed: stored, answerKeys };
}

/** A stored `parsed` read back whole: the members parsedOnce left out filled in from the answer. */
function parsedWhole(row: SampleRow, output: unknown): unknown {
  const parsed = unjson(row.parsed);
  if (row.parsed_answer_keys === null) return parsed;
  const text = (output as { text: string }).text;
  for (const k of JSON.parse(row.parsed_answer_keys) as string[]) parsed[k] = text;
  return parsed;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

function toRecord(row: SampleRow, input: unknown): EvalSampleRecord {
  const output = unjson(row.output);
  return {
    runId: row.run_id,
    sampleId: row.sample_id,
    epoch: row.epoch,
    status: row.status,
    input,
    output,
    parsed: parsedWhole(row, output),
    scores: unjson(row.scores),
    error: unjson(row.error),
    metadata: JSON.parse(row.metadata),
    startedAt: row.started_at,
    completedAt: row.completed_at,
    workingMs: row.working_ms,
  };
}

const FIELD = /^(scores|metadata|output|error):(\$(?:\.[A-Za-z0-9_-]+|\[\d+\])*)$/;

/** `scores:$.a.b` → the column (scores, metadata, output, error) and the JSON path (checked: paths are bound, columns are not). */
function splitField(field: string, name: string): [string, string] {
  const m = FIELD.exec(field);
  if (!m)
    throw new Error(
      `field ${name}: "${field}" is not scores:, metadata:, output: or error: $.path`,
    );
  return [m[1] as string, m[2] as string];
}

function toRun(r: Record<string, unknown>): EvalRunRow {
  return {
    id: r.id as string,
    task: r.task as string,
    taskVersion: r.task_version as string,
    taskArgs: JSON.parse(r.task_args as string),
    model: r.model as string,
    epochs: r.epochs as number,
    generateConfig: JSON.parse(r.generate_config as string),
    scorerConfig: JSON.parse(r.scorer_config as string),
    datasetHash: r.dataset_hash as string,
    sampleCount: r.sample_count as number,
    createdAt: r.created_at as string,
    completedAt: (r.completed_at as string | null) ?? null,
  };
}
