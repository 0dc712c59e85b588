import { canonicalJson } from "../core/hash.js";
import { nowIso } from "../core/time.js";
import type { SqlDatabase } from "./database.js";

export type RunStatus = "running" | "completed" | "failed" | "interrupted";

export interface RunRecord {
  id: string;
  kind: string;
  name: string | null;
  status: RunStatus;
  config: unknown;
  createdAt: string;
  updatedAt: string;
}

interface RunRow {
  id: string;
  kind: string;
  name: string | null;
  status: RunStatus;
  config: string;
  created_at: string;
  updated_at: string;
}

/** Runs group the work of one command or experiment stage, for resumption and accounting. */
export class Runs {
  constructor(private readonly db: SqlDatabase) {}

  /** Creates the run if it does not exist; an existing run is marked running again (resumed). */
  ensure(run: { id: string; kind: string; name?: string; config?: unknown }): RunRecord {
    const now = nowIso();
    this.db
      .prepare(
        `INSERT INTO runs (id, kind, name, status, config, created_at, updated_at)
         VALUES (?, ?, ?, 'running', ?, ?, ?)
         ON CONFLICT(id) DO UPDATE SET status = 'running', updated_at = excluded.updated_at`,
      )
      .run(run.id, run.kind, run.name ?? null, canonicalJson(run.config ?? {}), now, now);
    return this.get(run.id) as RunRecord;
  }

  setStatus(id: string, status: RunStatus): void {
    this.db
      .prepare("UPDATE runs SET status = ?, updated_at = ? WHERE id = ?")
      .run(status, nowIso(), id);
  }

  /** Replaces a run's recorded config (an experiment records the definition it last ran with). */
  setConfig(id: string, config: unknown): void {
    this.db
      .prepare("UPDATE runs SET config = ?, updated_at = ? WHERE id = ?")
      .run(canonicalJson(config), nowIso(), id);
  }

  /**
   * Adds a directory the run's output was written to (`config.outputs`, absolute, each once), so
   * a build written with `-o` anywhere can be found again from the store.
   */
  recordOutput(id: string, dir: string): void {
    const run = this.get(id);
    if (!run) return; // written without a run (a test's hand-made build): nothing to record on
    const config = (run.config ?? {}) as { outputs?: unknown };
    const outputs = Array.isArray(config.outputs) ? config.outputs.map(String) : [];
    if (!outputs.includes(dir)) this.setConfig(id, { ...config, outputs: [...outputs, dir] });
  }

  /**
   * Runs `work` for a run and records how it ended: completed, interrupted (aborted through
   * `signal`) or failed.
   */
  async track<T>(id: string, signal: AbortSignal | undefined, work: () => Promise<T>): Promise<T> {
    try {
      const out = await work();
      this.setStatus(id, "completed");
      return out;
    } catch (e) {
      this.setStatus(id, signal?.aborted ? "interrupted" : "failed");
      throw e;
    }
  }

  /** Every run of one kind (`experiment`, `eval`, `msm`, …), oldest first. */
  ofKind(kind: string): RunRecord[] {
    const rows = this.db
      .prepare("SELECT * FROM runs WHERE kind = ? ORDER BY created_at, id")
      .all(kind) as RunRow[];
    return rows.map(toRecord);
  }

  get(id: string): RunRecord | undefined {
    const row = this.db.prepare("SELECT * FROM runs WHERE id = ?").get(id) as RunRow | undefined;
    return row ? toRecord(row) : undefined;
  }
}

function toRecord(row: RunRow): RunRecord {
  return {
    id: row.id,
    kind: row.kind,
    name: row.name,
    status: row.status,
    config: JSON.parse(row.config),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
