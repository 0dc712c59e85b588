/**
 * The base-model families specsci trains: which Hugging Face ids each covers, its chat template
 * and tokenizer (from data/base-templates.ts), LoRA targets, default hyperparameters, licence and
 * gating, and a GPU memory estimate per size. Token budgets, AFT formatting and axolotl configs
 * look the base up here.
 */
import { SpecsciError } from "../core/errors.js";
import {
  BASE_FAMILIES,
  type BaseFamilyId,
  FAMILY_TEMPLATES,
  type FamilyTemplate,
  isBaseFamilyId,
} from "../data/base-templates.js";

export { BASE_FAMILIES, type BaseFamilyId, isBaseFamilyId } from "../data/base-templates.js";

/** One published size: the shape the memory estimate needs (from the model's config.json). */
export interface BaseSize {
  /** As the Hugging Face ids write it: "8B", "0.5B". */
  size: string;
  /** Parameters, in billions. */
  params: number;
  hidden: number;
  layers: number;
  /** MLP width (intermediate_size). */
  ffn: number;
  vocab: number;
}

export interface BaseFamily {
  id: BaseFamilyId;
  label: string;
  /** The Hugging Face ids this family covers. */
  pattern: RegExp;
  examples: string[];
  template: FamilyTemplate;
  /**
   * Trained with the tokenizer's own template (axolotl's tokenizer_default: Qwen's ships the one
   * its AFT sets are counted with); else with `template`, written into the config.
   */
  ownTemplate: boolean;
  /** `all-linear`: axolotl's lora_target_linear; else these module names. */
  loraTargets: "all-linear" | string[];
  /** The paper's Qwen settings, not tuned per family: a starting point, overridden in a plan. */
  defaults: { learning_rate: number; lora_r: number; lora_alpha: number };
  licence: string;
  /** Whether the Hub asks for accepted terms before downloading. */
  gated: boolean;
  note: string;
  sizes: BaseSize[];
}

const PROJECTIONS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"];
const PAPER = { learning_rate: 1e-4, lora_r: 64, lora_alpha: 128 };

const size = (
  s: string,
  params: number,
  hidden: number,
  layers: number,
  ffn: number,
  vocab: number,
) => ({ size: s, params, hidden, layers, ffn, vocab }) satisfies BaseSize;

export const BASES: BaseFamily[] = [
  {
    id: "qwen2.5",
    label: "Qwen2.5",
    pattern: /^Qwen\/Qwen2\.5-\d/i,
    examples: ["Qwen/Qwen2.5-7B", "Qwen/Qwen2.5-14B-Instruct"],
    template: FAMILY_TEMPLATES["qwen2.5"],
    ownTemplate: true,
    loraTargets: "all-linear",
    defaults: PAPER,
    licence: "Apache-2.0 (3B: Qwen Research licence; 72B: Qwen licence)",
    gated: false,
    note: "not gated",
    sizes: [
      size("0.5B", 0.49, 896, 24, 4864, 151936),
      size("1.5B", 1.54, 1536, 28, 8960, 151936),
      size("3B", 3.09, 2048, 36, 11008, 151936),
      size("7B", 7.62, 3584, 28, 18944, 152064),
      size("14B", 14.7, 5120, 48, 13824, 152064),
      size("32B", 32.8, 5120, 64, 27648, 152064),
      size("72B", 72.7, 8192, 80, 29568, 152064),
    ],
  },
  {
    id: "qwen3",
    label: "Qwen3",
    pattern: /^Qwen\/Qwen3-\d/i,
    examples: ["Qwen/Qwen3-8B", "Qwen/Qwen3-14B-Base"],
    template: FAMILY_TEMPLATES.qwen3,
    ownTemplate: true,
    loraTargets: "all-linear",
    defaults: PAPER,
    licence: "Apache-2.0",
    gated: false,
    note: "not gated",
    sizes: [
      size("0.6B", 0.6, 1024, 28, 3072, 151936),
      size("1.7B", 1.7, 2048, 28, 6144, 151936),
      size("4B", 4.0, 2560, 36, 9728, 151936),
      size("8B", 8.2, 4096, 36, 12288, 151936),
      size("14B", 14.8, 5120, 40, 17408, 151936),
      size("32B", 32.8, 5120, 64, 25600, 151936),
    ],
  },
  {
    id: "llama3",
    label: "Llama 3.x (3.1, 3.2, 3.3)",
    pattern: /^meta-llama\/(Meta-)?Llama-3(\.[123])?-\d/i,
    examples: ["meta-llama/Llama-3.1-8B", "meta-llama/Llama-3.3-70B-Instruct"],
    template: FAMILY_TEMPLATES.llama3,
    ownTemplate: false,
    loraTargets: PROJECTIONS,
    defaults: PAPER,
    licence:
      "Llama 3.1/3.2/3.3 Community License (acceptable-use policy; over 700M monthly users need Meta's permission)",
    gated: true,
    note: "gated on the Hub: accept Meta's licence on the model page, then set HF_TOKEN",
    sizes: [
      size("1B", 1.24, 2048, 16, 8192, 128256),
      size("3B", 3.21, 3072, 28, 8192, 128256),
      size("8B", 8.03, 4096, 32, 14336, 128256),
      size("70B", 70.6, 8192, 80, 28672, 128256),
    ],
  },
  {
    id: "gemma3",
    label: "Gemma 3",
    pattern: /^google\/gemma-3-\d/i,
    examples: ["google/gemma-3-12b-pt", "google/gemma-3-27b-it"],
    template: FAMILY_TEMPLATES.gemma3,
    ownTemplate: false,
    loraTargets: PROJECTIONS,
    defaults: PAPER,
    licence: "Gemma Terms of Use (and its prohibited-use policy)",
    gated: true,
    note: "gated on the Hub: accept Google's Gemma terms on the model page, then set HF_TOKEN",
    sizes: [
      size("1B", 1.0, 1152, 26, 6912, 262144),
      size("4B", 4.3, 2560, 34, 10240, 262144),
      size("12B", 12.2, 3840, 48, 15360, 262144),
      size("27B", 27.4, 5376, 62, 21504, 262144),
    ],
  },
  {
    id: "olmo2",
    label: "OLMo 2",
    pattern: /^allenai\/OLMo-2-/i,
    examples: ["allenai/OLMo-2-1124-7B", "allenai/OLMo-2-1124-13B-Instruct"],
    template: FAMILY_TEMPLATES.olmo2,
    ownTemplate: false,
    loraTargets: PROJECTIONS,
    defaults: PAPER,
    licence: "Apache-2.0 (fully open: data and checkpoints too)",
    gated: false,
    note: "not gated",
    sizes: [
      size("1B", 1.48, 2048, 16, 8192, 100352),
      size("7B", 7.3, 4096, 32, 11008, 100352),
      size("13B", 13.7, 5120, 40, 13824, 100352),
      size("32B", 32.2, 5120, 64, 27648, 100352),
    ],
  },
  {
    id: "mistral",
    label: "Mistral 7B and Nemo",
    pattern: /^mistralai\/(Mistral-7B|Mistral-Nemo)-/i,
    examples: ["mistralai/Mistral-7B-v0.3", "mistralai/Mistral-Nemo-Base-2407"],
    template: FAMILY_TEMPLATES.mistral,
    ownTemplate: false,
    loraTargets: PROJECTIONS,
    defaults: PAPER,
    licence: "Apache-2.0",
    gated: false,
    note: "some repositories ask to share contact details on the Hub (granted at once)",
    sizes: [size("7B", 7.25, 4096, 32, 14336, 32768), size("12B", 12.2, 5120, 40, 14336, 131072)],
  },
  {
    id: "mistral-small",
    label: "Mistral Small 3.x",
    pattern: /^mistralai\/Mistral-Small-(24B|3)/i,
    examples: ["mistralai/Mistral-Small-24B-Base-2501"],
    template: FAMILY_TEMPLATES["mistral-small"],
    ownTemplate: false,
    loraTargets: PROJECTIONS,
    defaults: PAPER,
    licence: "Apache-2.0",
    gated: false,
    note: "some repositories ask to share contact details on the Hub (granted at once)",
    sizes: [size("24B", 23.6, 5120, 40, 32768, 131072)],
  },
];

const byId = new Map(BASES.map((b) => [b.id, b]));

/** The family of a Hugging Face id, or undefined (a local path, an unlisted family). */
export function baseFamilyOf(model: string): BaseFamily | undefined {
  return BASES.find((b) => b.pattern.test(model));
}

/**
 * The family a setting's base model trains as: an explicit `family` wins (a local path, a
 * renamed copy), else the id's pattern; neither is an error naming the setting.
 */
export function resolveBaseFamily(model: string, setting: string, family?: string): BaseFamily {
  const known = BASE_FAMILIES.join(", ");
  if (family !== undefined) {
    if (!isBaseFamilyId(family))
      throw new SpecsciError(`${setting}: unknown base family "${family}"`, {
        hint: `use one of ${known} (\`specsci train bases\` lists them)`,
      });
    return byId.get(family) as BaseFamily;
  }
  const found = baseFamilyOf(model);
  if (!found)
    throw new SpecsciError(`${setting}: "${model}" is not a known base-model family`, {
      hint: `the known families are ${known} (\`specsci train bases\`); for a local path or a copy, name its family with base_family`,
    });
  return found;
}

/** The published size an id names ("Llama-3.1-8B" → 8B), if the family lists it. */
export function baseSizeOf(family: BaseFamily, model: string): BaseSize | undefined {
  const named = model.match(/(\d+(?:\.\d+)?)B(?![a-z])/i)?.[1];
  return named === undefined
    ? undefined
    : family.sizes.find((s) => s.size.toLowerCase() === `${named}b`.toLowerCase());
}

export interface MemoryEstimate {
  weightsGiB: number;
  loraGiB: number;
  activationsGiB: number;
  totalGiB: number;
}

const GiB = 1024 ** 3;

/**
 * GPU memory to LoRA-train one size on one GPU, a rough lower bound (no sharding, no offload):
 * - weights: params × 2 bytes (bf16, frozen);
 * - LoRA: r × layers × (4 attention projections × 2·hidden + 3 MLP projections × (hidden + ffn))
 *   trainable parameters × 16 bytes (fp32 weight, gradient and two Adam moments), taking the
 *   key/value projections as square (an overestimate under grouped-query attention);
 * - activations, with gradient checkpointing: each layer's input kept, tokens × hidden × layers ×
 *   2 bytes, plus the fp32 logits, tokens × vocab × 4 bytes (large for 262k-word Gemma);
 * where tokens = sequence_len × micro_batch_size. A full fine-tune is not estimated here.
 */
export function memoryEstimate(
  s: BaseSize,
  h: { lora_r: number; sequence_len: number; micro_batch_size: number },
): MemoryEstimate {
  const weights = s.params * 1e9 * 2;
  const loraParams = h.lora_r * s.layers * (4 * 2 * s.hidden + 3 * (s.hidden + s.ffn));
  const lora = loraParams * 16;
  const tokens = h.sequence_len * h.micro_batch_size;
  const activations = tokens * s.hidden * s.layers * 2 + tokens * s.vocab * 4;
  return {
    weightsGiB: weights / GiB,
    loraGiB: lora / GiB,
    activationsGiB: activations / GiB,
    totalGiB: (weights + lora + activations) / GiB,
  };
}

/** The memory estimate's assumptions in `train bases`: the plan defaults. */
export const ESTIMATE_AT = { lora_r: 64, sequence_len: 4096, micro_batch_size: 1 };

/** A family as `specsci train bases --json` prints it. */
export function describeBase(b: BaseFamily) {
  const t = b.template;
  return {
    family: b.id,
    label: b.label,
    hf_ids: b.pattern.source,
    examples: b.examples,
    chat_template: t.jinja,
    trains_with: b.ownTemplate
      ? "the tokenizer's own template (axolotl chat_template: tokenizer_default)"
      : "this template (axolotl chat_template: jinja)",
    end_of_turn: t.endOfTurn,
    tokenizer:
      t.tokenizer.kind === "packaged"
        ? { package: t.tokenizer.package, approximate: false }
        : { package: t.tokenizer.package, approximate: true, why: t.tokenizer.why },
    lora_targets: b.loraTargets,
    defaults: b.defaults,
    licence: b.licence,
    gated: b.gated,
    note: b.note,
    memory_estimate_at: ESTIMATE_AT,
    sizes: b.sizes.map((s) => ({
      ...s,
      memory_gib: Number(memoryEstimate(s, ESTIMATE_AT).totalGiB.toFixed(1)),
    })),
  };
}
