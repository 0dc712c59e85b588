export { axolotlConfigs, configText, launchCommand, slurmScript } from "./axolotl.js";
export { type StageData, stageData } from "./data.js";
export { estimateTraining } from "./estimate.js";
export { latestCheckpoint, runTraining, type TrainOptions } from "./launcher.js";
export type { ModelArtifact } from "./models.js";
export { loadTrainPlan, parseTrainPlan, type TrainPlan, TrainPlanSchema } from "./plan.js";
export { endpointsYaml, servedIds, servingPlan, waitForModels } from "./serve.js";
export { writeRunFiles } from "./slurm.js";
export { cancelTogether, runTogether, TogetherClient } from "./together.js";
