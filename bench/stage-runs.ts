/** Benchmarks that write an experiment's samples directly: each stage's eval run as runEval records it. */
import { datasetHash } from "../src/evals/runner.js";
import type { EvalStage } from "../src/experiment/stages.js";
import type { Store } from "../src/store/db.js";

export function ensureStageRun(store: Store, st: EvalStage, name: string): void {
  store.runs.ensure({ id: st.runId, kind: "eval", name });
  store.evals.ensureRun({
    id: st.runId,
    task: st.task.name,
    taskVersion: st.task.version,
    taskArgs: st.task.args,
    model: st.model,
    epochs: st.epochs,
    generateConfig: { ...st.task.defaults, ...st.generate },
    scorerConfig: { solver: st.task.solver.spec, scorers: st.task.scorers.map((s) => s.spec) },
    datasetHash: datasetHash(st.task.dataset),
    sampleCount: st.task.dataset.length,
  });
}
