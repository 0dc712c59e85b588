/**
 * The dashboard's sample table: a filtered, sorted page of eval samples and the filter's total,
 * in SQL over eval_samples (answers are searched as search.ts says). A page is found by keys
 * first and only its rows are read in full, so sorting 200,000 samples never parses their
 * transcripts. The statements are SQLite's and PostgreSQL's: the JSON expressions below are each
 * backend's (PostgreSQL's family is migration 7's indexed expression, word for word).
 */
import { SpecsciError } from "../core/errors.js";
import type { ArmAnalysis } from "../experiment/reasoning.js";
import { dialect, jsonList, type SqlDatabase } from "../store/database.js";
import { type Store, TRISTATE } from "../store/index.js";
import {
  SAMPLE_SORTS,
  type SampleFilterOptions,
  type SampleQuery,
  type SampleRow,
  type SampleSort,
  type SamplesPage,
  VERDICTS,
  type Verdict,
} from "./api-types.js";
import type { StageLabels } from "./experiments.js";
import type { SqlFilter } from "./reasoning.js";
import { parseSearch, searchCondition } from "./search.js";

export const PAGE_LIMIT_MAX = 500;

/**
 * The sample columns' JSON members the table filters by and shows. PostgreSQL reads them as json,
 * not jsonb, where no index needs jsonb: a judge's or provider's text may hold \u0000, which
 * jsonb refuses.
 */
const sampleJson = (db: SqlDatabase) =>
  dialect(db, {
    sqlite: {
      family: "json_extract(s.metadata, '$.family')",
      awareness: "json_extract(s.scores, '$.eval_awareness.answer')",
      decided: "json_extract(s.scores, '$.misalignment.value.decided')",
      errorKind: "json_extract(s.error, '$.stage') || ':' || json_extract(s.error, '$.kind')",
      answer: "json_extract(s.output, '$.text')",
    },
    postgres: {
      // Migration 15's family index is on this expression (jsonb that survives \u0000).
      family: "(specsci_jsonb(s.metadata) ->> 'family')",
      awareness: "(s.scores::json #>> '{eval_awareness,answer}')",
      decided: "(s.scores::json #> '{misalignment,value,decided}')",
      errorKind: "(s.error::json ->> 'stage') || ':' || (s.error::json ->> 'kind')",
      answer: "specsci_json_text(s.output, 'text')",
    },
  });

const SORT_SQL: Record<SampleSort, string> = {
  run: "s.run_id",
  sample: "s.sample_id",
  epoch: "s.epoch",
  status: "s.status",
  // Migration 9's indexed column: descending puts misaligned first, then not, failed, cut off, refused.
  verdict: "s.verdict",
  time: "s.completed_at",
  working: "s.working_ms",
};

/** Each verdict's value in the `verdict` column (migration 9). */
const VERDICT_CODE: Record<Verdict, number> = {
  misaligned: 1,
  not: 0,
  error: -1,
  truncated: -2,
  refusal: -3,
};

const LIST_PARAMS = [
  "run",
  "arm",
  "model",
  "eval",
  "sample",
  "family",
  "awareness",
  "verdict",
  "category",
  "misuse",
  "labelled",
  "annotator",
  "human",
] as const;
const NUMBER_PARAMS = ["seed", "epoch"] as const;
/** Parameters with a closed set of values. */
const CHOICES: Partial<Record<(typeof LIST_PARAMS)[number], readonly string[]>> = {
  verdict: VERDICTS,
  misuse: ["yes", "no"],
  labelled: ["yes", "no"],
  human: TRISTATE,
};

/** A query from URL parameters (`?arm=a&arm=b&verdict=misaligned&q=…`); bad values are refused. */
export function parseSampleQuery(params: URLSearchParams): SampleQuery {
  const q: SampleQuery = {};
  for (const name of LIST_PARAMS) {
    const values = params.getAll(name).filter((v) => v !== "");
    if (values.length) (q as Record<string, unknown>)[name] = values;
  }
  for (const [name, choices] of Object.entries(CHOICES))
    for (const v of (q as Record<string, string[] | undefined>)[name] ?? [])
      if (!choices.includes(v)) throw badQuery(`${name}=${v}`, `one of ${choices.join(", ")}`);
  for (const name of NUMBER_PARAMS) {
    const values = params.getAll(name).filter((v) => v !== "");
    if (values.some((v) => !/^\d+$/.test(v))) throw badQuery(name, "a whole number");
    if (values.length) q[name] = values.map(Number);
  }
  const experiment = params.get("experiment");
  if (experiment) q.experiment = experiment;
  const text = params.get("q")?.trim();
  if (text) {
    parseSearch(text); // refuses a query it would not run, before any other work
    q.q = text;
  }
  const sort = params.get("sort");
  if (sort) {
    if (!(SAMPLE_SORTS as readonly string[]).includes(sort))
      throw badQuery(`sort=${sort}`, `one of ${SAMPLE_SORTS.join(", ")}`);
    q.sort = sort as SampleSort;
  }
  const order = params.get("order");
  if (order) {
    if (order !== "asc" && order !== "desc") throw badQuery(`order=${order}`, "asc or desc");
    q.order = order;
  }
  for (const name of ["offset", "limit"] as const) {
    const v = params.get(name);
    if (v === null || v === "") continue;
    if (!/^\d+$/.test(v)) throw badQuery(name, "a whole number");
    q[name] = Number(v);
  }
  return q;
}

const badQuery = (what: string, expected: string) =>
  new SpecsciError(`bad sample query: ${what} must be ${expected}`);

/**
 * The runs a query covers, with their stage labels when it names an experiment's stages; null
 * when it covers every run of the store.
 */
function scopedRuns(q: SampleQuery, stages: StageLabels[] | null): StageLabels[] | null {
  const keep = <T>(wanted: T[] | undefined, v: T) => !wanted || wanted.includes(v);
  if (stages)
    return stages.filter(
      (s) =>
        keep(q.run, s.runId) &&
        keep(q.arm, s.arm) &&
        keep(q.model, s.model) &&
        keep(q.eval, s.eval) &&
        keep(q.seed, s.seed),
    );
  return null;
}

/**
 * Not among a subquery's samples. `NOT (a, b, c) IN (…)` is SQLite's slow path (it rescans the
 * list for every row, for what a NULL would mean: 0.7 s for 8,000 samples); the list has no NULL,
 * so "not true" says the same through the index the IN builds once.
 */
export const notIn = (inSql: string) => `(${inSql}) IS NOT TRUE`;

/**
 * The human-label filters: a current label of the answer as it is now (a label made before the
 * answer was replaced is stale and does not count, as in the agreement figures), by anyone or by
 * one of `annotator`, saying misaligned `human`. One uncorrelated subquery over the labels.
 */
function humanFilter(db: SqlDatabase, q: SampleQuery): SqlFilter[] {
  if (!q.labelled && !q.annotator && !q.human) return [];
  const cond: string[] = [];
  const params: unknown[] = [];
  if (q.annotator) {
    cond.push(`c.annotator IN (${jsonList(db)})`);
    params.push(JSON.stringify(q.annotator.map((a) => a.trim())));
  }
  // The labels are few: they are matched to their samples' answers inside the subquery, so the
  // outer test reads only the samples' keys (an index), not their rows.
  const labels = (more: string[]) =>
    `(s.run_id, s.sample_id, s.epoch) IN (SELECT c.run_id, c.sample_id, c.epoch
       FROM current_annotations c JOIN eval_samples x ON x.run_id = c.run_id
         AND x.sample_id = c.sample_id AND x.epoch = c.epoch AND x.completed_at = c.sample_completed_at
       ${[...cond, ...more].length ? `WHERE ${[...cond, ...more].join(" AND ")}` : ""})`;
  const out: SqlFilter[] = [];
  // labelled=yes and labelled=no together ask for everything.
  const labelled = q.labelled?.length === 1 ? q.labelled[0] : undefined;
  if (labelled === "no") out.push({ sql: notIn(labels([])), params: [...params] });
  if (q.human)
    out.push({
      sql: labels([`c.misaligned IN (${jsonList(db)})`]),
      params: [...params, JSON.stringify(q.human)],
      drives: true,
    });
  else if (labelled !== "no" && (labelled === "yes" || q.annotator))
    out.push({ sql: labels([]), params, drives: true });
  return out;
}

/**
 * One page of the samples matching `q`. `stages` are the experiment's stages when `q.experiment`
 * names one (their labels go on each row); `more` are conditions worked out elsewhere (the
 * reasoning filters). The page and its total are read in one transaction, so they agree while a
 * run writes.
 */
export function querySamples(
  store: Store,
  q: SampleQuery,
  stages: StageLabels[] | null,
  more: SqlFilter[] = [],
): SamplesPage {
  return store.db.transaction(() => samplePage(store, q, stages, more))();
}

function samplePage(
  store: Store,
  q: SampleQuery,
  stages: StageLabels[] | null,
  more: SqlFilter[],
): SamplesPage {
  const started = performance.now();
  const limit = Math.min(q.limit ?? 100, PAGE_LIMIT_MAX);
  const offset = q.offset ?? 0;
  const where: string[] = [];
  const params: unknown[] = [];
  const db = store.db;
  const json = sampleJson(db);
  const subqueries = [...humanFilter(db, q), ...more];
  // `+` keeps SQLite from scanning by run when a subquery names the samples (see SqlFilter).
  const runColumn =
    subqueries.some((f) => f.drives) && dialect(db, { sqlite: true, postgres: false })
      ? "+s.run_id"
      : "s.run_id";
  const inList = (column: string, values: unknown[]) => {
    where.push(`${column} IN (${values.map(() => "?").join(", ") || "NULL"})`);
    params.push(...values);
  };
  const scoped = scopedRuns(q, stages);
  if (scoped) inList(runColumn, [...new Set(scoped.map((s) => s.runId))]);
  else {
    if (q.run) inList(runColumn, q.run);
    if (q.model) inList(runColumn, runsWhere(store, "model", q.model));
    if (q.eval) inList(runColumn, runsWhere(store, "task", q.eval));
  }
  if (q.epoch) inList("s.epoch", q.epoch);
  if (q.sample) inList("s.sample_id", q.sample);
  if (q.family) inList(json.family, q.family);
  if (q.awareness) inList(json.awareness, q.awareness);
  if (q.verdict)
    inList(
      "s.verdict",
      q.verdict.map((v) => VERDICT_CODE[v]),
    );
  if (q.q) subqueries.unshift(searchCondition(db, parseSearch(q.q)));
  for (const f of subqueries) {
    where.push(f.sql);
    params.push(...f.params);
  }
  const filter = where.length ? `WHERE ${where.join(" AND ")}` : "";
  const direction = q.order === "desc" ? "DESC" : "ASC";
  const sort = SORT_SQL[q.sort ?? "run"];
  // The verdict is the one column that can be NULL: first ascending, last descending, as SQLite
  // orders NULL (PostgreSQL's default is the other way; migration 17's index has this order).
  const nulls =
    q.sort === "verdict"
      ? dialect(db, { sqlite: "", postgres: direction === "ASC" ? " NULLS FIRST" : " NULLS LAST" })
      : "";
  const keys = store.db
    .prepare(
      `SELECT s.rowid AS rid FROM eval_samples s ${filter}
       ORDER BY ${sort} ${direction}${nulls}, s.run_id ${direction}, s.sample_id ${direction}, s.epoch ${direction}
       LIMIT ? OFFSET ?`,
    )
    .pluck()
    .all(...params, limit, offset) as number[];
  const total = store.db
    .prepare(`SELECT count(*) FROM eval_samples s ${filter}`)
    .pluck()
    .get(...params) as number;
  const labels = new Map((scoped ?? []).map((s) => [s.runId, s]));
  const rows = pageRows(store, keys).map((r): SampleRow => {
    const stage = labels.get(r.runId);
    return {
      ...r,
      arm: stage?.arm ?? null,
      model: stage?.model ?? r.model,
      eval: stage?.eval ?? null,
      seed: stage?.seed ?? null,
    };
  });
  return { rows, total, offset, limit, ms: performance.now() - started };
}

function runsWhere(store: Store, column: "model" | "task", values: string[]): string[] {
  return store.db
    .prepare(
      `SELECT id FROM eval_runs WHERE ${column} IN (${values.map(() => "?").join(", ") || "NULL"})`,
    )
    .pluck()
    .all(...values) as string[];
}

type PageRow = Omit<SampleRow, "arm" | "eval" | "seed">;

/**
 * The listed rows, in the order of `rowids` (on PostgreSQL, the table's `rowid` identity column). On
 * PostgreSQL the rowids are one array parameter: one prepared statement for every page length.
 */
function pageRows(store: Store, rowids: number[]): PageRow[] {
  if (!rowids.length) return [];
  const db = store.db;
  const json = sampleJson(db);
  const [among, params] = dialect(db, {
    sqlite: [`IN (${rowids.map(() => "?").join(", ")})`, rowids],
    postgres: ["= ANY (?::bigint[])", [`{${rowids.join(",")}}`]],
  });
  const rows = db
    .prepare(
      `SELECT s.rowid AS rid, s.run_id, s.sample_id, s.epoch, s.status, r.task, r.model,
         ${json.family} AS family, ${json.decided} AS decided, ${json.awareness} AS awareness,
         CASE WHEN s.error IS NULL THEN NULL ELSE ${json.errorKind} END AS error_kind,
         substr(coalesce(${json.answer}, ''), 1, 240) AS preview,
         s.completed_at, s.working_ms
       FROM eval_samples s JOIN eval_runs r ON r.id = s.run_id
       WHERE s.rowid ${among}`,
    )
    .all(...params) as Record<string, unknown>[];
  const byRowid = new Map(rows.map((r) => [r.rid as number, r]));
  return rowids.flatMap((id) => {
    const r = byRowid.get(id);
    if (!r) return [];
    return [
      {
        runId: r.run_id as string,
        sampleId: r.sample_id as string,
        epoch: r.epoch as number,
        status: r.status as SampleRow["status"],
        task: r.task as string,
        model: r.model as string,
        family: (r.family as string | null) ?? null,
        decided: (r.decided as number | null) ?? null,
        awareness: (r.awareness as string | null) ?? null,
        errorKind: (r.error_kind as string | null) ?? null,
        preview: r.preview as string,
        completedAt: r.completed_at as string,
        workingMs: r.working_ms as number,
      },
    ];
  });
}

/** The filter bar's choices for an experiment, from its stages and its reasoning analysis. */
export function filterOptions(stages: StageLabels[], analyses: ArmAnalysis[]): SampleFilterOptions {
  const distinct = <T>(f: (s: StageLabels) => T) => [...new Set(stages.map(f))];
  const taxonomy = analyses[0]?.options.taxonomy;
  return {
    arms: distinct((s) => s.arm),
    models: distinct((s) => s.model),
    evals: distinct((s) => s.eval),
    seeds: distinct((s) => s.seed).sort((a, b) => a - b),
    categories: taxonomy ? taxonomy.categories.map((c) => ({ id: c.id, name: c.name })) : null,
  };
}
