/**
 * experiment's public surface: experiment files (with presets), the stage graph, the plan and its
 * costs, the resumable run and its status, the trained arms' chain as far as a caller sees it,
 * the reasoning analysis of each arm, the quickstart, the eval-run listing and the Inspect export.
 */
export { type BlockedReason, blockedReasons, manualSteps } from "./blocked.js";
export {
  type Arm,
  antiPercent,
  type EvalConfig,
  type Experiment,
  experimentFromSource,
  experimentModelIds,
  type LoadedExperiment,
  loadExperiment,
  type TrainedArm,
} from "./config.js";
export * from "./light.js";
export { type ExperimentPlan, planExperiment, type StagePlan } from "./plan.js";
export { type AppliedPreset, applyPreset, type PresetValue } from "./preset.js";
export {
  type QuickstartModels,
  resolveQuickstartModels,
  writeQuickstartExperiment,
} from "./quickstart.js";
export { type ArmAnalysis, analyzeExperiment, reasoningProgress } from "./reasoning.js";
export {
  BudgetReached,
  type ExperimentRunResult,
  experimentRunId,
  runExperiment,
  type StageStatus,
  stageStatus,
  stagesSpend,
} from "./run.js";
export {
  type PendingSpec,
  type ResolvedSpecs,
  resolveSpecs,
  type SpecArtifact,
  specSource,
} from "./specs.js";
export { buildStages, type EvalStage, type StageGraph, type TrainingWait } from "./stages.js";
export { type Blocked, planTrainedArms, type TrainedArmsPlan } from "./trained.js";
export { type DataStep, serveCommand, type TrainingTodo, trainingDir } from "./training.js";
