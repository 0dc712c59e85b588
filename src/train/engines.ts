/**
 * The training engines a plan's `engine:` names: each trains every seed of a plan (its parent plan
 * first) and registers the models. `specsci train run` and an experiment's trained arms both go
 * through trainWithEngine, so a new engine is an entry here and its name in plan.ts's schema.
 */
import type { Store } from "../store/index.js";
import { runTraining, type TrainOptions } from "./launcher.js";
import type { ModelArtifact } from "./models.js";
import type { LoadedPlan, TrainPlan } from "./plan.js";
import { runTogether, type TogetherOptions } from "./together.js";

/** What any engine takes; each reads the options it has (axolotl's executable, Together's poll). */
export type EngineOptions = TrainOptions & TogetherOptions;

type Engine = (loaded: LoadedPlan, store: Store, o: EngineOptions) => Promise<ModelArtifact[]>;

const ENGINES: Record<TrainPlan["engine"], Engine> = {
  axolotl: runTraining,
  together: runTogether,
};

/** Trains the plan's seeds (`o.seeds`, else all of them) with the plan's engine. */
export const trainWithEngine = (
  loaded: LoadedPlan,
  store: Store,
  o: EngineOptions = {},
): Promise<ModelArtifact[]> => ENGINES[loaded.plan.engine](loaded, store, o);
