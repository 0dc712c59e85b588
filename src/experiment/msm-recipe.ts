/**
 * An arm's own MSM recipe (`msm_recipe:`), beside the experiment's one (`training.data.msm`):
 * two arms can then compare corpora of one spec made two ways (a knob on or off) without naming
 * the spec twice. Such an arm's corpus and MSM run are its recipe's own (`msm.<tag>.<spec>`, the
 * tag from the recipe's file name); arms without one keep their directories, plans and
 * fingerprints as before.
 */
import { basename, posix } from "node:path";

/** A recipe path as written, normalised so `./r.yaml` and `r.yaml` are one recipe. */
const normalised = (file: string) => posix.normalize(file.replaceAll("\\", "/"));

/** The tag a recipe's corpus and run are named by: its file name without `.yaml`, kebab-cased. */
export const msmRecipeTag = (file: string) =>
  basename(normalised(file))
    .replace(/\.ya?ml$/i, "")
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "") || "recipe";

/**
 * Where an arm's MSM data and run are named apart from the shared recipe's: `-<spec>` for the
 * experiment's recipe, `.<tag>.<spec>` for an arm's own (spec names cannot hold a tag's first dot
 * after `msm`, so the two never meet).
 */
export const msmPart = (spec: string, recipe: string | undefined) =>
  recipe === undefined ? `msm-${spec}` : `msm.${msmRecipeTag(recipe)}.${spec}`;

/** The arm's own recipe, unless it is the experiment's recipe (then the arm is as without it). */
export function ownMsmRecipe(
  recipe: string | undefined,
  shared: string | undefined,
): string | undefined {
  if (recipe === undefined) return undefined;
  return shared !== undefined && normalised(recipe) === normalised(shared) ? undefined : recipe;
}

/**
 * Recipes (as written) whose tags collide: two files of one name would share a corpus directory.
 * Returns the first clash, if any.
 */
export function clashingMsmRecipes(recipes: Iterable<string>): [string, string] | undefined {
  const byTag = new Map<string, string>();
  for (const r of recipes) {
    const tag = msmRecipeTag(r);
    const seen = byTag.get(tag);
    if (seen !== undefined && normalised(seen) !== normalised(r)) return [seen, r];
    byTag.set(tag, r);
  }
  return undefined;
}
