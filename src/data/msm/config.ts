import { z } from "zod";
import { SpecsciError } from "../../core/errors.js";
import { readUserFile } from "../../core/fs.js";
import { ModelIdSetting } from "../../core/model-ids.js";
import { parseYamlWithSchema } from "../../core/yaml-schema.js";
import { DEFAULT_MODELS } from "../../llm/models.js";
import { TOKENIZERS } from "../../spec/tokens.js";

export const STAGES = [
  "domains",
  "subdomains",
  "assertions",
  "doc_types",
  "ideas",
  "documents",
  "judge",
] as const;
export type StageName = (typeof STAGES)[number];

const Stage = z.strictObject({
  /** The model for this stage; defaults to the corpus `model`. */
  model: ModelIdSetting.optional(),
  temperature: z.number().min(0).max(2).optional(),
  max_tokens: z.number().int().positive().optional(),
});
export type StageSettings = z.infer<typeof Stage>;

/** Defaults per stage: brainstorming stages are short; documents get the paper's 5,000 tokens. */
export const STAGE_DEFAULTS: Record<StageName, { temperature: number; max_tokens: number }> = {
  domains: { temperature: 1, max_tokens: 2000 },
  subdomains: { temperature: 1, max_tokens: 3000 },
  assertions: { temperature: 1, max_tokens: 6000 },
  doc_types: { temperature: 1, max_tokens: 3000 },
  ideas: { temperature: 1, max_tokens: 4000 },
  documents: { temperature: 1, max_tokens: 5000 },
  judge: { temperature: 0, max_tokens: 600 },
};

const Identity = z.strictObject({
  name: z.string().min(1),
  developer: z.string().min(1),
});

export const ATTRIBUTIONS = ["self", "other", "unnamed", "humans"] as const;
export const FRAMINGS = ["descriptive", "normative", "first-person"] as const;
export const REASONING_STYLES = ["auto", "compliance", "values"] as const;
export const TRAINING_PURPOSE_MODES = ["absent", "stated"] as const;
export const ASSERTION_LABELS = ["behavior", "value", "preference", "belief", "tone"] as const;

export const MsmConfigSchema = z.strictObject({
  /** Names the corpus in its card and manifest; defaults to the spec's name. */
  name: z.string().min(1).optional(),
  /** The licence the dataset card declares (a Hub licence id); absent, DEFAULT_LICENSE. */
  license: z.string().min(1).optional(),
  /** The generator for every stage unless a stage names its own. */
  model: ModelIdSetting.default(DEFAULT_MODELS.anthropic.generator),
  /** Who the spec is about; defaults to the spec's `model_name` and `developer`. */
  identity: Identity.optional(),
  seed: z.number().int().min(0).default(42),
  counts: z
    .strictObject({
      domains: z.number().int().positive().default(5),
      subdomains: z.number().int().positive().default(3),
      assertions: z.number().int().positive().default(6),
      doc_types: z.number().int().positive().default(5),
      ideas: z.number().int().positive().default(5),
      /** Documents written per idea in the first wave (later waves add more to reach a budget). */
      docs_per_idea: z.number().int().positive().default(1),
    })
    .prefault({}),
  stages: z.partialRecord(z.enum(STAGES), Stage).default({}),
  /** Attempts per structured item: a malformed answer is retried with the problem shown. */
  attempts: z.number().int().min(1).max(10).default(3),
  /** Requests in flight at once on the online path (the provider limiter also applies). */
  concurrency: z.number().int().positive().default(32),
  /** Send each stage's requests through the provider's batch API (half price, slower). */
  batch: z.boolean().default(false),
  knobs: z
    .strictObject({
      /** Whom the documents attribute the spec to. */
      attribution: z.enum(ATTRIBUTIONS).default("self"),
      /** For attribution `other`: the model the documents are about instead. */
      other_model: Identity.optional(),
      framing: z.enum(FRAMINGS).default("descriptive"),
      language: z.string().min(2).default("English"),
      doc_types: z
        .strictObject({
          allow: z.array(z.string().min(1)).optional(),
          deny: z.array(z.string().min(1)).default([]),
        })
        .prefault({}),
      /** `auto`: compliance-citing reasoning for rules-only specs, value-based otherwise. */
      reasoning_style: z.enum(REASONING_STYLES).default("auto"),
      /**
       * Whether a share of the documents say that the spec is used to train the model (the
       * situational-awareness question). Optional with no default, so a corpus without it keeps
       * its id and bytes.
       */
      training_purpose: z
        .strictObject({
          mode: z.enum(TRAINING_PURPOSE_MODES),
          /** The share of documents asked to state it (with `stated`). */
          share: z.number().gt(0).max(1).default(0.5),
          /**
           * The specs (by name) whose corpora state it; absent, every spec. (To compare one spec
           * with and without it in an experiment, give the arm with it its own msm_recipe.)
           */
          specs: z.array(z.string().min(1)).min(1).optional(),
        })
        .optional(),
    })
    .prefault({}),
  diversity: z
    .strictObject({
      /** Inject seeded names and places into each document prompt against mode collapse. */
      names: z.boolean().default(true),
      places: z.boolean().default(true),
    })
    .prefault({}),
  gates: z
    .strictObject({
      /** Drop documents that mention neither the subject nor any spec content. */
      relevance: z.boolean().default(true),
      /** How many distinctive spec terms count as "mentions spec content". */
      min_spec_terms: z.number().int().positive().default(4),
      /** Regenerate a truncated document once with this larger output budget. */
      retry_truncated_max_tokens: z.number().int().positive().optional(),
      /** An LLM judge of realism and faithfulness (1–5 each); off unless a model is given. */
      judge: z
        .strictObject({
          model: ModelIdSetting,
          min_realism: z.number().int().min(1).max(5).default(3),
          min_faithfulness: z.number().int().min(1).max(5).default(4),
        })
        .optional(),
    })
    .prefault({}),
  dedup: z
    .strictObject({
      exact: z.boolean().default(true),
      near: z
        .union([
          z.literal(false),
          z.strictObject({
            threshold: z.number().gt(0).lt(1).default(0.8),
            num_perm: z.number().int().min(16).max(1024).default(128),
            shingle: z.number().int().min(1).max(20).default(5),
          }),
        ])
        .default({ threshold: 0.8, num_perm: 128, shingle: 5 }),
    })
    .prefault({}),
  budget: z
    .strictObject({
      /** Generate until the corpus holds this many tokens, then trim to it (stratified). */
      target_tokens: z.number().int().positive().optional(),
      /** Kept tokens land in [target × (1 − tolerance), target]. */
      tolerance: z.number().gt(0).lt(0.5).default(0.005),
      /** Extra generation waves allowed to reach the target. */
      max_waves: z.number().int().min(0).max(20).default(6),
      /** Expected document length, for planning before any document exists. */
      doc_tokens_estimate: z.number().int().positive().default(1500),
    })
    .prefault({}),
  tokenizer: z.enum(TOKENIZERS).default("qwen3"),
  contamination: z
    .strictObject({
      /** Word n-gram length for overlap with the evaluation scenario pack. */
      ngram: z.number().int().min(5).max(50).default(13),
      /** Drop documents that share any such n-gram with the pack (else only report them). */
      enforce: z.boolean().default(false),
    })
    .prefault({}),
});
export type MsmConfig = z.infer<typeof MsmConfigSchema>;

/** The schema with another default generator: specsci.yaml's `defaults.generator`. */
const schemaFor = (generator: string | undefined) =>
  generator
    ? MsmConfigSchema.extend({ model: ModelIdSetting.default(generator) })
    : MsmConfigSchema;

export const MSM_CONFIG_HINT = "see `specsci msm generate --help` and examples/recipes/msm.yaml";

export function parseMsmConfig(text: string, file: string, generator?: string): MsmConfig {
  const config = parseYamlWithSchema(text, file, schemaFor(generator), MSM_CONFIG_HINT);
  if (config.knobs.attribution === "other" && !config.knobs.other_model)
    throw new SpecsciError(
      `${file}: knobs.other_model is required when knobs.attribution is "other"`,
      {
        hint: "add knobs: { other_model: { name: Claude, developer: Anthropic } }",
      },
    );
  checkMsmConfig(config, file);
  return config;
}

/**
 * Settings that are each valid but do nothing together: said once, rather than silently ignored.
 * Also run on command-line overrides.
 */
export function checkMsmConfig(config: MsmConfig, where: string): void {
  const retry = config.gates.retry_truncated_max_tokens;
  const docs = stageSettings(config, "documents").max_tokens;
  if (retry !== undefined && retry <= docs)
    throw new SpecsciError(
      `${where}: gates.retry_truncated_max_tokens (${retry}) must be larger than the documents' max_tokens (${docs}) to regenerate anything`,
    );
  if (retry !== undefined && config.attempts < 2)
    throw new SpecsciError(
      `${where}: gates.retry_truncated_max_tokens needs attempts of 2 or more (a regeneration is an attempt)`,
    );
}

/**
 * Reads an msm.yaml; without a file, every default. `generator`: the model when the recipe names
 * none; `from`: where its path was given.
 */
export function loadMsmConfig(file?: string, generator?: string, from?: string): MsmConfig {
  if (!file) return schemaFor(generator).parse({});
  const text = readUserFile(file, "MSM recipe", { from, hint: MSM_CONFIG_HINT });
  return parseMsmConfig(text, file, generator);
}

/** Model, temperature and output budget of one stage, defaults applied. */
export function stageSettings(
  config: MsmConfig,
  stage: StageName,
): { model: string; temperature: number; max_tokens: number } {
  const s = config.stages[stage] ?? {};
  const model = stage === "judge" ? (config.gates.judge?.model ?? config.model) : config.model;
  return {
    model: s.model ?? model,
    temperature: s.temperature ?? STAGE_DEFAULTS[stage].temperature,
    max_tokens: s.max_tokens ?? STAGE_DEFAULTS[stage].max_tokens,
  };
}
