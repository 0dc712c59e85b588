/**
 * The base-model families of an experiment's trained arms: which family each base in
 * training.base_models trains as, and the chat template its AFT sets are written in. One AFT set
 * is made per turn format: a base whose family writes the recipe's turn format trains on the set
 * the recipe makes (named and fingerprinted as before families were known); any other base gets
 * the same recipe with its own family's chat_template, in a directory with the family's suffix.
 * A base whose name says no family (a local path, a private copy) is named one under
 * training.base_families, which its training plans pass on as `base_family`.
 */
import { join } from "node:path";
import { SpecsciError } from "../core/errors.js";
import { loadAftConfig } from "../data/aft/config.js";
import { BASE_FAMILIES, type BaseFamilyId, FAMILY_TEMPLATES } from "../data/base-templates.js";
import { type BaseFamily, baseFamilyOf, resolveBaseFamily } from "../train/bases.js";
import type { LoadedExperiment } from "./config.js";

/** The recipe's chat_template, read once per loaded experiment (the recipe is validated later). */
const recipeTemplates = new WeakMap<LoadedExperiment, BaseFamilyId>();

export function recipeChatTemplate(loaded: LoadedExperiment): BaseFamilyId {
  const hit = recipeTemplates.get(loaded);
  if (hit) return hit;
  const file = loaded.experiment.training?.data.aft;
  const template = loadAftConfig(
    file ? join(loaded.dir, file) : undefined,
    undefined,
    `training.data.aft in ${loaded.file}`,
  ).chat_template;
  recipeTemplates.set(loaded, template);
  return template;
}

/** The family training.base_families names for a base, if any. */
export const namedFamilyOf = (loaded: LoadedExperiment, base: string): string | undefined =>
  loaded.experiment.training?.base_families?.[base];

/**
 * The family training.base_families gives a base where it says more than the base's id (a local
 * path, a copy, or another family than the id's): what fingerprints and plans record, so naming
 * a base's own family changes neither.
 */
export function overriddenFamilyOf(loaded: LoadedExperiment, base: string): string | undefined {
  const named = namedFamilyOf(loaded, base);
  return named !== undefined && named !== baseFamilyOf(base)?.id ? named : undefined;
}

/** The family a base trains as: training.base_families names it, else its Hugging Face id. */
export function familyOfBase(loaded: LoadedExperiment, base: string): BaseFamily | undefined {
  const named = namedFamilyOf(loaded, base);
  return named === undefined
    ? baseFamilyOf(base)
    : resolveBaseFamily(base, `training.base_families in ${loaded.file}`, named);
}

/** The chat template a base's AFT sets are written in, and their directory suffix. */
export interface AftTemplate {
  template: BaseFamilyId;
  /** "" for the recipe's own template (the directory and fingerprint of old), else `-<family>`. */
  suffix: string;
}

/**
 * A base of the recipe's turn format (Qwen3 and Qwen2.5 share ChatML) or of no known family
 * trains on the recipe's set; any other base on a set in its own family's template.
 */
export function aftTemplateFor(loaded: LoadedExperiment, base: string | undefined): AftTemplate {
  const recipe = recipeChatTemplate(loaded);
  const family = base === undefined ? undefined : familyOfBase(loaded, base);
  if (!family || family.template.turnFormat === FAMILY_TEMPLATES[recipe].turnFormat)
    return { template: recipe, suffix: "" };
  return { template: family.id, suffix: `-${family.id}` };
}

/** Each distinct base of the experiment's trained models, in the order the models are listed. */
export function experimentBases(loaded: LoadedExperiment): string[] {
  const bases = loaded.experiment.training?.base_models ?? {};
  return [...new Set(loaded.experiment.models.map((m) => bases[m]).filter((b) => b !== undefined))];
}

/**
 * What still cannot work once every family gets its own set: axolotl needs a base's family (its
 * turn format, end-of-turn token and LoRA targets), and an unrecognised base without one would
 * fail only at training, after its data is paid for. Together applies its own chat template.
 */
export function checkBaseFamilies(loaded: LoadedExperiment): void {
  const t = loaded.experiment.training;
  if (t?.engine !== "axolotl") return;
  for (const [model, base] of Object.entries(t.base_models)) {
    if (familyOfBase(loaded, base)) continue;
    throw new SpecsciError(
      `training.base_models.${model} in ${loaded.file}: "${base}" is not a known base-model family, and axolotl needs its turn format`,
      {
        hint: `name its family under training.base_families: { "${base}": <family> } (one of ${BASE_FAMILIES.join(", ")}; \`specsci train bases\` lists them)`,
      },
    );
  }
}

/** The base family of each experiment model trained from a base of a known family. */
export function modelFamilies(loaded: LoadedExperiment): Record<string, string> {
  const bases = loaded.experiment.training?.base_models ?? {};
  const out: Record<string, string> = {};
  for (const model of loaded.experiment.models) {
    const base = bases[model];
    const family = base === undefined ? undefined : familyOfBase(loaded, base);
    if (family) out[model] = family.id;
  }
  return out;
}
