/**
 * Every eval run of an experiment as Inspect logs in one directory: one log per task × arm × model
 * × seed (its stages), each saying in its metadata which arm, spec and seed it belongs to, plus the
 * listing files Inspect's viewer reads for a log directory, so `inspect view --log-dir DIR` and
 * `inspect_ai.log.list_eval_logs(DIR)` see the whole experiment.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { SpecsciError } from "../core/errors.js";
import { writeFileAtomic } from "../core/fs.js";
import { exportInspectLog, inspectLogFileName } from "../evals/inspect.js";
import { inspectLogHeader, writeInspectEvalZip } from "../evals/inspect-eval-zip.js";
import { validateEvalLog } from "../evals/inspect-schema.js";
import type { Store } from "../store/db.js";
import type { LoadedExperiment } from "./config.js";
import type { EvalStage, StageGraph } from "./stages.js";

type Json = Record<string, unknown>;

export type InspectLogFormat = "json" | "eval";

/** Which arm of which experiment a log belongs to (a run shared by arms is exported per arm). */
export type ArmContext = {
  experiment: string;
  arm: string;
  /** The spec the arm's prompts or training used; null for an arm without one (the baseline). */
  spec: { name: string; hash: string } | null;
  seed: number;
};

/** A run's log, checked against Inspect's schema before anything is written. */
export function validatedLog(log: Json, what: string): Json {
  const problems = validateEvalLog(log);
  if (problems.length)
    throw new Error(
      `the exported log of ${what} does not match Inspect's schema: ${problems.slice(0, 3).join("; ")}`,
    );
  return log;
}

/** Writes one log in the format asked for; returns its path. */
export async function writeInspectLog(
  log: Json,
  dir: string,
  stem: string,
  format: InspectLogFormat,
): Promise<string> {
  const path = join(dir, `${stem}.${format}`);
  if (format === "eval") await writeInspectEvalZip(log, path);
  else writeFileAtomic(path, JSON.stringify(log));
  return path;
}

/** The viewer's one-line overview of a log (inspect_ai's `LogOverview`), for `listing.json`. */
export function logOverview(log: Json): Json {
  const spec = log.eval as Json;
  const stats = log.stats as Json;
  const scores = ((log.results as Json | undefined)?.scores as Json[] | undefined) ?? [];
  const metrics = (scores[0]?.metrics as Record<string, Json> | undefined) ?? {};
  const roles = spec.model_roles as Record<string, { model: string }> | undefined;
  const overview: Json = {
    eval_id: spec.eval_id,
    run_id: spec.run_id,
    task: spec.task,
    task_id: spec.task_id,
    task_version: spec.task_version,
    version: log.version,
    status: log.status,
    invalidated: log.invalidated ?? false,
    error: log.error,
    model: spec.model,
    model_roles: roles
      ? Object.fromEntries(Object.entries(roles).map(([role, r]) => [role, r.model]))
      : undefined,
    started_at: stats.started_at ?? "",
    completed_at: stats.completed_at ?? "",
    primary_metric: Object.values(metrics)[0],
  };
  return Object.fromEntries(Object.entries(overview).filter(([, v]) => v != null));
}

export interface ExportedStageLog {
  stage: string;
  runId: string;
  arm: string;
  model: string;
  eval: string;
  seed: number;
  path: string;
}

export interface ExperimentLogsExport {
  dir: string;
  logs: ExportedStageLog[];
  /** Stages with no eval run in this workspace yet (not run, or waiting for a spec or a model). */
  notRun: string[];
  /** `listing.json` (log overviews, what the bundled viewer reads) and `logs.json` (headers). */
  listing: string;
  manifest: string;
}

const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, "");

/**
 * A stage's file name: the run's own Inspect name (`{created}_{task}_{task_id}`) with the arm and
 * seed as the `-suffix` Inspect's file-name parser allows, since arms may share a run.
 */
function stageStem(fileName: string, stage: EvalStage): string {
  return `${fileName.replace(/\.json$/, "")}-${slug(stage.arm.name)}s${stage.seed}`;
}

const armContext = (loaded: LoadedExperiment, stage: EvalStage): ArmContext => {
  const spec = stage.specs[0];
  return {
    experiment: loaded.experiment.name,
    arm: stage.arm.name,
    spec: spec ? { name: spec.name, hash: spec.hash } : null,
    seed: stage.seed,
  };
};

/**
 * Exports every stage of the experiment that has an eval run in the store into `dir`. Fails,
 * before writing anything, when no stage has run yet or when a file it would write exists.
 */
export async function exportExperimentLogs(
  loaded: LoadedExperiment,
  graph: StageGraph,
  store: Store,
  dir: string,
  format: InspectLogFormat = "json",
): Promise<ExperimentLogsExport> {
  const ran = graph.stages.filter((s) => store.evals.run(s.runId));
  const name = loaded.experiment.name;
  if (!ran.length)
    throw new SpecsciError(
      `experiment ${name} (${loaded.file}) has no eval runs in this workspace yet`,
      {
        hint: `run it first (\`specsci run ${loaded.file}\`), or give the workspace it ran in (-w)`,
      },
    );
  // Names first (each log dropped at once), so nothing is written if one exists, and the logs
  // are then made one at a time: an experiment's logs are never all in memory together.
  const planned = ran.map((stage) => ({
    stage,
    stem: stageStem(inspectLogFileName(store, stage.runId), stage),
  }));
  const listing = join(dir, "listing.json");
  const manifest = join(dir, "logs.json");
  refuseExisting([...planned.map((p) => join(dir, `${p.stem}.${format}`)), listing, manifest]);

  const overviews: Record<string, Json> = {};
  const headers: Record<string, Json> = {};
  const logs: ExportedStageLog[] = [];
  for (const { stage, stem } of planned) {
    const { log } = exportInspectLog(store, stage.runId, { context: armContext(loaded, stage) });
    const full = validatedLog(log, stage.key);
    const path = await writeInspectLog(full, dir, stem, format);
    const file = `${stem}.${format}`;
    overviews[file] = logOverview(full);
    headers[file] = inspectLogHeader(full);
    logs.push({
      stage: stage.key,
      runId: stage.runId,
      arm: stage.arm.name,
      model: stage.model,
      eval: stage.eval.name,
      seed: stage.seed,
      path,
    });
  }
  writeFileAtomic(listing, JSON.stringify(overviews));
  writeFileAtomic(manifest, JSON.stringify(headers));
  const notRun = graph.stages.filter((s) => !store.evals.run(s.runId)).map((s) => s.key);
  return { dir, logs, notRun, listing, manifest };
}

/** An export never overwrites: a file already there may be another experiment's log. */
function refuseExisting(paths: string[]): void {
  const existing = paths.find((p) => existsSync(p));
  if (existing)
    throw new SpecsciError(`${existing} exists: an export does not overwrite files`, {
      hint: "export into a new or empty directory, or remove the old export first",
    });
}
