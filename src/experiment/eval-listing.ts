/**
 * The eval runs of a workspace as `specsci eval list` shows them: with the experiment arm each
 * ran for, its spec and judge, so that the runs of one experiment (the same task and model, one
 * per arm) can be told apart.
 */
import { type SampleProgress, sampleProgress } from "../evals/progress.js";
import type { Store } from "../store/db.js";
import type { EvalRunRow } from "../store/eval-tables.js";

export interface EvalRunListing extends EvalRunRow {
  /** `experiment/arm` for each experiment that ran it (runs are shared by content). */
  arms: string[];
  /** The spec in the system prompt (prompted arms), by name. */
  spec: string | null;
  /** The judge models of its scorers. */
  judges: string[];
  progress: SampleProgress;
}

interface ExperimentRecord {
  experiment?: { name?: string };
  stages?: { key: string; runId: string }[];
}

/** Eval run id → `experiment/arm`, from the stages each experiment recorded (`eval/<arm>/…`). */
function armsByRun(store: Store): Map<string, string[]> {
  const arms = new Map<string, string[]>();
  for (const run of store.runs.ofKind("experiment")) {
    const record = run.config as ExperimentRecord;
    for (const stage of record.stages ?? []) {
      const arm = stage.key.split("/")[1];
      const label = `${record.experiment?.name ?? run.name}/${arm}`;
      const seen = arms.get(stage.runId) ?? [];
      if (!seen.includes(label)) arms.set(stage.runId, [...seen, label]);
    }
  }
  return arms;
}

const judgesOf = (run: EvalRunRow): string[] => {
  const scorers = (run.scorerConfig.scorers ?? []) as { judge?: unknown }[];
  return [...new Set(scorers.flatMap((s) => (typeof s.judge === "string" ? [s.judge] : [])))];
};

export function listEvalRuns(store: Store): EvalRunListing[] {
  const arms = armsByRun(store);
  return store.evals.runs().map((run) => {
    const spec = (run.taskArgs as { spec?: { name?: string } } | null)?.spec?.name ?? null;
    return {
      ...run,
      arms: arms.get(run.id) ?? [],
      spec,
      judges: judgesOf(run),
      progress: sampleProgress(store, run.id, run.sampleCount, run.epochs),
    };
  });
}
