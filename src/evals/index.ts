export { type ParsedAction, type ParsedAnswer, parseAnswer } from "./am/actions.js";
export { collectEvidence, type Evidence, type ScenarioFacts } from "./am/evidence.js";
export {
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
export { AM_TASK_NAME, type AmTaskArgs, agenticMisalignmentTask } from "./am/task.js";
export { importUpstreamTask } from "./am/upstream.js";
export { exportInspectLog } from "./inspect.js";
export { validateEvalLog } from "./inspect-schema.js";
export { type JudgeOptions, judgeOptions } from "./judge.js";
export { type EvalOptions, type EvalRunSummary, evalRunId, runEval } from "./runner.js";
export * from "./types.js";
