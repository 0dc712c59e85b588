import type Database from "better-sqlite3";
import { nowIso } from "../core/time.js";

export interface MsmItemRow {
  key: string;
  stage: string;
  status: "ok" | "failed";
  value: unknown;
  /** Why the item failed; `answer` is the last answer the model gave (none when the call failed). */
  error: { kind: string; message: string; answer?: string } | null;
  attempts: number;
}

interface Raw {
  key: string;
  stage: string;
  status: "ok" | "failed";
  value: string | null;
  error: string | null;
  attempts: number;
}

const fromRaw = (r: Raw): MsmItemRow => ({
  key: r.key,
  stage: r.stage,
  status: r.status,
  value: r.value === null ? null : JSON.parse(r.value),
  error: r.error === null ? null : JSON.parse(r.error),
  attempts: r.attempts,
});

/** The finished items of MSM corpora, one row per item key. */
export class MsmTables {
  private readonly upsert: Database.Statement;

  constructor(private readonly db: Database.Database) {
    this.upsert = db.prepare(
      `INSERT INTO msm_items (corpus, key, stage, status, value, error, attempts, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (corpus, key) DO UPDATE SET status = excluded.status, value = excluded.value,
         error = excluded.error, attempts = excluded.attempts, updated_at = excluded.updated_at`,
    );
  }

  put(corpus: string, row: MsmItemRow): void {
    this.upsert.run(
      corpus,
      row.key,
      row.stage,
      row.status,
      row.value === null || row.value === undefined ? null : JSON.stringify(row.value),
      row.error === null ? null : JSON.stringify(row.error),
      row.attempts,
      nowIso(),
    );
  }

  /** Every item of one stage (or only those of `keys`), by key. */
  stage(corpus: string, stage: string, keys?: string[]): Map<string, MsmItemRow> {
    const rows = this.db
      .prepare(
        `SELECT key, stage, status, value, error, attempts FROM msm_items WHERE corpus = ? AND stage = ?
         ${keys ? "AND key IN (SELECT value FROM json_each(?))" : ""}`,
      )
      .all(corpus, stage, ...(keys ? [JSON.stringify(keys)] : [])) as Raw[];
    return new Map(rows.map((r) => [r.key, fromRaw(r)]));
  }

  /** Every failed item of a run, by stage and key. */
  failed(corpus: string): MsmItemRow[] {
    const rows = this.db
      .prepare(
        "SELECT key, stage, status, value, error, attempts FROM msm_items WHERE corpus = ? AND status = 'failed' ORDER BY stage, key",
      )
      .all(corpus) as Raw[];
    return rows.map(fromRaw);
  }

  /** Finished items per stage and status. */
  counts(corpus: string): { stage: string; status: string; n: number }[] {
    return this.db
      .prepare(
        "SELECT stage, status, count(*) AS n FROM msm_items WHERE corpus = ? GROUP BY stage, status ORDER BY stage, status",
      )
      .all(corpus) as { stage: string; status: string; n: number }[];
  }
}
