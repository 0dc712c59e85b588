/**
 * `specsci train plan`: every run (seed) and stage, the data each trains on, tokens, the config
 * files it will write, and GPU-hours at the plan's assumed throughput.
 */
import { axolotlConfigs, type StageConfig } from "./axolotl.js";
import { resolveData, type StageData } from "./data.js";
import { parentStage } from "./parent.js";
import { type LoadedPlan, stageHyperparameters } from "./plan.js";

export interface StageEstimate {
  seed: number;
  stage: string;
  kind: string;
  data: string;
  examples: number;
  tokens: number;
  epochs: number;
  gpuHours: number;
  config: string;
}

export async function estimateTraining(loaded: LoadedPlan): Promise<{
  stages: StageEstimate[];
  configs: Map<number, StageConfig[]>;
  gpuHours: number;
  wallHours: number;
}> {
  const { plan } = loaded;
  const data = await resolveData(loaded);
  const gpus = plan.hardware.gpus_per_node * plan.hardware.nodes;
  const stages: StageEstimate[] = [];
  const configs = new Map<number, StageConfig[]>();
  for (const seed of plan.seeds) {
    const cs = axolotlConfigs(loaded, seed, data, await parentStage(loaded, seed));
    configs.set(seed, cs);
    for (const c of cs) {
      const d = data.get(c.stage.name) as StageData;
      const epochs = stageHyperparameters(plan, c.stage).epochs;
      stages.push({
        seed,
        stage: c.stage.name,
        kind: c.stage.kind,
        data: d.file,
        examples: d.examples,
        tokens: d.tokens,
        epochs,
        gpuHours: (d.tokens * epochs) / plan.hardware.tokens_per_gpu_second / 3600,
        config: c.path,
      });
    }
  }
  const gpuHours = stages.reduce((a, s) => a + s.gpuHours, 0);
  // All GPUs of a run work on each stage together; seeds run one after another.
  return { stages, configs, gpuHours, wallHours: gpuHours / gpus };
}
