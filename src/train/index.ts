/**
 * train's public surface: training plans and their estimate, axolotl configs, launch commands and
 * Slurm, the launcher and Together, the trained-model registry (external models included), and
 * serving. Data resolution, package versions and the servers' plumbing stay internal.
 */
export {
  axolotlConfigs,
  configText,
  launchCommand,
  runDirOf,
  type StageConfig,
  slurmScript,
} from "./axolotl.js";
export {
  BASES,
  type BaseFamily,
  baseFamilyOf,
  describeBase,
  ESTIMATE_AT,
  memoryEstimate,
  resolveBaseFamily,
} from "./bases.js";
export { type StageData, stageData } from "./data.js";
export { type EngineOptions, trainWithEngine } from "./engines.js";
export { estimateTraining, type StageEstimate } from "./estimate.js";
export { latestCheckpoint, runTraining, type TrainOptions, trainRunId } from "./launcher.js";
export {
  externalModelKey,
  type ModelArtifact,
  modelKey,
  parseModelArtifact,
  trainedModel,
  trainedModels,
  trainRunIdOf,
} from "./models.js";
export {
  chooseParallel,
  describeParallel,
  detectGpus,
  type GpuInventory,
  gpuInventory,
  type ParallelChoice,
  parallelFlags,
} from "./parallel.js";
export { parentPlan } from "./parent.js";
export {
  type LoadedPlan,
  loadTrainPlan,
  parseTrainPlan,
  type TrainPlan,
  TrainPlanSchema,
} from "./plan.js";
export { type ExternalModel, externalModel, registerExternalModel } from "./register.js";
export {
  endpointsYaml,
  type ServerPlan,
  type ServingEngine,
  servedIds,
  servingPlan,
  waitForModels,
} from "./serve.js";
export { type ServeJob, type SlurmServeOptions, startSlurmServers } from "./serve-slurm.js";
export { type RunningServers, type StartOptions, startServers } from "./servers.js";
export { writeRunFiles } from "./slurm.js";
export { type SlurmJob, submitToSlurm } from "./submit.js";
export { cancelTogether, runTogether, TogetherClient } from "./together.js";
