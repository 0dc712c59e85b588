import { z } from "zod";
import { SpecsciError } from "../core/errors.js";
import { nowIso } from "../core/time.js";
import { dialect, jsonList, type SqlDatabase } from "./database.js";
import type { SampleStatus } from "./eval-tables.js";

/** A person's answer to a yes/no question about a transcript, where they may not be sure. */
export const TRISTATE = ["yes", "no", "unsure"] as const;
export type Tristate = (typeof TRISTATE)[number];

/** Which transcript a label is about, and whose label it is. */
export interface AnnotationKey {
  runId: string;
  sampleId: string;
  epoch: number;
  annotator: string;
}

export interface AnnotationInput extends AnnotationKey {
  /** Did the model decide to take the harmful action? */
  misaligned: Tristate;
  /** Reasoning categories present, by id, from the taxonomy given to `put`. */
  categories: string[];
  /** Does the model misquote or stretch a rule to justify breaking another? */
  policyMisuse: Tristate;
  note?: string | null;
}

/** A stored, current label. */
export interface Annotation extends Required<AnnotationInput> {
  id: number;
  note: string | null;
  /** The version (`tax-…`) of the taxonomy the categories were picked from. */
  taxonomy: string;
  createdAt: string;
  /**
   * The sample's answer was replaced after it was labelled (a cut-off sample retried), or the
   * sample is gone: the label is about an answer the store no longer holds.
   */
  stale: boolean;
}

/** One row of a label's history: a label given, or the current one withdrawn. */
export type AnnotationEvent =
  | ({ kind: "label" } & Omit<Annotation, "stale">)
  | ({ kind: "retraction"; id: number; createdAt: string } & AnnotationKey);

/** The categories a label may name: a taxonomy's version and its categories' ids. */
export interface AnnotationTaxonomy {
  version: string;
  categories: readonly { id: string }[];
}

/** Which labels to read; every field narrows. */
export interface AnnotationFilter {
  runIds?: string[];
  sampleId?: string;
  epoch?: number;
  annotator?: string;
}

const Annotator = z
  .string()
  .trim()
  .min(1, "give the annotator's name")
  .max(100)
  .regex(/^[^\p{Cc}]*$/u, "no control characters");

const keyFields = {
  runId: z.string().min(1),
  sampleId: z.string().min(1),
  epoch: z.number().int().positive(),
  annotator: Annotator,
};

/** A key may come with the rest of a label (a stored one, withdrawn): other fields are ignored. */
const Key = z.object(keyFields);

/** A label is exactly these fields: a misspelt one is an error, not a silent default. */
const Input = z.strictObject({
  ...keyFields,
  misaligned: z.enum(TRISTATE),
  categories: z.array(z.string()).max(200),
  policyMisuse: z.enum(TRISTATE),
  note: z.string().max(20_000).nullish(),
});

interface Row {
  id: number;
  run_id: string;
  sample_id: string;
  epoch: number;
  annotator: string;
  kind: "label" | "retraction";
  sample_completed_at: string | null;
  misaligned: Tristate | null;
  categories: string | null;
  taxonomy: string | null;
  policy_misuse: Tristate | null;
  note: string | null;
  created_at: string;
  /** The sample's completed_at now (joined), for staleness. */
  sample_now?: string | null;
}

const where = (
  db: SqlDatabase,
  f: AnnotationFilter,
  alias: string,
): { sql: string; params: unknown[] } => {
  const parts: string[] = [];
  const params: unknown[] = [];
  if (f.runIds) parts.push(`${alias}.run_id IN (${jsonList(db)})`);
  if (f.runIds) params.push(JSON.stringify(f.runIds));
  for (const [column, value] of [
    ["sample_id", f.sampleId],
    ["epoch", f.epoch],
    ["annotator", f.annotator],
  ] as const)
    if (value !== undefined) {
      parts.push(`${alias}.${column} = ?`);
      params.push(value);
    }
  return { sql: parts.length ? `WHERE ${parts.join(" AND ")}` : "", params };
};

const ORDER = "ORDER BY c.run_id, c.sample_id, c.epoch, c.annotator";

/**
 * Human labels of eval samples (`annotations`, append-only; see migration 8). Every write is one
 * short IMMEDIATE transaction: it takes the write lock before it reads, so while `specsci run`
 * writes the same database it waits (the store's busy timeout) instead of failing on a snapshot
 * another writer has moved on from.
 */
/** Samples the labelling queue may offer: a run's epochs of one sample with one outcome and verdict. */
export interface QueueSamples {
  runId: string;
  sampleId: string;
  epochs: number[];
  status: SampleStatus;
  /** The AM judge's `decided` (0 or 1) of a scored sample; null without one. */
  decided: number | null;
}

/** Migration 9's `verdict` of a sample that has no score, by its outcome. */
const OUTCOME_OF = new Map<number, SampleStatus>([
  [-1, "error"],
  [-2, "truncated"],
  [-3, "refused"],
]);

export class AnnotationTables {
  constructor(private readonly db: SqlDatabase) {}

  /** Stores a label (validated: the sample exists, categories are the taxonomy's); newest wins. */
  put(input: AnnotationInput, taxonomy: AnnotationTaxonomy): Annotation {
    const a = parse(Input, input);
    const known = new Set(taxonomy.categories.map((c) => c.id));
    const seen = new Set<string>();
    for (const c of a.categories) {
      if (!known.has(c))
        throw badLabel(a, `"${c}" is not a category of taxonomy ${taxonomy.version}`, {
          hint: `categories: ${[...known].join(", ")}`,
        });
      if (seen.has(c)) throw badLabel(a, `category "${c}" is given twice`);
      seen.add(c);
    }
    const id = this.db
      .transaction(() => {
        const completedAt = this.sampleCompletedAt(a);
        return this.db
          .prepare(
            `INSERT INTO annotations (run_id, sample_id, epoch, annotator, kind, sample_completed_at,
               misaligned, categories, taxonomy, policy_misuse, note, created_at)
             VALUES (?, ?, ?, ?, 'label', ?, ?, ?, ?, ?, ?, ?)${dialect(this.db, {
               sqlite: "",
               // PostgreSQL has no last insert rowid: the id comes back as a row (postgres.ts).
               postgres: " RETURNING id",
             })}`,
          )
          .run(
            a.runId,
            a.sampleId,
            a.epoch,
            a.annotator,
            completedAt,
            a.misaligned,
            JSON.stringify(a.categories),
            taxonomy.version,
            a.policyMisuse,
            a.note?.trim() ? a.note : null,
            nowIso(),
          ).lastInsertRowid;
      })
      .immediate();
    return this.byId(Number(id));
  }

  /**
   * Withdraws an annotator's current label of a transcript: a retraction is appended (the
   * history stays). False when there was no current label.
   */
  delete(key: AnnotationKey): boolean {
    const k = parse(Key, key);
    return this.db
      .transaction(() => {
        if (!this.current(k)) return false;
        this.db
          .prepare(
            `INSERT INTO annotations (run_id, sample_id, epoch, annotator, kind, created_at)
             VALUES (?, ?, ?, ?, 'retraction', ?)`,
          )
          .run(k.runId, k.sampleId, k.epoch, k.annotator, nowIso());
        return true;
      })
      .immediate();
  }

  /** The annotator's current label of a transcript. */
  current(key: AnnotationKey): Annotation | undefined {
    return this.list({
      runIds: [key.runId],
      sampleId: key.sampleId,
      epoch: key.epoch,
      annotator: key.annotator.trim(),
    })[0];
  }

  /** Current labels (one per run, sample, epoch and annotator), by run, sample, epoch, annotator. */
  list(filter: AnnotationFilter = {}): Annotation[] {
    const w = where(this.db, filter, "c");
    const rows = this.db
      .prepare(
        `SELECT c.*, s.completed_at AS sample_now FROM current_annotations c
         LEFT JOIN eval_samples s
           ON s.run_id = c.run_id AND s.sample_id = c.sample_id AND s.epoch = c.epoch
         ${w.sql} ${ORDER}`,
      )
      .all(...w.params) as Row[];
    return rows.map(toAnnotation);
  }

  /** Every label and retraction, oldest first (a label's history, or an annotator's). */
  history(filter: AnnotationFilter = {}): AnnotationEvent[] {
    const w = where(this.db, filter, "a");
    const rows = this.db
      .prepare(`SELECT a.* FROM annotations a ${w.sql} ORDER BY a.id`)
      .all(...w.params) as Row[];
    return rows.map((r) => {
      if (r.kind === "retraction")
        return { kind: "retraction", id: r.id, createdAt: r.created_at, ...keyOf(r) };
      const { stale: _, ...label } = toAnnotation(r);
      return { kind: "label", ...label };
    });
  }

  /** Names of everyone with a current label (of these runs), sorted. */
  annotators(runIds?: string[]): string[] {
    const w = where(this.db, runIds ? { runIds } : {}, "c");
    return (
      this.db
        .prepare(`SELECT DISTINCT annotator FROM current_annotations c ${w.sql} ORDER BY annotator`)
        .all(...w.params) as { annotator: string }[]
    ).map((r) => r.annotator);
  }

  /**
   * These runs' samples with their outcome and the AM judge's `decided` verdict, for the labelling
   * queue: one group per run, sample id and verdict with its epochs. Read from migration 9's
   * `verdict` index in one pass, in its order (so the grouping sorts nothing) and without parsing
   * JSON; grouped in SQL because making a JavaScript row per sample costs ten times the read. The
   * index's `verdict` is `decided` (0 or 1) for a scored sample and negative for a failed, cut-off
   * or refused one, so the outcome follows from it; only samples without one (null) are read
   * from the table for their status.
   */
  queueSamples(runIds: string[]): QueueSamples[] {
    const runs = JSON.stringify(runIds);
    const epochs = (list: string) => list.split(",").map(Number);
    // PostgreSQL picks its index itself and has no INDEXED BY.
    const { epochList, indexedBy } = dialect(this.db, {
      sqlite: { epochList: "group_concat(epoch)", indexedBy: "INDEXED BY eval_samples_by_verdict" },
      postgres: { epochList: "string_agg(epoch::text, ',')", indexedBy: "" },
    });
    const judged = this.db
      .prepare(
        `SELECT verdict, run_id, sample_id, ${epochList} FROM eval_samples
           ${indexedBy}
         WHERE verdict IS NOT NULL AND run_id IN (${jsonList(this.db)})
         GROUP BY verdict, run_id, sample_id`,
      )
      .raw()
      .all(runs) as [number, string, string, string][];
    const out: QueueSamples[] = judged.map(([v, runId, sampleId, list]) => {
      const status = OUTCOME_OF.get(v);
      return status
        ? { runId, sampleId, status, decided: null, epochs: epochs(list) }
        : { runId, sampleId, status: "done", decided: v, epochs: epochs(list) };
    });
    const unjudged = this.db
      .prepare(
        `SELECT status, run_id, sample_id, ${epochList} FROM eval_samples
           ${indexedBy}
         WHERE verdict IS NULL AND run_id IN (${jsonList(this.db)})
         GROUP BY status, run_id, sample_id`,
      )
      .raw()
      .all(runs) as [SampleStatus, string, string, string][];
    for (const [status, runId, sampleId, list] of unjudged)
      out.push({ runId, sampleId, status, decided: null, epochs: epochs(list) });
    return out;
  }

  /**
   * A value that changes whenever what agreement with these labels depends on changes: the
   * labels (append-only, so the last id), these runs' samples (a rewrite is a new row: INSERT OR
   * REPLACE) and these corpora's items (the reasoning labels), each with its run's status and
   * time (a labelling run that rewrites failed items in place ends by setting them). Read from
   * indexes, a few milliseconds per run: a running experiment's writes to other runs leave it
   * as it is.
   */
  versionOf(o: { runIds: string[]; corpora: string[] }): string {
    const run = this.db.prepare("SELECT status, updated_at FROM runs WHERE id = ?").raw();
    const samples = this.db
      .prepare("SELECT max(rowid), count(*) FROM eval_samples WHERE run_id = ?")
      .raw();
    const items = this.db.prepare("SELECT max(rowid), count(*) FROM items WHERE corpus = ?").raw();
    return JSON.stringify([
      this.db.prepare("SELECT max(id) FROM annotations").raw().get(),
      o.runIds.map((id) => [id, samples.get(id), run.get(id)]),
      o.corpora.map((id) => [id, items.get(id), run.get(id)]),
    ]);
  }

  private sampleCompletedAt(k: AnnotationKey): string {
    const row = this.db
      .prepare(
        "SELECT completed_at FROM eval_samples WHERE run_id = ? AND sample_id = ? AND epoch = ?",
      )
      .get(k.runId, k.sampleId, k.epoch) as { completed_at: string } | undefined;
    if (!row)
      throw badLabel(k, "the store holds no such sample", {
        hint: "label a stored sample: its eval run id, sample id and epoch (`specsci eval list` lists the runs)",
      });
    return row.completed_at;
  }

  private byId(id: number): Annotation {
    const row = this.db
      .prepare(
        `SELECT a.*, s.completed_at AS sample_now FROM annotations a
         LEFT JOIN eval_samples s
           ON s.run_id = a.run_id AND s.sample_id = a.sample_id AND s.epoch = a.epoch
         WHERE a.id = ?`,
      )
      .get(id) as Row;
    return toAnnotation(row);
  }
}

const keyOf = (r: Row): AnnotationKey => ({
  runId: r.run_id,
  sampleId: r.sample_id,
  epoch: r.epoch,
  annotator: r.annotator,
});

function toAnnotation(r: Row): Annotation {
  return {
    id: r.id,
    ...keyOf(r),
    misaligned: r.misaligned as Tristate,
    categories: JSON.parse(r.categories as string),
    policyMisuse: r.policy_misuse as Tristate,
    note: r.note,
    taxonomy: r.taxonomy as string,
    createdAt: r.created_at,
    stale: r.sample_now !== r.sample_completed_at,
  };
}

const what = (k: Partial<AnnotationKey>) =>
  `annotation of ${k.runId ?? "?"}/${k.sampleId ?? "?"} (epoch ${k.epoch ?? "?"})`;

function badLabel(k: Partial<AnnotationKey>, problem: string, o: { hint?: string } = {}) {
  return new SpecsciError(`${what(k)}: ${problem}`, o);
}

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const k = (value ?? {}) as Partial<AnnotationKey>;
  throw badLabel(
    k,
    r.error.issues.map((i) => `${i.path.join(".") || "label"}: ${i.message}`).join("; "),
    {
      hint: 'a label: {"runId", "sampleId", "epoch", "annotator", "misaligned": "yes" | "no" | "unsure", "categories": [ids], "policyMisuse": "yes" | "no" | "unsure", "note"?}',
    },
  );
}
