import { nowIso } from "../core/time.js";
import type { SqlDatabase, SqlStatement } from "./database.js";

export type TrainStageStatus = "running" | "completed" | "failed" | "interrupted";

export interface TrainStageRow {
  runId: string;
  stage: string;
  status: TrainStageStatus;
  attempts: number;
  configPath: string;
  outputDir: string;
  error: string | null;
  startedAt: string;
  finishedAt: string | null;
}

/** Training stages (one row per run and stage) and the metrics their trainer logged. */
export class TrainTables {
  /** Prepared once: a trainer logs metrics every few steps. */
  private metricsInsert: SqlStatement | undefined;

  constructor(private readonly db: SqlDatabase) {}

  start(row: { runId: string; stage: string; configPath: string; outputDir: string }): void {
    this.db
      .prepare(
        `INSERT INTO train_stages (run_id, stage, status, attempts, config_path, output_dir, started_at)
         VALUES (?, ?, 'running', 1, ?, ?, ?)
         ON CONFLICT (run_id, stage) DO UPDATE SET status = 'running', attempts = attempts + 1,
           config_path = excluded.config_path, output_dir = excluded.output_dir, error = NULL,
           started_at = excluded.started_at, finished_at = NULL`,
      )
      .run(row.runId, row.stage, row.configPath, row.outputDir, nowIso());
  }

  finish(
    runId: string,
    stage: string,
    status: Exclude<TrainStageStatus, "running">,
    error: string | null = null,
  ): void {
    this.db
      .prepare(
        "UPDATE train_stages SET status = ?, error = ?, finished_at = ? WHERE run_id = ? AND stage = ?",
      )
      .run(status, error, nowIso(), runId, stage);
  }

  stage(runId: string, stage: string): TrainStageRow | undefined {
    const r = this.db
      .prepare("SELECT * FROM train_stages WHERE run_id = ? AND stage = ?")
      .get(runId, stage) as Record<string, unknown> | undefined;
    return r ? toRow(r) : undefined;
  }

  stages(runId?: string): TrainStageRow[] {
    const rows = (
      runId
        ? this.db
            .prepare("SELECT * FROM train_stages WHERE run_id = ? ORDER BY started_at")
            .all(runId)
        : this.db.prepare("SELECT * FROM train_stages ORDER BY run_id, started_at").all()
    ) as Record<string, unknown>[];
    return rows.map(toRow);
  }

  recordMetrics(runId: string, stage: string, step: number, metrics: Record<string, number>): void {
    this.metricsInsert ??= this.db.prepare(
      `INSERT INTO train_metrics (run_id, stage, step, metrics, at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (run_id, stage, step) DO UPDATE SET metrics = excluded.metrics, at = excluded.at`,
    );
    this.metricsInsert.run(runId, stage, step, JSON.stringify(metrics), nowIso());
  }

  /** Forgets metrics after `afterStep`, and the run summary (step 0): an attempt starts over from there. */
  clearMetrics(runId: string, stage: string, afterStep: number): void {
    this.db
      .prepare(
        "DELETE FROM train_metrics WHERE run_id = ? AND stage = ? AND (step > ? OR step = 0)",
      )
      .run(runId, stage, afterStep);
  }

  metrics(runId: string, stage: string): { step: number; metrics: Record<string, number> }[] {
    return (
      this.db
        .prepare(
          "SELECT step, metrics FROM train_metrics WHERE run_id = ? AND stage = ? ORDER BY step",
        )
        .all(runId, stage) as { step: number; metrics: string }[]
    ).map((r) => ({ step: r.step, metrics: JSON.parse(r.metrics) }));
  }
}

function toRow(r: Record<string, unknown>): TrainStageRow {
  return {
    runId: r.run_id as string,
    stage: r.stage as string,
    status: r.status as TrainStageStatus,
    attempts: r.attempts as number,
    configPath: r.config_path as string,
    outputDir: r.output_dir as string,
    error: (r.error as string | null) ?? null,
    startedAt: r.started_at as string,
    finishedAt: (r.finished_at as string | null) ?? null,
  };
}
