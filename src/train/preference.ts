/**
 * The preference stage of a training plan: DPO, IPO, ORPO or KTO through axolotl's `rl:` support,
 * on a preference set written by src/data/pref. Key names and values are axolotl's, checked
 * against its source (axolotl-ai-cloud/axolotl at 067b021):
 * - `rl` takes the values of `RLType` in src/axolotl/utils/schemas/enums.py (dpo, ipo, orpo, kto,
 *   simpo, grpo, ...); docs/rlhf.qmd writes IPO as `rl: dpo` with `dpo_loss_type: ["ipo"]`
 *   (`rl: ipo` is to be deprecated), and `dpo_loss_type` is a field in schemas/config.py;
 * - `rl_beta`, `orpo_alpha` (ORPO's beta), `remove_unused_columns` and `max_steps` (which
 *   precedes `num_epochs`) are fields in schemas/config.py; ORPO wants `remove_unused_columns: false` (docs/rlhf.qmd);
 * - `sample_packing: true` with `rl` is refused (check_sample_packing_w_rl in
 *   schemas/validation.py);
 * - the dataset types are loaders in src/axolotl/prompt_strategies/: `chat_template.default` in
 *   dpo/chat_template.py (field_messages, field_chosen, field_rejected), `chat_template.argilla`
 *   in orpo/chat_template.py (prompt, system, chosen/rejected as [user, assistant]) and
 *   `chatml.prompt_pairs` in kto/chatml.py (prompt, system, completion, label; ChatML markup,
 *   which both of specsci's chat templates, Qwen3 and Qwen2.5, use).
 * GRPO (online RL with a judge's reward and a vLLM server) is in grpo.ts.
 */
import { SpecsciError } from "../core/errors.js";
import type { StageData } from "./data.js";
import { checkGrpoStage, grpoSettings } from "./grpo.js";
import type { Hyperparameters, StageSpec, TrainPlan } from "./plan.js";

export const PREFERENCE_METHODS = ["dpo", "ipo", "orpo", "kto", "grpo"] as const;
export type PreferenceMethod = (typeof PREFERENCE_METHODS)[number];

/** The beta each method starts from when the stage sets none (TRL's defaults). */
const DEFAULT_BETA: Record<Exclude<PreferenceMethod, "grpo">, number> = {
  dpo: 0.1,
  ipo: 0.1,
  orpo: 0.1,
  kto: 0.1,
};

/** Whether the stage trains on the KTO file (unpaired, labelled completions) of a preference set. */
export const readsKtoLines = (stage: StageSpec) => stage.rl === "kto";

/** A plan's preference stages checked against each other and the engine: one message per problem. */
export function checkPreferenceStages(plan: TrainPlan, file: string): void {
  for (const s of plan.stages) {
    const where = `${file}: stage ${s.name}`;
    if (s.kind !== "preference") {
      if (s.rl !== undefined || s.beta !== undefined || s.steps !== undefined || s.reward)
        throw new SpecsciError(
          `${where}: rl, beta, steps and reward belong to a preference stage`,
          {
            hint: "set kind: preference, or remove them",
          },
        );
      continue;
    }
    if (s.rl === undefined)
      throw new SpecsciError(`${where}: a preference stage needs rl`, {
        hint: "rl: dpo, ipo, orpo, kto or grpo",
      });
    checkGrpoStage(plan, s, where);
    if (plan.engine !== "axolotl")
      throw new SpecsciError(
        `${where}: the ${plan.engine} engine does not train preference stages here`,
        { hint: "use engine: axolotl for a plan with a preference stage" },
      );
  }
}

/** The axolotl settings of a preference stage: its method, beta and dataset entry. */
export function preferenceSettings(
  plan: TrainPlan,
  stage: StageSpec,
  data: StageData,
  h: Hyperparameters,
): Record<string, unknown> {
  if (stage.rl === "grpo") return grpoSettings(plan, stage, data, h);
  const rl = stage.rl as Exclude<PreferenceMethod, "grpo">;
  const beta = stage.beta ?? DEFAULT_BETA[rl];
  const json = { path: data.file, ds_type: "json" };
  const byMethod: Record<typeof rl, Record<string, unknown>> = {
    dpo: { rl: "dpo", rl_beta: beta, datasets: [{ ...json, ...DPO_DATASET }] },
    ipo: {
      rl: "dpo",
      dpo_loss_type: ["ipo"],
      rl_beta: beta,
      datasets: [{ ...json, ...DPO_DATASET }],
    },
    orpo: {
      rl: "orpo",
      orpo_alpha: beta,
      remove_unused_columns: false,
      datasets: [{ ...json, type: "chat_template.argilla" }],
    },
    kto: { rl: "kto", rl_beta: beta, datasets: [{ ...json, type: "chatml.prompt_pairs" }] },
  };
  return {
    ...byMethod[rl],
    ...(stage.steps !== undefined ? { max_steps: stage.steps } : {}),
    sample_packing: false,
    pad_to_sequence_len: false,
  };
}

const DPO_DATASET = {
  type: "chat_template.default",
  field_messages: "messages",
  field_chosen: "chosen",
  field_rejected: "rejected",
  message_property_mappings: { role: "role", content: "content" },
};
