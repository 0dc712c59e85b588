import { log } from "../core/log.js";
import { type EvalRunSummary, runEval } from "../evals/runner.js";
import type { LlmClient } from "../llm/client.js";
import type { LoadedExperiment } from "./config.js";
import { codeVersion } from "./provenance.js";
import { buildStages, type EvalStage } from "./stages.js";

export interface StageStatus {
  key: string;
  runId: string;
  samples: number;
  done: number;
  errors: number;
  state: "not started" | "partial" | "done" | "done with errors";
}

/** The experiment's run record id: one per experiment name. */
export const experimentRunId = (loaded: LoadedExperiment) => `experiment-${loaded.experiment.name}`;

export function stageStatus(stages: EvalStage[], client: LlmClient): StageStatus[] {
  return stages.map((st) => {
    const samples = st.task.dataset.length * st.epochs;
    const { done, error } = client.store.evals.statusCounts(st.runId);
    const state =
      done === samples
        ? "done"
        : done + error === samples && error > 0
          ? "done with errors"
          : done + error === 0
            ? "not started"
            : "partial";
    return { key: st.key, runId: st.runId, samples, done, errors: error, state };
  });
}

/**
 * Runs every stage of an experiment in order. Each stage is a resumable eval run, so after a
 * crash or Ctrl-C the next `run` continues where this one stopped and finished stages are not
 * touched. The experiment's definition and the code version are recorded with it.
 */
export async function runExperiment(
  loaded: LoadedExperiment,
  client: LlmClient,
  options: { signal?: AbortSignal } = {},
): Promise<{ stages: EvalStage[]; summaries: EvalRunSummary[] }> {
  const { stages, specs } = buildStages(loaded, client);
  client.store.runs.ensure({
    id: experimentRunId(loaded),
    kind: "experiment",
    name: loaded.experiment.name,
    config: {
      experiment: loaded.experiment,
      specs: specs.map((s) => ({ name: s.name, file: s.file, hash: s.hash })),
      code: codeVersion(),
    },
  });
  const summaries: EvalRunSummary[] = [];
  for (const [i, st] of stages.entries()) {
    log.info(`[${i + 1}/${stages.length}] ${st.key}`);
    summaries.push(
      await runEval({
        client,
        task: st.task,
        modelId: st.model,
        epochs: st.epochs,
        generate: st.generate,
        ...(options.signal ? { signal: options.signal } : {}),
      }),
    );
  }
  const failed = summaries.some((s) => s.errors > 0);
  client.store.runs.setStatus(experimentRunId(loaded), failed ? "failed" : "completed");
  return { stages, summaries };
}
