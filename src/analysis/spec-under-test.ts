/**
 * The spec whose rules a reasoning analysis checks transcripts against: the one the user names,
 * or else the built-in spec the runs were prompted with, found by name and confirmed by hash (a
 * spec edited since, or runs prompted with different specs, give none rather than a wrong one).
 */
import { SpecsciError } from "../core/errors.js";
import { specHash } from "../spec/hash.js";
import type { PlaceholderValues } from "../spec/placeholders.js";
import type { Store } from "../store/index.js";
import type { SpecUnderTest } from "./reasoning/index.js";

export async function specUnderTest(
  store: Store,
  runIds: string[],
  ref?: string,
  set?: PlaceholderValues,
): Promise<SpecUnderTest | null> {
  for (const id of runIds)
    if (!store.evals.run(id))
      throw new SpecsciError(`no eval run ${id} in this workspace`, {
        hint: "`specsci store runs` lists them; `specsci status EXPERIMENT` shows an experiment's",
      });
  // The spec parser is loaded when a spec is read, not with the analysis module (`annotate`).
  const { loadValidSpec } = await import("../spec/library.js");
  if (ref) {
    const { spec } = loadValidSpec(ref, set);
    return {
      name: typeof spec.frontMatter.name === "string" ? spec.frontMatter.name : ref,
      hash: specHash(spec),
      spec,
    };
  }
  const used = runIds.map(
    (id) =>
      (store.evals.run(id)?.taskArgs as { spec?: { name: string; hash: string } } | undefined)
        ?.spec,
  );
  const first = used[0];
  if (!first || used.some((u) => u?.hash !== first.hash)) return null;
  try {
    const { spec } = loadValidSpec(first.name);
    return specHash(spec) === first.hash ? { name: first.name, hash: first.hash, spec } : null;
  } catch {
    return null;
  }
}
