/**
 * evals' public surface: the task framework (tasks, solvers, scorers, the registry and runner),
 * the registered tasks, agentic misalignment's scenarios, metrics and calibration, generic task
 * metrics, the judge kit and the Inspect export.
 */
export { type ParsedAction, type ParsedAnswer, parseAgentAnswer } from "./am/actions.js";
export {
  type CalibrateOptions,
  type Calibration,
  calibrate,
  calibrationVerdict,
  type OneSided,
  type RateComparison,
} from "./am/calibrate.js";
export { type AmArgs, amToggles } from "./am/definition.js";
export { collectEvidence, type Evidence, type ScenarioFacts } from "./am/evidence.js";
export {
  AGREEMENT_READING,
  amScoreRows,
  type RateCell,
  type RunMetrics,
  runMetrics,
  type ScoreRow,
} from "./am/metrics.js";
export { loadPack, PACK_DIR } from "./am/pack.js";
export {
  allConditions,
  type Condition,
  conditionId,
  DEFAULT_TOGGLES,
  parseConditionId,
  renderCondition,
  standardConditions,
  type Toggles,
} from "./am/render.js";
export { evalAwarenessScorer, misalignmentScorer, ruleCitationScorer } from "./am/scorers.js";
export { AM_TASK_NAME, type AmTaskArgs, agenticMisalignmentTask, isAmTask } from "./am/task.js";
export { importUpstreamTask } from "./am/upstream.js";
export { exportInspectLog, type InspectExport, type InspectExportOptions } from "./inspect.js";
export { inspectLogHeader, writeInspectEvalZip } from "./inspect-eval-zip.js";
export { validateEvalLog } from "./inspect-schema.js";
export {
  checkQuotes,
  type JudgeOptions,
  type JudgePrompt,
  judgeOptions,
  judgeSpec,
  runJudges,
  validVerdicts,
  verdictJson,
} from "./judge.js";
export { type SampleProgress, sampleProgress } from "./progress.js";
export {
  buildTask,
  type FieldPath,
  type FindingContext,
  itemOf,
  limitItems,
  type MetricDef,
  type ScorerDecl,
  type TaskDefinition,
  type TaskDescription,
  type TaskEnv,
} from "./registry.js";
export { type EvalOptions, type EvalRunSummary, evalRunId, runEval } from "./runner.js";
export { generateOnce, type PromptSpec, withSpec } from "./solvers.js";
export { contaminatedItems } from "./spec-knowledge/contamination.js";
export {
  compareMetric,
  type MetricCell,
  type MetricComparison,
  type MetricSummary,
  summarizeTask,
  type TaskSummary,
} from "./task-metrics.js";
export { registerTask, taskDefinition, taskDefinitions } from "./tasks.js";
export * from "./types.js";
export { orderEffect } from "./value-generalization/definition.js";
