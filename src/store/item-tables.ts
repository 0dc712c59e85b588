import { nowIso } from "../core/time.js";
import { dialect, jsonList, type SqlDatabase, type SqlStatement } from "./database.js";

export interface ItemRow {
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

const fromRaw = (r: Raw): ItemRow => ({
  key: r.key,
  stage: r.stage,
  status: r.status,
  value: r.value === null ? null : JSON.parse(r.value),
  error: r.error === null ? null : JSON.parse(r.error),
  attempts: r.attempts,
});

/**
 * The finished items of resumable jobs, one row per (run, item key): the answers of an MSM corpus,
 * an AFT chat set or a reasoning analysis, and the wave plans of the first two. A job asks only for
 * the items that are not here yet, so a killed one resumes item by item. The column `corpus` holds
 * the id of the run the items belong to (its name is older than the table's: kept, since the
 * dashboard and the reasoning-label index read it by name).
 */
export class ItemTables {
  private readonly upsert: SqlStatement;

  constructor(private readonly db: SqlDatabase) {
    this.upsert = db.prepare(
      `INSERT INTO items (corpus, key, stage, status, value, error, attempts, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (corpus, key) DO UPDATE SET status = excluded.status, value = excluded.value,
         error = excluded.error, attempts = excluded.attempts, updated_at = excluded.updated_at`,
    );
  }

  put(runId: string, row: ItemRow): void {
    this.upsert.run(
      runId,
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
  stage(runId: string, stage: string, keys?: string[]): Map<string, ItemRow> {
    // Given keys are looked up by the primary key (`+stage`: not by scanning the stage's index,
    // which costs the whole stage for every batch of keys; 6x at 100,000 items a stage).
    // PostgreSQL's planner weighs the two indexes itself and has no unary plus on text.
    const byKeys = `${dialect(this.db, { sqlite: "+stage", postgres: "stage" })} = ? AND key IN (${jsonList(this.db)})`;
    const rows = this.db
      .prepare(
        `SELECT key, stage, status, value, error, attempts FROM items
         WHERE corpus = ? AND ${keys ? byKeys : "stage = ?"}`,
      )
      .all(runId, stage, ...(keys ? [JSON.stringify(keys)] : [])) as Raw[];
    return new Map(rows.map((r) => [r.key, fromRaw(r)]));
  }

  /** Every failed item of a run, by stage and key. */
  failed(runId: string): ItemRow[] {
    const rows = this.db
      .prepare(
        "SELECT key, stage, status, value, error, attempts FROM items WHERE corpus = ? AND status = 'failed' ORDER BY stage, key",
      )
      .all(runId) as Raw[];
    return rows.map(fromRaw);
  }

  /** Finished items per stage and status. */
  counts(runId: string): { stage: string; status: string; n: number }[] {
    return this.db
      .prepare(
        "SELECT stage, status, count(*) AS n FROM items WHERE corpus = ? GROUP BY stage, status ORDER BY stage, status",
      )
      .all(runId) as { stage: string; status: string; n: number }[];
  }
}
