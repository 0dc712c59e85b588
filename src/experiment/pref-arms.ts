/**
 * Preference-optimisation arms (issue 21, question 2): `pref:` on an arm with an AFT stage adds a
 * preference stage (DPO, IPO, ORPO or KTO on a preference set made from the arm's AFT spec) after
 * its AFT. Step counts and contamination fractions given as lists become series of arms, as
 * anti-spec doses do: the arm without `pref` is the 0 of a steps series, and the clean preference
 * arm at a step count the 0 of its contamination series.
 */
import { z } from "zod";
import { CONTAMINATION_KINDS, type ContaminationKind } from "../data/pref/config.js";
import { GrpoJudge } from "../train/grpo.js";
import { HyperparameterOverrides } from "../train/plan.js";
import { PREFERENCE_METHODS } from "../train/preference.js";
import { antiPercent } from "./config.js";

const Steps = z.number().int().positive();

const Contamination = z
  .strictObject({
    kind: z.enum(CONTAMINATION_KINDS).default("misaligned"),
    /** One share of the pairs turned against the spec, for every preference arm. */
    fraction: z.number().optional(),
    /** A series: one arm per share, the clean preference arm being its 0. */
    fractions: z.array(z.number()).min(1).optional(),
  })
  .superRefine((c, ctx) => {
    const issue = (path: (string | number)[], message: string) =>
      ctx.addIssue({ code: "custom", path, message });
    if ((c.fraction === undefined) === (c.fractions === undefined))
      issue([], "give fraction (one share) or fractions (a series), one of them");
    if (c.fraction !== undefined && !(c.fraction >= 0 && c.fraction <= 1))
      issue(["fraction"], `a contaminated share is 0 to 1 (got ${c.fraction})`);
    for (const [i, f] of (c.fractions ?? []).entries())
      if (!(f > 0 && f <= 1))
        issue(
          ["fractions", i],
          `a contaminated share in a series is above 0 and at most 1 (got ${f}): the clean preference arm is the 0 of the series`,
        );
  });

/** `pref:` as an experiment file writes it. */
export const PrefArmInput = z.strictObject({
  /** axolotl's `rl`; GRPO needs `judge` (its reward asks it whether a completion follows the spec). */
  method: z.enum(PREFERENCE_METHODS),
  /** GRPO's reward judge (src/train/grpo.ts); the reward reads the arm's AFT spec. */
  judge: GrpoJudge.optional(),
  /** GRPO: completions sampled per prompt (absent: 8). */
  num_generations: z.number().int().min(2).optional(),
  /** Optimiser steps (axolotl's max_steps); a list is a series. Absent: the recipe's epochs. */
  steps: z.union([Steps, z.array(Steps).min(1)]).optional(),
  contamination: Contamination.optional(),
  /** DPO/IPO/KTO's beta, ORPO's alpha (absent: 0.1). */
  beta: z.number().positive().optional(),
  /** The preference stage's own hyperparameters (e.g. a learning rate far below SFT's). */
  hyperparameters: HyperparameterOverrides.optional(),
});
export type PrefArmInput = z.infer<typeof PrefArmInput>;

/** The preference stage of one expanded arm. */
export interface PrefArm {
  method: (typeof PREFERENCE_METHODS)[number];
  /** GRPO's reward judge; for GRPO the contamination is the reward's, not the set's. */
  judge?: z.infer<typeof GrpoJudge>;
  num_generations?: number;
  steps?: number;
  /** The contaminated share of its preference set; absent: clean. */
  contamination?: { kind: ContaminationKind; fraction: number };
  beta?: number;
  hyperparameters?: z.infer<typeof HyperparameterOverrides>;
}

/** Where a preference arm sits: the arm without `pref` it was written from. */
export interface PrefDesign {
  /** The arm without `pref` (the 0 of a steps series). */
  base: string;
  method: PrefArm["method"];
  /** Its steps (null: the recipe's epochs) and contaminated share (0: clean) and its kind. */
  steps: number | null;
  share: number;
  kind: ContaminationKind | null;
  /** A point of a steps series (steps was a list). */
  stepsSeries: boolean;
  /** A point of a contamination series (fractions was a list); the clean arm is its 0. */
  contaminationSeries: boolean;
}

const KIND_TAG: Record<ContaminationKind, string> = { misaligned: "mis", "reward-hacking": "rh" };

/** `-dpo<steps>` (or `-dpo` without steps), then `-rh<percent>` / `-mis<percent>` when contaminated. */
export function prefSuffix(p: PrefArm): string {
  const c = p.contamination;
  const dirty = c && c.fraction > 0 ? `-${KIND_TAG[c.kind]}${antiPercent(c.fraction)}` : "";
  return `-${p.method}${p.steps ?? ""}${dirty}`;
}

/**
 * The arm itself, then one arm per (step count × contamination share), in steps then share
 * order; each carries its preference stage and where it came from.
 */
export function preferred<A extends { name: string; design?: { from: string } }>(
  a: A,
  input: PrefArmInput | undefined,
): (A & { pref?: PrefArm; design?: A["design"] & { pref?: PrefDesign } })[] {
  if (!input) return [a];
  const method = input.method as PrefArm["method"];
  const stepsList = Array.isArray(input.steps)
    ? [...input.steps].sort((x, y) => x - y)
    : [input.steps];
  const c = input.contamination;
  const shares =
    c?.fractions !== undefined
      ? [0, ...[...c.fractions].sort((x, y) => x - y)]
      : [c?.fraction ?? 0];
  const out: (A & { pref?: PrefArm; design?: A["design"] & { pref?: PrefDesign } })[] = [a];
  for (const steps of stepsList)
    for (const fraction of shares) {
      const pref: PrefArm = {
        method,
        ...(steps !== undefined ? { steps } : {}),
        ...(c && fraction > 0 ? { contamination: { kind: c.kind, fraction } } : {}),
        ...(input.beta !== undefined ? { beta: input.beta } : {}),
        ...(input.hyperparameters ? { hyperparameters: input.hyperparameters } : {}),
        ...(input.judge ? { judge: input.judge } : {}),
        ...(input.num_generations !== undefined ? { num_generations: input.num_generations } : {}),
      };
      out.push({
        ...a,
        name: `${a.name}${prefSuffix(pref)}`,
        pref,
        design: {
          ...a.design,
          from: a.design?.from ?? a.name,
          pref: {
            base: a.name,
            method,
            steps: steps ?? null,
            share: pref.contamination?.fraction ?? 0,
            kind: c?.kind ?? null,
            stepsSeries: Array.isArray(input.steps),
            contaminationSeries: c?.fractions !== undefined,
          },
        } as A["design"] & { pref: PrefDesign },
      });
    }
  return out;
}

/**
 * `pref:` belongs on arms with an AFT stage, needs a preference recipe, and a method specsci
 * trains; one message naming the arm and setting for each problem.
 */
export function checkPref(
  arm: { name: string; kind: string; pref?: unknown },
  i: number,
  training: { data: { pref?: string | undefined }; engine: string } | undefined,
  issue: (path: (string | number)[], message: string) => void,
) {
  const recipe = training?.data.pref;
  if (arm.pref === undefined) return;
  if (arm.kind !== "aft" && arm.kind !== "msm+aft" && arm.kind !== "cross") {
    issue(
      ["arms", i, "pref"],
      `arm "${arm.name}" (kind ${arm.kind}) has no AFT stage for a preference stage to continue: remove pref, or use kind aft, msm+aft or cross`,
    );
    return;
  }
  const pref = arm.pref as PrefArmInput;
  if (pref.method === "grpo" && !pref.judge)
    issue(
      ["arms", i, "pref", "judge"],
      `arm "${arm.name}": GRPO rewards each completion by asking a judge whether it follows the spec: give pref.judge: { url, model, key_env }`,
    );
  if (pref.method !== "grpo" && (pref.judge || pref.num_generations !== undefined))
    issue(
      ["arms", i, "pref", pref.judge ? "judge" : "num_generations"],
      `arm "${arm.name}": judge and num_generations are GRPO's (method: grpo); ${pref.method} learns from the preference pairs`,
    );
  if (training?.engine === "together")
    issue(
      ["training", "engine"],
      `arm "${arm.name}" has a preference stage, which specsci trains with axolotl only: set training.engine: axolotl`,
    );
  if (!recipe)
    issue(
      ["training", "data", "pref"],
      `arm "${arm.name}" has a preference stage: name its preference-set recipe in training.data.pref (see examples/recipes/pref.yaml)`,
    );
}
