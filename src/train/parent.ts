/**
 * A plan's `start_from`: the stage of another plan it continues, per seed. The parent plan is
 * loaded and its configs computed (nothing runs here); the launchers train it first. The parent
 * may itself continue a plan (MSM → AFT → a preference stage): the launchers train the chain from
 * its start, and a plan reached again along it is refused.
 */
import { resolve } from "node:path";
import { SpecsciError } from "../core/errors.js";
import { axolotlConfigs, type StageConfig } from "./axolotl.js";
import { resolveData } from "./data.js";
import { type LoadedPlan, loadTrainPlan } from "./plan.js";

export function parentPlan(loaded: LoadedPlan): LoadedPlan | undefined {
  const from = loaded.plan.start_from;
  if (!from) return undefined;
  const parent = loadTrainPlan(resolve(loaded.dir, from.plan), `start_from.plan in ${loaded.file}`);
  const where = `${loaded.file}: start_from`;
  checkChain(loaded, parent);
  if (!parent.plan.stages.some((s) => s.name === from.stage))
    throw new SpecsciError(`${where}: ${parent.file} has no stage "${from.stage}"`);
  if (parent.plan.base_model !== loaded.plan.base_model)
    throw new SpecsciError(
      `${where}: ${parent.file} trains ${parent.plan.base_model}, this plan ${loaded.plan.base_model}`,
    );
  if (parent.plan.engine !== loaded.plan.engine)
    throw new SpecsciError(`${where}: ${parent.file} uses engine ${parent.plan.engine}`, {
      hint: "a plan continues a run of its own engine",
    });
  return parent;
}

/** The parent stage's config for one seed (its output directory, its adapter). */
export async function parentStage(
  loaded: LoadedPlan,
  seed: number,
): Promise<StageConfig | undefined> {
  const parent = parentPlan(loaded);
  if (!parent) return undefined;
  const configs = axolotlConfigs(parent, seed, await resolveData(parent));
  return configs.find((c) => c.stage.name === loaded.plan.start_from?.stage);
}

/** The plans a chain of start_from passes through, each once: a loop would train forever. */
function checkChain(loaded: LoadedPlan, parent: LoadedPlan) {
  const seen = [resolve(loaded.file)];
  let at: LoadedPlan | undefined = parent;
  while (at) {
    const file = resolve(at.file);
    if (seen.includes(file))
      throw new SpecsciError(
        `${loaded.file}: start_from: the chain comes back to ${at.file} (${[...seen, file].join(" → ")})`,
        { hint: "start each plan from one that comes before it" },
      );
    seen.push(file);
    const next: string | undefined = at.plan.start_from?.plan;
    at = next ? loadTrainPlan(resolve(at.dir, next), `start_from.plan in ${at.file}`) : undefined;
  }
}
