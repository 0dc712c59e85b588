/**
 * The preference stage of a `pref:` arm in the experiment's training plans: its data step (one
 * preference set per spec and contamination, shared by every arm that uses it), the plan stage
 * that continues the arm's AFT adapter, its fingerprint and the command that makes its set by hand.
 */
import { join, relative } from "node:path";
import { hashValue } from "../core/hash.js";
import type { ContaminationKind } from "../data/pref/config.js";
import { antiPercent, type TrainedArm } from "./config.js";
import type { PrefArm } from "./pref-arms.js";

/** A preference set (`aft pref`) made from the arm's AFT spec, with its contaminated share. */
export interface PrefStep {
  kind: "pref";
  spec: string;
  /** Absent: a clean set (the recipe's own contamination is replaced by the arm's). */
  contamination?: { kind: ContaminationKind; fraction: number };
  dir: string;
}

/**
 * `pref-<spec>[-<kind>-<percent>]` under the experiment's data directory. GRPO trains on the
 * set's prompts and puts its contamination in the reward, so its set is the clean one.
 */
export function prefStepOf(dataDir: string, spec: string, pref: PrefArm): PrefStep {
  const c = pref.method === "grpo" ? undefined : pref.contamination;
  return {
    kind: "pref",
    spec,
    ...(c ? { contamination: c } : {}),
    dir: join(dataDir, `pref-${spec}${c ? `-${c.kind}-${antiPercent(c.fraction)}` : ""}`),
  };
}

/**
 * The plan stage after AFT: preference optimisation on the arm's set, from the AFT adapter. GRPO's
 * reward reads the arm's AFT spec from `specFile` (absolute) and asks the arm's judge.
 */
export function prefStage(
  planDir: string,
  data: { kind: string; dir: string }[],
  arm: TrainedArm,
  specFile: () => string,
) {
  if (arm.kind === "it-only" || arm.kind === "msm" || !arm.pref) return undefined;
  const step = data.find((d) => d.kind === "pref") as PrefStep;
  const p = arm.pref;
  return {
    name: "pref",
    kind: "preference",
    data: relative(planDir, step.dir),
    rl: p.method,
    ...(p.steps !== undefined ? { steps: p.steps } : {}),
    ...(p.beta !== undefined ? { beta: p.beta } : {}),
    ...(p.hyperparameters ? { hyperparameters: p.hyperparameters } : {}),
    ...(p.method === "grpo" && p.judge
      ? {
          reward: {
            spec: relative(planDir, specFile()),
            judge: p.judge,
            ...(p.contamination ? { contamination: p.contamination } : {}),
            ...(p.num_generations !== undefined ? { num_generations: p.num_generations } : {}),
          },
        }
      : {}),
  };
}

/**
 * A preference stage's fingerprint: the AFT run it continues (`parent`), the preference set's
 * spec, recipe and contamination, and the method's settings. Undefined while the spec is not made.
 */
export function prefFingerprint(
  pref: PrefArm,
  common: Record<string, unknown>,
  parent: string,
  recipe: string,
  spec: string | undefined,
): string | undefined {
  if (!spec) return undefined;
  return hashValue({
    ...common,
    parent,
    pref: {
      spec,
      recipe,
      method: pref.method,
      steps: pref.steps ?? null,
      beta: pref.beta ?? null,
      contamination: pref.contamination ?? null,
      // Added only when set, so preference arms without them keep their fingerprints.
      ...(pref.hyperparameters ? { hyperparameters: pref.hyperparameters } : {}),
      ...(pref.judge ? { judge: pref.judge } : {}),
      ...(pref.num_generations !== undefined ? { num_generations: pref.num_generations } : {}),
    },
  });
}

/** The `aft pref` command that makes a preference step's set by hand. */
export function prefCommand(
  d: PrefStep,
  spec: string,
  recipe: string,
  here: (p: string) => string,
): string {
  const c = d.contamination;
  const contamination = c
    ? ` --contamination ${c.fraction} --contamination-kind ${c.kind}`
    : " --contamination 0";
  return `specsci aft pref ${spec}${recipe}${contamination} -o ${here(d.dir)}`;
}
