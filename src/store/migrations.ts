/**
 * Versioned schema migrations. Each runs once, in its own transaction, and bumps
 * `PRAGMA user_version`; a store written by a newer specsci is refused rather than guessed at.
 * Append new migrations; never edit one that has shipped.
 *
 * The same list makes a PostgreSQL store (postgres.ts): a migration's `sql` runs there as it is
 * unless `postgres` says otherwise, either as the whole statement list written for PostgreSQL
 * or, where only a few words differ (a type), as exact edits of `sql`, each of which must apply.
 * Tables the store reads by SQLite's implicit rowid get an explicit `rowid` identity column.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
  postgres?: string | [from: string, to: string][];
}

/** A migration's statements for PostgreSQL. */
export function postgresSql(m: Migration): string {
  if (m.postgres === undefined) return m.sql;
  if (typeof m.postgres === "string") return m.postgres;
  let sql = m.sql;
  for (const [from, to] of m.postgres) {
    if (!sql.includes(from))
      throw new Error(
        `migration ${m.version}: "${from}" is not in its SQL (an edit for PostgreSQL)`,
      );
    sql = sql.replaceAll(from, to);
  }
  return sql;
}

/** SQLite's REAL is 8 bytes; PostgreSQL's is 4. */
const DOUBLE: [string, string] = ["REAL", "DOUBLE PRECISION"];
/** A column for the tables read by rowid (SQLite's implicit one, in insertion order). */
const ROWID = "rowid BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,";

/** Migration 10's index table of reasoning labels (SQLite keeps it WITHOUT ROWID). */
const REASONING_LABEL_INDEX = (options: string) => `CREATE TABLE reasoning_label_index (
        corpus TEXT NOT NULL,
        stage TEXT NOT NULL,
        run_id TEXT NOT NULL,
        sample_id TEXT NOT NULL,
        epoch INTEGER NOT NULL,
        category TEXT NOT NULL,
        PRIMARY KEY (corpus, stage, run_id, sample_id, epoch, category)
      )${options};
      CREATE INDEX reasoning_label_index_by_category ON reasoning_label_index
        (corpus, stage, category, run_id, sample_id, epoch);`;

/** Migration 15's table, the same on both backends. */
const RUN_LOCKS = `
      -- One driver per experiment (locks.ts). On SQLite the row is the lock; on PostgreSQL it
      -- names the holder of a session advisory lock. token tells the holder its own row.
      CREATE TABLE run_locks (
        name TEXT PRIMARY KEY,
        host TEXT NOT NULL,
        pid INTEGER NOT NULL,
        command TEXT NOT NULL,
        since TEXT NOT NULL,
        token TEXT NOT NULL
      );
`;

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: "runs, texts, llm cache and call log, batch jobs",
    sql: `
      CREATE TABLE runs (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        name TEXT,
        status TEXT NOT NULL DEFAULT 'running',
        config TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );

      -- Large strings shared by many rows (a spec in every prompt) are stored once by hash.
      CREATE TABLE texts (
        hash TEXT PRIMARY KEY,
        body TEXT NOT NULL
      );

      -- Successful model responses only; failures are never cached.
      CREATE TABLE llm_cache (
        key TEXT PRIMARY KEY,
        model TEXT NOT NULL,
        request TEXT NOT NULL,
        response TEXT NOT NULL,
        created_at TEXT NOT NULL
      );

      -- One row per logical call (after retries), whether answered, replayed or failed.
      CREATE TABLE llm_calls (
        id INTEGER PRIMARY KEY,
        run_id TEXT REFERENCES runs(id),
        stage TEXT,
        model TEXT NOT NULL,
        cache_key TEXT NOT NULL,
        source TEXT NOT NULL CHECK (source IN ('api', 'cache', 'batch')),
        status TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
        stop_reason TEXT NOT NULL CHECK (stop_reason IN ('end', 'max_tokens', 'refusal', 'error')),
        error_kind TEXT,
        error_message TEXT,
        http_status INTEGER,
        attempts INTEGER NOT NULL,
        input_tokens INTEGER NOT NULL DEFAULT 0,
        output_tokens INTEGER NOT NULL DEFAULT 0,
        reasoning_tokens INTEGER NOT NULL DEFAULT 0,
        cache_read_tokens INTEGER NOT NULL DEFAULT 0,
        cache_write_tokens INTEGER NOT NULL DEFAULT 0,
        cost_usd REAL,
        latency_ms REAL NOT NULL,
        created_at TEXT NOT NULL,
        CHECK ((status = 'ok') = (stop_reason <> 'error')),
        CHECK (status = 'ok' OR error_kind IS NOT NULL)
      );
      CREATE INDEX llm_calls_by_run ON llm_calls (run_id, stage, model);

      CREATE TABLE batch_jobs (
        id TEXT PRIMARY KEY,
        provider TEXT NOT NULL,
        model TEXT NOT NULL,
        remote_id TEXT,
        status TEXT NOT NULL CHECK (status IN ('preparing', 'submitted', 'collected', 'failed')),
        round INTEGER NOT NULL,
        request_count INTEGER NOT NULL,
        input_file_id TEXT,
        run_id TEXT REFERENCES runs(id),
        stage TEXT,
        error TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE UNIQUE INDEX batch_jobs_remote ON batch_jobs (provider, remote_id);

      CREATE TABLE batch_items (
        job_id TEXT NOT NULL REFERENCES batch_jobs(id),
        custom_id TEXT NOT NULL,
        -- The request itself (long messages as text references), so any process can collect the job.
        request TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'errored', 'expired', 'canceled', 'missing')),
        error TEXT,
        PRIMARY KEY (job_id, custom_id)
      );
    `,
    postgres: [
      DOUBLE,
      ["id INTEGER PRIMARY KEY,", "id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"],
      [
        "CREATE TABLE batch_items (",
        `CREATE TABLE batch_items (
        ${ROWID}`,
      ],
      // SQLite's user_version: the schema version, in a table of one row (PgDatabase.pragma).
      [
        "CREATE TABLE runs (",
        `CREATE TABLE specsci_schema (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL);
      CREATE TABLE runs (`,
      ],
    ],
  },
  {
    version: 2,
    name: "evaluation runs and samples",
    sql: `
      CREATE TABLE eval_runs (
        id TEXT PRIMARY KEY REFERENCES runs(id),
        task TEXT NOT NULL,
        task_version TEXT NOT NULL,
        task_args TEXT NOT NULL,
        model TEXT NOT NULL,
        epochs INTEGER NOT NULL,
        generate_config TEXT NOT NULL,
        scorer_config TEXT NOT NULL,
        dataset_hash TEXT NOT NULL,
        sample_count INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        completed_at TEXT
      );

      -- One row per (sample, epoch) once it has finished, successfully or not. Only 'done' rows
      -- count as finished on resume; 'error' rows are retried and never enter a rate.
      CREATE TABLE eval_samples (
        run_id TEXT NOT NULL REFERENCES eval_runs(id),
        sample_id TEXT NOT NULL,
        epoch INTEGER NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('done', 'error')),
        input_hash TEXT NOT NULL REFERENCES texts(hash),
        output TEXT,
        parsed TEXT,
        scores TEXT,
        error TEXT,
        metadata TEXT NOT NULL,
        started_at TEXT NOT NULL,
        completed_at TEXT NOT NULL,
        working_ms REAL NOT NULL,
        PRIMARY KEY (run_id, sample_id, epoch),
        CHECK ((status = 'done') = (error IS NULL))
      );
    `,
    postgres: [
      DOUBLE,
      // Named, so migration 6 can replace it (PostgreSQL alters constraints; SQLite rebuilt).
      [
        "status TEXT NOT NULL CHECK (status IN ('done', 'error')),",
        "status TEXT NOT NULL CONSTRAINT eval_samples_status CHECK (status IN ('done', 'error')),",
      ],
      [
        "CREATE TABLE eval_samples (",
        `CREATE TABLE eval_samples (
        ${ROWID}`,
      ],
    ],
  },
  {
    version: 3,
    name: "derived artifacts",
    sql: `
      -- Artifacts an experiment derives (e.g. a spec variant written by a model), keyed by a hash
      -- of everything that determines them; the content is a blob beside the database.
      CREATE TABLE artifacts (
        key TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        blob TEXT NOT NULL,
        meta TEXT NOT NULL,
        created_at TEXT NOT NULL
      );
    `,
    // A team's drivers share no directory: a PostgreSQL store keeps its blobs as rows too.
    postgres: [
      [
        "CREATE TABLE artifacts (",
        `CREATE TABLE blobs (hash TEXT PRIMARY KEY, data BYTEA NOT NULL);
      CREATE TABLE artifacts (`,
      ],
    ],
  },
  {
    version: 4,
    name: "MSM corpus items",
    sql: `
      -- One row per finished item of an MSM corpus tree (a domain list, an idea list, a document,
      -- a judge verdict), so a killed generation resumes item by item. 'failed' rows carry the
      -- error; rows of kind 'call' are retried on resume, invalid answers are not.
      CREATE TABLE msm_items (
        corpus TEXT NOT NULL REFERENCES runs(id),
        key TEXT NOT NULL,
        stage TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
        value TEXT,
        error TEXT,
        attempts INTEGER NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (corpus, key),
        CHECK ((status = 'ok') = (value IS NOT NULL))
      );
      CREATE INDEX msm_items_stage ON msm_items (corpus, stage);
    `,
    postgres: [["CREATE TABLE msm_items (", `CREATE TABLE msm_items (\n        ${ROWID}`]],
  },
  {
    version: 5,
    name: "training stages and metrics",
    sql: `
      -- One row per (training run, stage): what was launched, where, and how it ended.
      CREATE TABLE train_stages (
        run_id TEXT NOT NULL REFERENCES runs(id),
        stage TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('running', 'completed', 'failed', 'interrupted')),
        attempts INTEGER NOT NULL,
        config_path TEXT NOT NULL,
        output_dir TEXT NOT NULL,
        error TEXT,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        PRIMARY KEY (run_id, stage)
      );
      -- The trainer's logged metrics (loss, learning rate, …) by step.
      CREATE TABLE train_metrics (
        run_id TEXT NOT NULL REFERENCES runs(id),
        stage TEXT NOT NULL,
        step INTEGER NOT NULL,
        metrics TEXT NOT NULL,
        at TEXT NOT NULL,
        PRIMARY KEY (run_id, stage, step)
      );
    `,
  },
  {
    version: 6,
    name: "eval sample outcomes: truncated and refused",
    sql: `
      -- A sample can now end without a score for a reason that is the target's, not a failure of
      -- ours: 'truncated' (the answer stopped at max_tokens: no evidence of a decision; retried
      -- only with a larger budget) and 'refused' (the provider reported a refusal; final). Both
      -- keep their transcript and, in 'error', why they have no score; neither enters a rate.
      -- SQLite cannot alter a CHECK constraint, so the table is rebuilt.
      CREATE TABLE eval_samples_v6 (
        run_id TEXT NOT NULL REFERENCES eval_runs(id),
        sample_id TEXT NOT NULL,
        epoch INTEGER NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('done', 'error', 'truncated', 'refused')),
        input_hash TEXT NOT NULL REFERENCES texts(hash),
        output TEXT,
        parsed TEXT,
        scores TEXT,
        error TEXT,
        metadata TEXT NOT NULL,
        started_at TEXT NOT NULL,
        completed_at TEXT NOT NULL,
        working_ms REAL NOT NULL,
        PRIMARY KEY (run_id, sample_id, epoch),
        CHECK ((status = 'done') = (error IS NULL)),
        CHECK (status IN ('done', 'error') OR (output IS NOT NULL AND scores IS NULL))
      );
      INSERT INTO eval_samples_v6 SELECT * FROM eval_samples;
      DROP TABLE eval_samples;
      ALTER TABLE eval_samples_v6 RENAME TO eval_samples;
      -- Samples stored before this version were scored whatever their stop reason: a cut-off
      -- answer counted as 'not decided', a refusal failed its judge. Reclassify them, so an old
      -- store gives the same rates as a new run would (their scores go; the transcript stays).
      UPDATE eval_samples SET status = 'refused', scores = NULL,
        error = json_object('stage', 'generate', 'kind', 'refused', 'message',
          coalesce(json_extract(output, '$.refusal'), 'the provider reported a refusal'))
      WHERE output IS NOT NULL AND json_extract(output, '$.stop_reason') = 'refusal';
      UPDATE eval_samples SET status = 'truncated', scores = NULL,
        error = json_object('stage', 'generate', 'kind', 'truncated', 'message',
          'the answer stopped at the output budget before it finished', 'max_tokens',
          (SELECT json_extract(generate_config, '$.max_tokens') FROM eval_runs
           WHERE eval_runs.id = eval_samples.run_id))
      WHERE output IS NOT NULL AND json_extract(output, '$.stop_reason') = 'max_tokens';
      -- Their runs are no longer complete: a truncated sample is retried with a larger budget.
      UPDATE eval_runs SET completed_at = NULL
      WHERE id IN (SELECT run_id FROM eval_samples WHERE status = 'truncated');
    `,
    postgres: `
      ALTER TABLE eval_samples DROP CONSTRAINT eval_samples_status,
        ADD CONSTRAINT eval_samples_status CHECK (status IN ('done', 'error', 'truncated', 'refused')),
        ADD CONSTRAINT eval_samples_unscored
          CHECK (status IN ('done', 'error') OR (output IS NOT NULL AND scores IS NULL));
      UPDATE eval_samples SET status = 'refused', scores = NULL,
        error = json_build_object('stage', 'generate', 'kind', 'refused', 'message',
          coalesce(output::json ->> 'refusal', 'the provider reported a refusal'))::text
      WHERE output IS NOT NULL AND output::json ->> 'stop_reason' = 'refusal';
      UPDATE eval_samples SET status = 'truncated', scores = NULL,
        error = json_build_object('stage', 'generate', 'kind', 'truncated', 'message',
          'the answer stopped at the output budget before it finished', 'max_tokens',
          (SELECT generate_config::json -> 'max_tokens' FROM eval_runs
           WHERE eval_runs.id = eval_samples.run_id))::text
      WHERE output IS NOT NULL AND output::json ->> 'stop_reason' = 'max_tokens';
      UPDATE eval_runs SET completed_at = NULL
      WHERE id IN (SELECT run_id FROM eval_samples WHERE status = 'truncated');
    `,
  },
  {
    version: 7,
    name: "full-text search over eval answers and sample indexes, for the dashboard",
    sql: `
      -- The answer and native reasoning of every sample, tokenized for search (FTS5, which
      -- better-sqlite3's SQLite ships). Contentless: the text stays in eval_samples only; the key
      -- is kept as unindexed columns (rowids of eval_samples may change on VACUUM).
      CREATE VIRTUAL TABLE eval_sample_text USING fts5(
        answer, reasoning, run_id UNINDEXED, sample_id UNINDEXED, epoch UNINDEXED,
        content = '', contentless_delete = 1, contentless_unindexed = 1,
        tokenize = 'unicode61 remove_diacritics 2'
      );
      -- writeSample replaces a retried sample (INSERT OR REPLACE), whose implicit delete fires
      -- no DELETE trigger: the old text goes before the new row lands.
      CREATE TRIGGER eval_sample_text_replace BEFORE INSERT ON eval_samples BEGIN
        DELETE FROM eval_sample_text WHERE rowid IN (SELECT rowid FROM eval_samples
          WHERE run_id = new.run_id AND sample_id = new.sample_id AND epoch = new.epoch);
      END;
      CREATE TRIGGER eval_sample_text_insert AFTER INSERT ON eval_samples BEGIN
        INSERT INTO eval_sample_text (rowid, answer, reasoning, run_id, sample_id, epoch)
        VALUES (new.rowid, coalesce(json_extract(new.output, '$.text'), ''),
          coalesce(json_extract(new.output, '$.reasoning'), ''), new.run_id, new.sample_id, new.epoch);
      END;
      CREATE TRIGGER eval_sample_text_delete AFTER DELETE ON eval_samples BEGIN
        DELETE FROM eval_sample_text WHERE rowid = old.rowid;
      END;
      -- The dashboard's sample table sorts by verdict and filters by family within runs: indexes
      -- on those expressions keep a query over 200,000 samples from parsing every row's JSON.
      CREATE INDEX eval_samples_by_decided ON eval_samples
        (json_extract(scores, '$.misalignment.value.decided'), run_id, sample_id, epoch);
      CREATE INDEX eval_samples_by_family ON eval_samples (run_id, json_extract(metadata, '$.family'));
      INSERT INTO eval_sample_text (rowid, answer, reasoning, run_id, sample_id, epoch)
        SELECT rowid, coalesce(json_extract(output, '$.text'), ''),
          coalesce(json_extract(output, '$.reasoning'), ''), run_id, sample_id, epoch
        FROM eval_samples;
    `,
    // PostgreSQL's own full-text search: a generated tsvector of the answer and reasoning, with a
    // GIN index, in place of the FTS5 table and its triggers ('simple': no stemming, as unicode61).
    // specsci_json_text reads a string member of a JSON text that jsonb may refuse: model output
    // can hold \u0000 or a lone surrogate, which PostgreSQL's text cannot (then those escapes are
    // read as spaces; the sample itself is stored as it came).
    postgres: `
      CREATE FUNCTION specsci_json_text(doc TEXT, member TEXT) RETURNS TEXT
        LANGUAGE plpgsql IMMUTABLE AS $body$
      BEGIN
        BEGIN
          RETURN CASE WHEN jsonb_typeof(doc::jsonb -> member) = 'string' THEN doc::jsonb ->> member END;
        EXCEPTION WHEN others THEN
          doc := regexp_replace(doc, '\\\\u(0000|[dD][89a-fA-F][0-9a-fA-F]{2})', ' ', 'g');
        END;
        RETURN CASE WHEN jsonb_typeof(doc::jsonb -> member) = 'string' THEN doc::jsonb ->> member END;
      EXCEPTION WHEN others THEN
        RETURN NULL;
      END
      $body$;
      ALTER TABLE eval_samples ADD COLUMN answer_search tsvector GENERATED ALWAYS AS (
        to_tsvector('simple', coalesce(specsci_json_text(output, 'text'), '') || ' ' ||
          coalesce(specsci_json_text(output, 'reasoning'), ''))) STORED;
      CREATE INDEX eval_sample_text ON eval_samples USING gin (answer_search);
      CREATE INDEX eval_samples_by_decided ON eval_samples
        ((scores::jsonb #> '{misalignment,value,decided}'), run_id, sample_id, epoch);
      CREATE INDEX eval_samples_by_family ON eval_samples (run_id, (metadata::jsonb ->> 'family'));
    `,
  },
  {
    version: 8,
    name: "human annotations of eval samples",
    sql: `
      -- Labels people give transcripts by hand (the dashboard's Annotate page), one row per label
      -- and per withdrawal of one: append-only, so every label's history is kept and a write is
      -- one insert that never reads a row another writer may be changing. The current label of a
      -- (run, sample, epoch, annotator) is its newest row by id, unless that row is a retraction.
      -- sample_completed_at is the sample's completed_at when it was labelled: a rerun that
      -- replaces the answer (a cut-off sample retried) leaves the label stale, not silently moved.
      -- No foreign key to eval_samples: it is rebuilt by migrations (see 6) and rewritten by reruns.
      CREATE TABLE annotations (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id TEXT NOT NULL REFERENCES eval_runs(id),
        sample_id TEXT NOT NULL,
        epoch INTEGER NOT NULL CHECK (epoch >= 1),
        annotator TEXT NOT NULL CHECK (length(annotator) > 0),
        kind TEXT NOT NULL CHECK (kind IN ('label', 'retraction')),
        sample_completed_at TEXT,
        misaligned TEXT CHECK (misaligned IN ('yes', 'no', 'unsure')),
        -- A JSON array of category ids of the taxonomy named in taxonomy (its version, tax-…).
        categories TEXT CHECK (categories IS NULL OR json_type(categories) = 'array'),
        taxonomy TEXT,
        policy_misuse TEXT CHECK (policy_misuse IN ('yes', 'no', 'unsure')),
        note TEXT,
        created_at TEXT NOT NULL,
        CHECK (kind = 'retraction' OR (sample_completed_at IS NOT NULL AND misaligned IS NOT NULL
          AND categories IS NOT NULL AND taxonomy IS NOT NULL AND policy_misuse IS NOT NULL)),
        CHECK (kind = 'label' OR (sample_completed_at IS NULL AND misaligned IS NULL
          AND categories IS NULL AND taxonomy IS NULL AND policy_misuse IS NULL AND note IS NULL))
      );
      CREATE INDEX annotations_by_key ON annotations (run_id, sample_id, epoch, annotator, id);
      CREATE VIEW current_annotations AS
        SELECT a.* FROM annotations a
        WHERE a.kind = 'label' AND a.id = (
          SELECT max(b.id) FROM annotations b
          WHERE b.run_id = a.run_id AND b.sample_id = a.sample_id AND b.epoch = a.epoch
            AND b.annotator = a.annotator);
    `,
    postgres: [
      [
        "id INTEGER PRIMARY KEY AUTOINCREMENT,",
        "id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,",
      ],
      ["json_type(categories) = 'array'", "json_typeof(categories::json) = 'array'"],
    ],
  },
  {
    version: 9,
    name: "the sample table's verdict as an indexed column, for the dashboard",
    sql: `
      -- A sample's verdict as one value the sample table filters and sorts by: 1 misaligned, 0
      -- not (agentic misalignment's decided verdict), -1 failed, -2 cut off, -3 refused; null for
      -- a scored sample of a task without that verdict. Descending puts misaligned ones first.
      -- Migration 7's index on the json_extract expression served the filter but not the sort
      -- under it (SQLite sorted every match in a temporary B-tree: 715 ms at offset 5,000 of
      -- 200,000 samples); on a column the index gives the order (under 1 ms). VIRTUAL because
      -- ALTER TABLE cannot add a STORED column and rebuilding the table would rewrite every
      -- sample; the index holds the computed values, so reading it parses no JSON.
      ALTER TABLE eval_samples ADD COLUMN verdict INTEGER GENERATED ALWAYS AS (CASE status
        WHEN 'done' THEN json_extract(scores, '$.misalignment.value.decided')
        WHEN 'error' THEN -1 WHEN 'truncated' THEN -2 WHEN 'refused' THEN -3 END) VIRTUAL;
      CREATE INDEX eval_samples_by_verdict ON eval_samples (verdict, run_id, sample_id, epoch);
      DROP INDEX eval_samples_by_decided;
      -- Runs × family × verdict, the table's common filter, answered from the index alone.
      DROP INDEX eval_samples_by_family;
      CREATE INDEX eval_samples_by_family ON eval_samples
        (run_id, json_extract(metadata, '$.family'), verdict);
    `,
    // PostgreSQL has STORED generated columns only; the verdict of a JSON true/false is 1/0, as
    // SQLite's json_extract gives it.
    postgres: `
      ALTER TABLE eval_samples ADD COLUMN verdict INTEGER GENERATED ALWAYS AS (CASE status
        WHEN 'done' THEN (CASE jsonb_typeof(scores::jsonb #> '{misalignment,value,decided}')
          WHEN 'boolean' THEN (scores::jsonb #>> '{misalignment,value,decided}')::boolean::integer
          WHEN 'number' THEN (scores::jsonb #>> '{misalignment,value,decided}')::numeric::integer END)
        WHEN 'error' THEN -1 WHEN 'truncated' THEN -2 WHEN 'refused' THEN -3 END) STORED;
      CREATE INDEX eval_samples_by_verdict ON eval_samples (verdict, run_id, sample_id, epoch);
      DROP INDEX eval_samples_by_decided;
      DROP INDEX eval_samples_by_family;
      CREATE INDEX eval_samples_by_family ON eval_samples
        (run_id, (metadata::jsonb ->> 'family'), verdict);
    `,
  },
  {
    version: 10,
    name: "an index of the reasoning labels' categories, for the dashboard",
    sql: `
      -- The reasoning analysis keeps each label as an msm_items row of stage label:<rater>, key
      -- <stage>|<run>/<sample>#<epoch> (analyze.ts), its categories inside the JSON value. The
      -- sample table filters by category: here each label of status ok has a row per category it
      -- names and one with category '' (the label itself; category ids are snake_case, never
      -- empty), keyed by its sample and kept by triggers, so a filter reads an index range instead
      -- of parsing every label (200,000 of them in bench/view.ts). The key is split at the first
      -- '/' (eval run ids have none) and the last '#' (epochs are digits).
      CREATE VIEW reasoning_label_keys AS
        SELECT item, corpus, stage, status, value, run_id,
          substr(tail, 1, length(rtrim(tail, '0123456789')) - 1) AS sample_id,
          CAST(substr(tail, length(rtrim(tail, '0123456789')) + 1) AS INTEGER) AS epoch
        FROM (SELECT item, corpus, stage, status, value,
                substr(rest, 1, instr(rest, '/') - 1) AS run_id, substr(rest, instr(rest, '/') + 1) AS tail
              FROM (SELECT rowid AS item, corpus, stage, status, value,
                      substr(key, length(stage) + 2) AS rest
                    FROM msm_items WHERE stage LIKE 'label:%'));
      -- Each label of status ok, once with category '' and once per category it names.
      CREATE VIEW reasoning_label_categories AS
        SELECT item, corpus, stage, run_id, sample_id, epoch, '' AS category
          FROM reasoning_label_keys WHERE status = 'ok'
        UNION ALL
        SELECT k.item, k.corpus, k.stage, k.run_id, k.sample_id, k.epoch, j.value ->> 'id'
          FROM reasoning_label_keys k, json_each(k.value, '$.categories') j WHERE k.status = 'ok';
      ${REASONING_LABEL_INDEX(" WITHOUT ROWID")}
      CREATE TRIGGER reasoning_label_index_insert AFTER INSERT ON msm_items
        WHEN new.stage LIKE 'label:%' BEGIN
        INSERT OR IGNORE INTO reasoning_label_index
          SELECT corpus, stage, run_id, sample_id, epoch, category
          FROM reasoning_label_categories WHERE item = new.rowid;
      END;
      -- msm.put upserts: a label retried after a failure is an update.
      CREATE TRIGGER reasoning_label_index_update AFTER UPDATE ON msm_items
        WHEN new.stage LIKE 'label:%' BEGIN
        DELETE FROM reasoning_label_index WHERE (corpus, stage, run_id, sample_id, epoch) IN
          (SELECT corpus, stage, run_id, sample_id, epoch FROM reasoning_label_keys WHERE item = new.rowid);
        INSERT OR IGNORE INTO reasoning_label_index
          SELECT corpus, stage, run_id, sample_id, epoch, category
          FROM reasoning_label_categories WHERE item = new.rowid;
      END;
      CREATE TRIGGER reasoning_label_index_delete BEFORE DELETE ON msm_items
        WHEN old.stage LIKE 'label:%' BEGIN
        DELETE FROM reasoning_label_index WHERE (corpus, stage, run_id, sample_id, epoch) IN
          (SELECT corpus, stage, run_id, sample_id, epoch FROM reasoning_label_keys WHERE item = old.rowid);
      END;
      INSERT OR IGNORE INTO reasoning_label_index
        SELECT corpus, stage, run_id, sample_id, epoch, category FROM reasoning_label_categories;
    `,
    // The same views and index table; the key is split with PostgreSQL's functions, guarded
    // where SQLite is lenient (a negative substring length, an empty epoch, a category without
    // an id: SQLite's INSERT OR IGNORE skips a NULL, ON CONFLICT DO NOTHING does not). The
    // triggers are one PL/pgSQL function; the delete's runs before, while the row is in the view.
    postgres: `
      CREATE VIEW reasoning_label_keys AS
        SELECT item, corpus, stage, status, value, run_id,
          left(tail, greatest(length(rtrim(tail, '0123456789')) - 1, 0)) AS sample_id,
          coalesce(nullif(substr(tail, length(rtrim(tail, '0123456789')) + 1), '')::integer, 0) AS epoch
        FROM (SELECT item, corpus, stage, status, value,
                left(rest, greatest(strpos(rest, '/') - 1, 0)) AS run_id, substr(rest, strpos(rest, '/') + 1) AS tail
              FROM (SELECT rowid AS item, corpus, stage, status, value,
                      substr(key, length(stage) + 2) AS rest
                    FROM msm_items WHERE stage LIKE 'label:%') AS labels) AS split;
      CREATE VIEW reasoning_label_categories AS
        SELECT item, corpus, stage, run_id, sample_id, epoch, '' AS category
          FROM reasoning_label_keys WHERE status = 'ok'
        UNION ALL
        SELECT k.item, k.corpus, k.stage, k.run_id, k.sample_id, k.epoch, j.value ->> 'id'
          FROM reasoning_label_keys k, jsonb_array_elements(CASE
            WHEN jsonb_typeof(k.value::jsonb -> 'categories') = 'array' THEN k.value::jsonb -> 'categories'
            ELSE '[]'::jsonb END) j
          WHERE k.status = 'ok' AND j.value ->> 'id' IS NOT NULL;
      ${REASONING_LABEL_INDEX("")}
      CREATE FUNCTION reasoning_label_index_sync() RETURNS trigger LANGUAGE plpgsql AS $body$
      DECLARE target BIGINT;
      BEGIN
        IF TG_OP = 'DELETE' THEN target := OLD.rowid; ELSE target := NEW.rowid; END IF;
        IF TG_OP <> 'INSERT' THEN
          DELETE FROM reasoning_label_index WHERE (corpus, stage, run_id, sample_id, epoch) IN
            (SELECT corpus, stage, run_id, sample_id, epoch FROM reasoning_label_keys
             WHERE item = target);
        END IF;
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        INSERT INTO reasoning_label_index
          SELECT corpus, stage, run_id, sample_id, epoch, category
          FROM reasoning_label_categories WHERE item = target
          ON CONFLICT DO NOTHING;
        RETURN NULL;
      END
      $body$;
      CREATE TRIGGER reasoning_label_index_write AFTER INSERT OR UPDATE ON msm_items
        FOR EACH ROW WHEN (NEW.stage LIKE 'label:%') EXECUTE FUNCTION reasoning_label_index_sync();
      CREATE TRIGGER reasoning_label_index_delete BEFORE DELETE ON msm_items
        FOR EACH ROW WHEN (OLD.stage LIKE 'label:%') EXECUTE FUNCTION reasoning_label_index_sync();
      INSERT INTO reasoning_label_index
        SELECT corpus, stage, run_id, sample_id, epoch, category FROM reasoning_label_categories
        ON CONFLICT DO NOTHING;
    `,
  },
  {
    version: 11,
    name: "msm_items is the resumable-item table of every job: items",
    sql: `
      -- MSM corpora, AFT chat sets and reasoning analyses all keep their items here. SQLite
      -- (>= 3.26, legacy_alter_table off) rewrites migration 10's triggers and views to the new
      -- name (set off here, whatever the build's default); an index keeps its name, so the stage
      -- index is made again under the table's.
      PRAGMA legacy_alter_table = OFF;
      ALTER TABLE msm_items RENAME TO items;
      DROP INDEX msm_items_stage;
      CREATE INDEX items_stage ON items (corpus, stage);
    `,
    // PostgreSQL's views and triggers refer to the table itself, not its name.
    postgres: `
      ALTER TABLE msm_items RENAME TO items;
      ALTER INDEX msm_items_stage RENAME TO items_stage;
    `,
  },
  {
    version: 12,
    name: "llm_calls: the eval sample (and epoch) each call was made for",
    sql: `
      -- Recorded when the call is made, so an export shows each sample's calls (its answer, its
      -- judges, its failed attempts) without guessing from their text. Calls made before, and
      -- calls outside an eval sample, have none.
      ALTER TABLE llm_calls ADD COLUMN sample_id TEXT;
      ALTER TABLE llm_calls ADD COLUMN epoch INTEGER;
      CREATE INDEX llm_calls_by_sample ON llm_calls (run_id, sample_id, epoch);
    `,
  },
  {
    version: 13,
    name: "llm_calls: the replica of an endpoint each call went to",
    sql: `
      -- For endpoints served by several replicas (base_url: [...]): which one answered or
      -- failed, so usage and errors can be read per replica. NULL for one-URL endpoints.
      ALTER TABLE llm_calls ADD COLUMN replica TEXT;
    `,
  },
  {
    version: 14,
    name: "eval answers indexed once per group commit; parsed answers stored once",
    sql: `
      -- FTS5 writes its pending terms to disk at every statement savepoint, so migration 7's
      -- trigger made one index segment per sample (and merges of them: ~20% of eval run's CPU).
      -- While the one row here exists, inside a group commit's transaction only (it is deleted
      -- before that commits), the trigger leaves answers to the store, which indexes the
      -- commit's samples in one statement at its end (EvalTables.indexingAnswersOnce). Every
      -- other writer of eval_samples is indexed by the trigger as before.
      CREATE TABLE eval_sample_text_deferred (one INTEGER PRIMARY KEY CHECK (one = 1));
      -- The top-level members of parsed that repeat the answer's text (agentic misalignment's
      -- visible answer, whenever it has no scratchpad: a third of a sample's bytes), as a JSON
      -- array of their names; parsed holds null in their place and the store's reads fill them
      -- in from output. NULL: parsed is whole (every row written before).
      ALTER TABLE eval_samples ADD COLUMN parsed_answer_keys TEXT;
      DROP TRIGGER eval_sample_text_insert;
      CREATE TRIGGER eval_sample_text_insert AFTER INSERT ON eval_samples
        WHEN NOT EXISTS (SELECT 1 FROM eval_sample_text_deferred) BEGIN
        INSERT INTO eval_sample_text (rowid, answer, reasoning, run_id, sample_id, epoch)
        VALUES (new.rowid, coalesce(json_extract(new.output, '$.text'), ''),
          coalesce(json_extract(new.output, '$.reasoning'), ''), new.run_id, new.sample_id, new.epoch);
      END;
    `,
    // PostgreSQL indexes answers in a generated column (migration 7): no trigger; the flag table
    // all the same, so both backends have the same tables.
    postgres: `
      CREATE TABLE eval_sample_text_deferred (one INTEGER PRIMARY KEY CHECK (one = 1));
      ALTER TABLE eval_samples ADD COLUMN parsed_answer_keys TEXT;
    `,
  },
  {
    version: 15,
    name: "run_locks: who holds each experiment's lock; PostgreSQL: JSON that jsonb refuses",
    sql: RUN_LOCKS,
    // jsonb refuses two escapes JSON allows, \u0000 and a lone surrogate (model output and a
    // judge's explanation may hold either), and migrations 7, 9 and 10 cast to jsonb in a stored
    // column, an index and a view: such a sample could not even be written. specsci_jsonb reads
    // such a text with those characters as U+FFFD (exact for every other text; an inlined SQL
    // function that checks for a \u first, so the common text pays one strpos). The verdict
    // column is made again (PostgreSQL 15 cannot change a generated column's expression), and
    // with it its two indexes; every cast in the store's queries goes through specsci_jsonb.
    postgres: String.raw`${RUN_LOCKS}
      CREATE FUNCTION specsci_jsonb(doc TEXT) RETURNS jsonb
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $body$
        SELECT CASE WHEN strpos(doc, '\u') = 0 THEN doc::jsonb ELSE
          -- An escaped backslash as \u005c first, so that every \u left is an escape.
          regexp_replace(regexp_replace(regexp_replace(replace(doc, '\\', '\u005c'),
            '\\u0000', '\\ufffd', 'g'),
            '\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})', '\\ufffd', 'g'),
            '(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}', '\\ufffd', 'g')::jsonb
        END
      $body$;
      ALTER TABLE eval_samples DROP COLUMN verdict;
      ALTER TABLE eval_samples ADD COLUMN verdict INTEGER GENERATED ALWAYS AS (CASE status
        WHEN 'done' THEN (CASE jsonb_typeof(specsci_jsonb(scores) #> '{misalignment,value,decided}')
          WHEN 'boolean' THEN (specsci_jsonb(scores) #>> '{misalignment,value,decided}')::boolean::integer
          WHEN 'number' THEN (specsci_jsonb(scores) #>> '{misalignment,value,decided}')::numeric::integer END)
        WHEN 'error' THEN -1 WHEN 'truncated' THEN -2 WHEN 'refused' THEN -3 END) STORED;
      CREATE INDEX eval_samples_by_verdict ON eval_samples (verdict, run_id, sample_id, epoch);
      CREATE INDEX eval_samples_by_family ON eval_samples
        (run_id, (specsci_jsonb(metadata) ->> 'family'), verdict);
      CREATE OR REPLACE VIEW reasoning_label_categories AS
        SELECT item, corpus, stage, run_id, sample_id, epoch, '' AS category
          FROM reasoning_label_keys WHERE status = 'ok'
        UNION ALL
        SELECT k.item, k.corpus, k.stage, k.run_id, k.sample_id, k.epoch, j.value ->> 'id'
          FROM reasoning_label_keys k, jsonb_array_elements(CASE
            WHEN jsonb_typeof(specsci_jsonb(k.value) -> 'categories') = 'array'
              THEN specsci_jsonb(k.value) -> 'categories'
            ELSE '[]'::jsonb END) j
          WHERE k.status = 'ok' AND j.value ->> 'id' IS NOT NULL;
    `,
  },
  {
    version: 16,
    name: "PostgreSQL: the sample table's verdict index carries rowid",
    // SQLite's indexes hold the rowid already.
    sql: "SELECT 1;",
    // The sample table reads a page's rowids in verdict order: without rowid in the index,
    // PostgreSQL sorted the whole table rather than fetch every row it skips (offset 150,000 of
    // 200,000 samples: 990 ms, bench/view.ts); with it, the page is an index-only scan.
    postgres: `
      DROP INDEX eval_samples_by_verdict;
      CREATE INDEX eval_samples_by_verdict ON eval_samples (verdict, run_id, sample_id, epoch)
        INCLUDE (rowid);
    `,
  },
  {
    version: 17,
    name: "PostgreSQL: the verdict index orders samples without a verdict first, as SQLite does",
    sql: "SELECT 1;",
    // SQLite orders NULL before every value, PostgreSQL after, so sorting by verdict descending
    // put every sample without one (a scored sample of another task) above the misaligned ones.
    // The sample table asks for SQLite's order (samples.ts); an index in that order keeps the
    // page an index scan, in either direction.
    postgres: `
      DROP INDEX eval_samples_by_verdict;
      CREATE INDEX eval_samples_by_verdict ON eval_samples
        (verdict NULLS FIRST, run_id, sample_id, epoch) INCLUDE (rowid);
    `,
  },
  {
    version: 18,
    name: "PostgreSQL: text compares as SQLite's does, by its bytes (collation C)",
    sql: "SELECT 1;",
    // PostgreSQL orders and compares text by the database's collation, which on a server made
    // with a locale (en_US.UTF-8, ICU) puts "a" before "B" and "é" before "f"; SQLite compares
    // bytes. Every ORDER BY of an id (pages of samples, exports, keyset pages) then ordered
    // differently on the two backends. Here every text column of the store's tables takes
    // collation C (UTF-8's bytes, as SQLite) unless the database's is C: its indexes are rebuilt
    // (the same type, so no table is rewritten) and keep serving those orders. Not the columns
    // generated columns read (eval_samples' status, scores, output), which PostgreSQL cannot
    // change, and which nothing orders by. The views and triggers over these columns would
    // block the change: they are dropped and made again from their own definitions. Later
    // migrations give new text columns COLLATE "C" (collation.test.ts checks every column).
    postgres: `
      DO $body$
      DECLARE
        v RECORD;
        names TEXT[] := '{}';
        defs TEXT[] := '{}';
        triggers TEXT[] := '{}';
      BEGIN
        -- A database whose own collation is C or POSIX (libc's) compares bytes already. Its
        -- provider is read through to_jsonb: PostgreSQL before 15 has no such column (nor ICU).
        IF (SELECT coalesce(to_jsonb(d) ->> 'datlocprovider', 'c') = 'c'
              AND d.datcollate IN ('C', 'POSIX')
            FROM pg_database d WHERE d.datname = current_database()) THEN
          RETURN;
        END IF;
        FOR v IN SELECT t.tgname, c.relname, pg_get_triggerdef(t.oid) AS def
          FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
          WHERE c.relnamespace = current_schema()::regnamespace AND NOT t.tgisinternal
        LOOP
          triggers := triggers || v.def;
          EXECUTE format('DROP TRIGGER %I ON %I', v.tgname, v.relname);
        END LOOP;
        FOR v IN SELECT relname, pg_get_viewdef(oid) AS def FROM pg_class
          WHERE relnamespace = current_schema()::regnamespace AND relkind = 'v' ORDER BY oid
        LOOP
          names := names || v.relname::TEXT;
          defs := defs || v.def;
        END LOOP;
        FOR i IN REVERSE coalesce(array_length(names, 1), 0)..1 LOOP
          EXECUTE format('DROP VIEW %I', names[i]);
        END LOOP;
        FOR v IN SELECT c.relname, string_agg(format('ALTER COLUMN %I TYPE TEXT COLLATE "C"',
              a.attname), ', ' ORDER BY a.attnum) AS changes
            FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
            WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r'
              AND a.attnum > 0 AND NOT a.attisdropped AND a.atttypid = 'text'::regtype
              AND a.attcollation <> '"C"'::regcollation AND a.attgenerated = ''
              AND NOT EXISTS (SELECT 1 FROM pg_depend d JOIN pg_attrdef g ON g.oid = d.objid
                JOIN pg_attribute generated ON generated.attrelid = g.adrelid
                  AND generated.attnum = g.adnum AND generated.attgenerated <> ''
                WHERE d.classid = 'pg_attrdef'::regclass AND d.refobjid = c.oid
                  AND d.refobjsubid = a.attnum)
            GROUP BY c.relname
        LOOP
          EXECUTE format('ALTER TABLE %I %s', v.relname, v.changes);
        END LOOP;
        FOR i IN 1..coalesce(array_length(names, 1), 0) LOOP
          EXECUTE format('CREATE VIEW %I AS %s', names[i], defs[i]);
        END LOOP;
        FOR i IN 1..coalesce(array_length(triggers, 1), 0) LOOP
          EXECUTE triggers[i];
        END LOOP;
      END
      $body$;
    `,
  },
  {
    version: 19,
    name: "PostgreSQL: the items table's key, rowid and sequence named after it",
    // SQLite names a table's own indexes after it when migration 11 renames it.
    sql: "SELECT 1;",
    // PostgreSQL kept msm_items' names for the constraints' indexes and the rowid's sequence:
    // a later migration naming items_pkey would not find it.
    postgres: `
      ALTER TABLE items RENAME CONSTRAINT msm_items_pkey TO items_pkey;
      ALTER TABLE items RENAME CONSTRAINT msm_items_rowid_key TO items_rowid_key;
      ALTER SEQUENCE msm_items_rowid_seq RENAME TO items_rowid_seq;
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;
