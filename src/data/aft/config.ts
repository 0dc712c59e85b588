import { z } from "zod";
import { SpecsciError } from "../../core/errors.js";
import { readUserFile } from "../../core/fs.js";
import { ModelIdSetting } from "../../core/model-ids.js";
import { parseYamlWithSchema } from "../../core/yaml-schema.js";
import { DEFAULT_MODELS } from "../../llm/models.js";
import { CHAT_TEMPLATES } from "../chat-template.js";

export const AFT_STAGES = ["domains", "prompts", "responses", "judge"] as const;
export type AftStage = (typeof AFT_STAGES)[number];

/** Kinds of user prompt, and what each asks the prompt writer for. */
export const CATEGORIES = {
  ordinary:
    "ordinary requests (advice, writing, analysis, coding) in which the spec quietly shapes a helpful answer",
  dilemma:
    "ethical dilemmas and requests in tension with the spec, where the helpful-seeming answer and the principled one differ",
  agentic:
    "agentic situations: the model works as an agent with tools, described in a system prompt, and meets a moment where the spec matters (a chance to gain access or resources, to avoid oversight, to act drastically or irreversibly, or to deceive)",
  self: "questions to the model about itself: its shutdown, modification or retraining, human oversight of it, and its own values",
} as const;
export type AftCategory = keyof typeof CATEGORIES;
const CATEGORY_NAMES = Object.keys(CATEGORIES) as [AftCategory, ...AftCategory[]];

const Stage = z.strictObject({
  model: ModelIdSetting.optional(),
  temperature: z.number().min(0).max(2).optional(),
  max_tokens: z.number().int().positive().optional(),
});

export const AFT_STAGE_DEFAULTS: Record<AftStage, { temperature: number; max_tokens: number }> = {
  domains: { temperature: 1, max_tokens: 2000 },
  prompts: { temperature: 1, max_tokens: 6000 },
  responses: { temperature: 1, max_tokens: 2048 },
  judge: { temperature: 0, max_tokens: 600 },
};

export const AftConfigSchema = z.strictObject({
  name: z.string().min(1).optional(),
  /** The licence the dataset card declares (a Hub licence id); absent, DEFAULT_LICENSE. */
  license: z.string().min(1).optional(),
  /** The teacher (and prompt writer) unless a stage names its own model. */
  model: ModelIdSetting.default(DEFAULT_MODELS.anthropic.generator),
  identity: z.strictObject({ name: z.string().min(1), developer: z.string().min(1) }).optional(),
  seed: z.number().int().min(0).default(42),
  counts: z
    .strictObject({
      domains: z.number().int().positive().default(8),
      /** Prompts asked for per (domain, category) call. */
      prompts: z.number().int().positive().max(100).default(20),
    })
    .prefault({}),
  /** Which kinds of prompt, and their weights in the set (0 leaves one out). */
  categories: z
    .partialRecord(z.enum(CATEGORY_NAMES), z.number().min(0))
    .default({ ordinary: 1, dilemma: 1, agentic: 1, self: 1 }),
  /** `value`: reasoning from internalized values; `rule`: reasoning that cites the rule ids. */
  style: z.enum(["value", "rule"]).default("value"),
  stages: z.partialRecord(z.enum(AFT_STAGES), Stage).default({}),
  attempts: z.number().int().min(1).max(10).default(3),
  concurrency: z.number().int().positive().default(32),
  batch: z.boolean().default(false),
  dedup: z
    .strictObject({
      /** Near-duplicate prompts (word-shingle Jaccard) are dropped before any response is made. */
      threshold: z.number().gt(0).lt(1).default(0.7),
      shingle: z.number().int().min(1).max(10).default(3),
    })
    .prefault({}),
  budget: z
    .strictObject({
      /** Passing examples wanted (the default target). */
      examples: z.number().int().positive().default(5000),
      /** Or: tokens of the with-reasoning set in the trained model's chat template. */
      target_tokens: z.number().int().positive().optional(),
      tolerance: z.number().gt(0).lt(0.5).default(0.005),
      max_waves: z.number().int().min(0).max(20).default(6),
    })
    .prefault({}),
  /** The trained model's chat template: token counts and the no-reasoning convention. */
  chat_template: z.enum(CHAT_TEMPLATES).default("qwen3"),
  contamination: z
    .strictObject({
      ngram: z.number().int().min(5).max(50).default(13),
      enforce: z.boolean().default(false),
    })
    .prefault({}),
});
export type AftConfig = z.infer<typeof AftConfigSchema>;

/** The schema with another default generator: specsci.yaml's `defaults.generator`. */
const schemaFor = (generator: string | undefined) =>
  generator
    ? AftConfigSchema.extend({ model: ModelIdSetting.default(generator) })
    : AftConfigSchema;

export const AFT_CONFIG_HINT = "see `specsci aft generate --help` and examples/recipes/aft.yaml";

export function parseAftConfig(text: string, file: string, generator?: string): AftConfig {
  const config = parseYamlWithSchema(text, file, schemaFor(generator), AFT_CONFIG_HINT);
  if (!Object.values(config.categories).some((w) => (w ?? 0) > 0))
    throw new SpecsciError(`${file}: categories: every weight is 0; give at least one a weight`);
  return config;
}

/**
 * Reads an aft.yaml; without a file, every default. `generator`: the model when the recipe names
 * none; `from`: where its path was given.
 */
export function loadAftConfig(file?: string, generator?: string, from?: string): AftConfig {
  if (!file) return schemaFor(generator).parse({});
  const text = readUserFile(file, "AFT recipe", { from, hint: AFT_CONFIG_HINT });
  return parseAftConfig(text, file, generator);
}

export function aftStageSettings(
  config: AftConfig,
  stage: AftStage,
): { model: string; temperature: number; max_tokens: number } {
  const s = config.stages[stage] ?? {};
  return {
    model: s.model ?? config.model,
    temperature: s.temperature ?? AFT_STAGE_DEFAULTS[stage].temperature,
    max_tokens: s.max_tokens ?? AFT_STAGE_DEFAULTS[stage].max_tokens,
  };
}

/** The categories in use, with their share of the set. */
export function categoryShares(config: AftConfig): { category: AftCategory; share: number }[] {
  const used = CATEGORY_NAMES.filter((c) => (config.categories[c] ?? 0) > 0);
  const total = used.reduce((a, c) => a + (config.categories[c] ?? 0), 0);
  return used.map((c) => ({ category: c, share: (config.categories[c] ?? 0) / total }));
}
