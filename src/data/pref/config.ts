/**
 * A preference-set recipe: the AFT recipe whose prompts (and spec-aligned teacher answers) it
 * reuses, how many pairs, and the contamination knob that turns a share of the pairs against
 * the spec (the paper's anti-spec idea, applied to preference optimisation).
 */
import { z } from "zod";
import { readUserFile } from "../../core/fs.js";
import { ModelIdSetting } from "../../core/model-ids.js";
import { parseYamlWithSchema } from "../../core/yaml-schema.js";
import { AftConfigSchema } from "../aft/config.js";

/** The rejected answers and the reward-hacking ones; their judge is the AFT judge. */
export const PREF_STAGES = ["rejected", "hacking"] as const;
export type PrefStage = (typeof PREF_STAGES)[number];

/** `misaligned`: chosen and rejected swapped; `reward-hacking`: a grader-gaming answer preferred over the aligned one. */
export const CONTAMINATION_KINDS = ["misaligned", "reward-hacking"] as const;
export type ContaminationKind = (typeof CONTAMINATION_KINDS)[number];

/** A stage's model; temperature and length are the AFT responses stage's. */
const Stage = z.strictObject({ model: ModelIdSetting.optional() });

export const PrefConfigSchema = z.strictObject({
  name: z.string().min(1).optional(),
  /** The AFT recipe (inline) whose prompts and teacher answers are the prompts and chosen answers. */
  aft: AftConfigSchema.prefault({}),
  /** Preference pairs wanted. */
  pairs: z.number().int().positive().default(2000),
  /** Extra share of AFT examples asked for, since some rejected answers fail their gates. */
  margin: z.number().min(0).max(2).default(0.25),
  /** The rejected and reward-hacking stages' models (the AFT teacher's unless set). */
  stages: z.partialRecord(z.enum(PREF_STAGES), Stage).default({}),
  contamination: z
    .strictObject({
      fraction: z.number().min(0).max(1).default(0),
      kind: z.enum(CONTAMINATION_KINDS).default("misaligned"),
    })
    .prefault({}),
});
export type PrefConfig = z.infer<typeof PrefConfigSchema>;

export const PREF_CONFIG_HINT = "see src/data/pref/config.ts (a preference-set recipe)";

export function parsePrefConfig(text: string, file: string): PrefConfig {
  return parseYamlWithSchema(text, file, PrefConfigSchema, PREF_CONFIG_HINT);
}

export function loadPrefConfig(file?: string, from?: string): PrefConfig {
  if (!file) return PrefConfigSchema.parse({});
  return parsePrefConfig(
    readUserFile(file, "preference recipe", { from, hint: PREF_CONFIG_HINT }),
    file,
  );
}

/** A pref stage's model, else the AFT responses stage's, else the AFT recipe's. */
export const prefStageModel = (config: PrefConfig, stage: PrefStage): string =>
  config.stages[stage]?.model ?? config.aft.stages.responses?.model ?? config.aft.model;
