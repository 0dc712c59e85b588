/**
 * `run` and `plan` for the preference sets of `pref:` arms. A set is made with the experiment's
 * preference recipe, its contamination replaced by the arm's. Sets of one spec that differ only
 * in contamination share a run id (see prefSetId), so their AFT set, rejected answers and judge
 * verdicts are asked for once: a misaligned share is then a seeded swap of pairs (no calls), and
 * a reward-hacking share asks only for the grader-gaming answers the larger shares add (the
 * turned pairs are a prefix of one seeded order, so a smaller share's are among a larger's).
 */
import { join } from "node:path";
import { canonicalJson } from "../core/hash.js";
import { aftContext } from "../data/aft/stages.js";
import { withFailedItems, writeFailedItems } from "../data/item-failures.js";
import { MANIFEST_FILE, writtenManifest } from "../data/manifest.js";
import { loadPrefConfig, type PrefConfig } from "../data/pref/config.js";
import { writePrefSet } from "../data/pref/output.js";
import { buildPrefSet, prefSetId } from "../data/pref/pipeline.js";
import { planPrefSet } from "../data/pref/plan.js";
import type { LlmClient } from "../llm/client.js";
import type { LoadedExperiment } from "./config.js";
import type { PrefStep } from "./pref-training.js";
import type { SpecArtifact } from "./stages.js";
import type { Blocked, ChainOptions } from "./trained.js";

/** The experiment's preference recipe with the step's contamination (clean when it has none). */
function prefRecipe(loaded: LoadedExperiment, step: PrefStep): PrefConfig {
  const file = loaded.experiment.training?.data.pref;
  const config = loadPrefConfig(
    file ? join(loaded.dir, file) : undefined,
    `training.data.pref in ${loaded.file}`,
  );
  config.contamination = step.contamination ?? { kind: config.contamination.kind, fraction: 0 };
  return config;
}

const ids = (spec: SpecArtifact, config: PrefConfig) => {
  const aft = aftContext(spec.spec, spec.hash, spec.name, config.aft).setId;
  return { aft, pref: prefSetId(aft, config) };
};

/** Why a written preference set is not fit to train on, or undefined. */
export function prefShortfall(m: Record<string, unknown>): string | undefined {
  const items = (m.items ?? {}) as Record<string, { failedByKind?: Record<string, number> }>;
  const calls = Object.values(items).reduce((n, st) => n + (st.failedByKind?.call ?? 0), 0);
  if (calls) return `${calls} model call(s) failed and are retried by the next run`;
  const sel = m.selection as { selected?: number; reached?: boolean; target_pairs?: number };
  if (!sel?.selected) return "it is empty: no rejected answer passed";
  if (sel.reached === false)
    return `it has ${sel.selected} pair(s), short of its target of ${sel.target_pairs}`;
  const c = m.contamination as { pairs: number; target: number } | undefined;
  // A contamination series must hold the share its arm's name says.
  if (c && c.pairs < c.target) return `only ${c.pairs} of ${c.target} pairs could be contaminated`;
  return undefined;
}

/** Whether the directory holds this set: the same run id and recipe, fit to train on. */
function upToDate(step: PrefStep, id: string, config: PrefConfig): boolean {
  const m = writtenManifest(step.dir);
  return (
    m !== undefined &&
    m.set_id === id &&
    canonicalJson(m.config) === canonicalJson(config) &&
    !prefShortfall(m)
  );
}

/** Makes a preference step's set unless its directory holds it already. */
export async function makePrefData(
  loaded: LoadedExperiment,
  client: LlmClient,
  spec: SpecArtifact,
  step: PrefStep,
  o: ChainOptions,
): Promise<{ made: boolean; runId: string; empty?: Blocked }> {
  const config = prefRecipe(loaded, step);
  const id = ids(spec, config);
  o.onRun?.(id.aft);
  o.onRun?.(id.pref);
  if (upToDate(step, id.pref, config)) return { made: false, runId: id.pref };
  o.log?.(`making the preference set for ${spec.name} in ${step.dir}`);
  const build = await withFailedItems(client.store, step.dir, () =>
    buildPrefSet({
      spec: spec.spec,
      specHash: spec.hash,
      specName: spec.name,
      config,
      client,
      ...(o.signal ? { signal: o.signal } : {}),
      ...(o.log ? { log: o.log } : {}),
    }),
  );
  await writePrefSet(build, step.dir, client.store, {
    spec: spec.file ?? `${loaded.file}#specs.${spec.name}`,
  });
  writeFailedItems(client.store, id.pref, step.dir);
  const short = prefShortfall(writtenManifest(step.dir) ?? {});
  if (!short) return { made: true, runId: id.pref };
  return {
    made: true,
    runId: id.pref,
    empty: {
      what: step.dir,
      reason: `the preference set for ${spec.name} is not fit to train on: ${short}`,
      hint: `${join(step.dir, MANIFEST_FILE)} has the counts; run again to retry failed calls, or raise the recipe's pairs margin or its AFT counts`,
    },
  };
}

/** Where a preference step stands for `plan`, and what making it would cost. */
export function planPrefStep(
  loaded: LoadedExperiment,
  client: LlmClient,
  spec: SpecArtifact,
  step: PrefStep,
  planned: PlannedPrefSets,
): { state: "up to date" | "to make"; calls: number; costExpected: number | null } {
  const config = prefRecipe(loaded, step);
  const id = ids(spec, config).pref;
  if (upToDate(step, id, config)) return { state: "up to date", calls: 0, costExpected: 0 };
  const plan = planPrefSet(spec.spec, spec.hash, spec.name, config, client);
  const hacking = plan.stages.find((s) => s.stage === "hacking");
  const before = planned.get(id);
  planned.set(id, Math.max(before ?? 0, hacking?.calls ?? 0));
  if (before === undefined)
    return { state: "to make", calls: plan.totals.calls, costExpected: plan.totals.costExpected };
  // Another share of a set planned above: only the reward-hacking answers it adds are new.
  const extra = Math.max(0, (hacking?.calls ?? 0) - before);
  const perCall = hacking?.costExpected == null ? null : hacking.costExpected / hacking.calls;
  return {
    state: "to make",
    calls: extra,
    costExpected: perCall === null ? null : perCall * extra,
  };
}

/** Preference run ids planned so far, with the reward-hacking answers planned for each. */
export type PlannedPrefSets = Map<string, number>;
