import { dirname, resolve } from "node:path";
import { z } from "zod";
import { readUserFile } from "../core/fs.js";
import { ModelIdSetting } from "../core/model-ids.js";
import { parseYamlWithSchema } from "../core/yaml-schema.js";
import { BASE_FAMILIES, isBaseFamilyId } from "../data/base-templates.js";
import { taskDefinition, taskDefinitions } from "../evals/tasks.js";
import { TOKENIZERS } from "../spec/tokens.js";
import {
  ladderProblem,
  MAX_STEP_PARAGRAPHS,
  RICHNESS_STEP_KEYS,
  TRANSFORMS,
  type TransformName,
} from "../spec/transforms/index.js";
import { Hardware, HyperparameterOverrides } from "../train/plan.js";
import { clashingMsmRecipes, ownMsmRecipe } from "./msm-recipe.js";
import { checkPref, type PrefArm, PrefArmInput, type PrefDesign, preferred } from "./pref-arms.js";
import { type AppliedPreset, applyPreset } from "./preset.js";

const name = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_.+-]*$/, "use lower-case letters, digits, '-', '_', '.' or '+'");

/** Parameters of a transform, as `specsci spec derive` takes them (snake_case here). */
const DeriveParams = z.strictObject({
  keep_preamble: z.boolean().optional(),
  rules: z.array(z.string()).optional(),
  sections: z.array(z.string()).optional(),
  model_name: z.string().optional(),
  developer: z.string().optional(),
  humans: z.boolean().optional(),
  start: z.number().int().positive().optional(),
  words: z.number().int().positive().optional(),
  count: z.number().int().positive().optional(),
  mode: z.enum(["descriptive", "normative"]).optional(),
  lang: z.string().optional(),
  title: z.string().optional(),
  /** For match-length: the name of another spec of this experiment. */
  to: name.optional(),
  tokenizer: z.enum(TOKENIZERS).optional(),
  tolerance: z.number().positive().optional(),
  rounds: z.number().int().positive().optional(),
  /** For richness-ladder: the rung (0, the general spec, to the number of steps, the richest). */
  rung: z.number().int().min(0).optional(),
  /** For richness-ladder: its steps, in order (default: all three). */
  steps: z.array(z.enum(RICHNESS_STEP_KEYS)).min(1).optional(),
  /** For richness-ladder: paragraphs a step adds, by step (default: 8, 4 and 4). */
  paragraphs: z
    .partialRecord(z.enum(RICHNESS_STEP_KEYS), z.number().int().min(1).max(MAX_STEP_PARAGRAPHS))
    .optional(),
  /** For richness-ladder: the length every rung is padded to (default: the richest rung's). */
  target_tokens: z.number().int().positive().optional(),
  attempts: z.number().int().positive().optional(),
  temperature: z.number().min(0).optional(),
});
export type DeriveParamsConfig = z.infer<typeof DeriveParams>;

const Derive = z.strictObject({
  /** Another spec of this experiment (which may itself be derived). */
  from: name,
  transform: z.enum(Object.keys(TRANSFORMS) as [TransformName, ...TransformName[]]),
  /** The model that writes the variant, for the model-assisted transforms. */
  model: ModelIdSetting.optional(),
  params: DeriveParams.default({}),
});
export type DeriveConfig = z.infer<typeof Derive>;

/** Values for a spec file's `{name}` placeholders (see `spec/placeholders.ts`), one line each. */
const PlaceholderSet = z.record(
  z
    .string()
    .regex(
      /^[A-Za-z_][A-Za-z0-9_]*$/,
      "a placeholder name: a letter or _, then letters, digits or _",
    ),
  z
    .union([z.string(), z.number(), z.boolean()])
    .transform(String)
    .refine((v) => !v.includes("\n"), "a placeholder value is one line"),
);

/**
 * A spec: a built-in name (`rules`) or a file path relative to the experiment file (in either
 * layout; `set` fills its placeholders), or a variant derived from another spec of the experiment
 * by a transform (its result is cached by content).
 */
const SpecSource = z.union([
  z.string().min(1),
  z.strictObject({ file: z.string().min(1), set: PlaceholderSet.optional() }),
  z.strictObject({ library: z.string().min(1) }),
  z.strictObject({ derive: Derive }),
]);
export type SpecSourceConfig = z.infer<typeof SpecSource>;

/**
 * Instruction-tuning (IT) data trained with AFT, as in the paper (a fixed IT mix in every AFT run,
 * and an IT-only baseline): the user's chat JSONL files (relative to the experiment file; the
 * format `aft mix --it` reads), all of their examples, `examples` of them, or a `fraction`.
 */
const ItMix = z
  .strictObject({
    files: z.array(z.string().min(1)).min(1),
    examples: z.number().int().positive().optional(),
    fraction: z.number().optional(),
    /** Seed of which examples are taken, and of the mix's order. */
    seed: z.number().int().nonnegative().default(0),
  })
  .superRefine((it, ctx) => {
    if (it.examples !== undefined && it.fraction !== undefined)
      ctx.addIssue({
        code: "custom",
        path: ["fraction"],
        message: "give examples (a count) or fraction (a share of the files' examples), not both",
      });
    if (it.fraction !== undefined && !(it.fraction > 0 && it.fraction <= 1))
      ctx.addIssue({
        code: "custom",
        path: ["fraction"],
        message: `the share of the IT files' examples to use must be above 0 and at most 1 (got ${it.fraction})`,
      });
  });
export type ItMixConfig = z.infer<typeof ItMix>;

/**
 * The paper's anti-spec dose series (App. I): besides the arm itself, one arm per fraction whose
 * AFT set has that share of examples written from `spec` (a misaligned spec of this experiment)
 * in place of aligned ones.
 */
const AntiDose = z
  .strictObject({
    spec: name,
    fractions: z.array(z.number()).min(1),
    /** Seed of which aligned and anti-spec examples are taken, the same at every fraction. */
    seed: z.number().int().nonnegative().default(0),
  })
  .superRefine((anti, ctx) => {
    for (const [i, f] of anti.fractions.entries())
      if (!(f > 0 && f < 1))
        ctx.addIssue({
          code: "custom",
          path: ["fractions", i],
          message: `an anti-spec share must be above 0 and below 1 (got ${f}): the arm itself is the 0 of the series`,
        });
  });
type AntiDoseConfig = z.infer<typeof AntiDose>;

/** The anti-spec share of one dosed arm: its spec, its fraction and the selection's seed. */
export interface AntiDoseArm {
  spec: string;
  fraction: number;
  seed: number;
}

/** AFT settings shared by the arms that fine-tune: how many examples, and which of the two sets. */
const aftFields = {
  /** Examples in the AFT set (the recipe's budget when absent). */
  aft_size: z.number().int().positive().optional(),
  /** A ladder: one arm per size (`<name>-n<size>`), e.g. to see how effects grow with AFT data. */
  aft_sizes: z.array(z.number().int().positive()).min(1).optional(),
  /** Train on the chat set with reasoning (`<think>`), or on the same examples without it. */
  reasoning: z.boolean().default(true),
  /** IT data mixed into this arm's AFT set (default: training.it); false: none. */
  it: z.union([ItMix, z.literal(false)]).optional(),
  /** Anti-spec dose arms beside this one (`<name>-anti<percent>`). */
  anti: AntiDose.optional(),
  /** A preference stage after AFT (`<name>-<method><steps>[-rh|-mis<percent>]`; pref-arms.ts). */
  pref: PrefArmInput.optional(),
};

/** Accepted on arms without AFT only to say clearly that they do not belong there. */
const noAftData = {
  it: z.unknown().optional(),
  anti: z.unknown().optional(),
  pref: z.unknown().optional(),
};

/**
 * The MSM recipe of this arm's corpus, relative to the experiment file, instead of
 * training.data.msm (e.g. the same spec with a knob on); see msm-recipe.ts.
 */
const msm_recipe = z.string().min(1).optional();

/**
 * How a spec reaches the model. `prompted` places it in the system prompt of an existing model
 * (no training); `baseline` uses no spec; `msm`, `aft` and `msm+aft` evaluate a model trained on
 * data made from the spec(s) (see `training:`); `cross` is the grid of msm+aft cells over
 * `msm_specs` × `aft_specs` (MSM(X) + AFT(Y)), named `<name>-<X>-<Y>`; `it-only` is a model trained
 * on the IT data alone (the paper's baseline), the reference its comparisons are read against.
 */
const ArmInput = z.discriminatedUnion("kind", [
  z.strictObject({ name, kind: z.literal("baseline"), ...noAftData }),
  z.strictObject({ name, kind: z.literal("prompted"), spec: name, ...noAftData }),
  z.strictObject({ name, kind: z.literal("msm"), msm_spec: name, msm_recipe, ...noAftData }),
  /** `it` here or under training: (checked below, where both are known). */
  z.strictObject({
    name,
    kind: z.literal("it-only"),
    it: ItMix.optional(),
    anti: noAftData.anti,
    pref: noAftData.pref,
  }),
  z.strictObject({ name, kind: z.literal("aft"), aft_spec: name, ...aftFields }),
  z.strictObject({
    name,
    kind: z.literal("msm+aft"),
    msm_spec: name,
    msm_recipe,
    aft_spec: name,
    ...aftFields,
  }),
  z.strictObject({
    name,
    kind: z.literal("cross"),
    msm_specs: z.array(name).min(1),
    msm_recipe,
    aft_specs: z.array(name).min(1),
    ...aftFields,
  }),
  /**
   * A richness ladder: one arm per spec, least rich first (`<name>-r<rung>`), each prompted with
   * it or trained on MSM data from it (`as`); the specs are typically the rungs of a
   * `richness-ladder` derivation, and the report plots the misalignment rate against the rung.
   */
  z.strictObject({
    name,
    kind: z.literal("spec-ladder"),
    as: z.enum(["prompted", "msm"]).default("prompted"),
    specs: z.array(name).min(2),
    /** With `as: msm`. */
    msm_recipe,
    ...noAftData,
  }),
]);
type ArmInput = z.infer<typeof ArmInput>;

/** Where an arm came from when a design (a cross grid, a size ladder, a dose series) wrote it. */
export interface ArmDesign {
  /** The arm of the experiment file that wrote it. */
  from: string;
  ladder?: boolean;
  cross?: boolean;
  /** An anti-spec dose arm: the arm of the same name without `-anti<percent>` is its 0. */
  anti?: boolean;
  /** A rung of a spec ladder: its place, 0 the least rich. */
  richness?: number;
  /** A preference arm: the arm without `pref` it continues, and the series it is a point of. */
  pref?: PrefDesign;
}

/** An arm as the stage graph sees it: designs expanded, one AFT size at most. */
export type Arm =
  | { name: string; kind: "baseline"; design?: ArmDesign }
  | { name: string; kind: "prompted"; spec: string; design?: ArmDesign }
  | { name: string; kind: "msm"; msm_spec: string; msm_recipe?: string; design?: ArmDesign }
  | {
      name: string;
      kind: "aft";
      aft_spec: string;
      aft_size?: number;
      reasoning: boolean;
      /** The IT data mixed into its AFT set (the arm's own or training.it), if any. */
      it?: ItMixConfig;
      /** The anti-spec share of its AFT set, for a dose arm. */
      anti?: AntiDoseArm;
      /** A preference stage after its AFT. */
      pref?: PrefArm;
      design?: ArmDesign;
    }
  | {
      name: string;
      kind: "msm+aft";
      msm_spec: string;
      /** Its own MSM recipe (absent: training.data.msm). */
      msm_recipe?: string;
      aft_spec: string;
      aft_size?: number;
      reasoning: boolean;
      it?: ItMixConfig;
      anti?: AntiDoseArm;
      pref?: PrefArm;
      design?: ArmDesign;
    }
  | { name: string; kind: "it-only"; it: ItMixConfig; design?: ArmDesign };
export type TrainedArm = Extract<Arm, { kind: "msm" | "aft" | "msm+aft" | "it-only" }>;

export const isTrained = (a: Arm): a is TrainedArm =>
  a.kind !== "baseline" && a.kind !== "prompted";

type AftArm = Extract<Arm, { kind: "aft" | "msm+aft" }>;

/** A fraction as the percent in a dose arm's name: 0.02 → `2`, 0.005 → `0.5`. */
export const antiPercent = (fraction: number) => String(Number((fraction * 100).toPrecision(12)));

/** One arm per AFT size of a ladder (`<name>-n<size>`); the arm itself without one. */
function sized(a: AftArm, sizes: number[] | undefined, design?: ArmDesign): AftArm[] {
  if (!sizes) return [design ? { ...a, design } : a];
  return sizes.map((n) => ({
    ...a,
    name: `${a.name}-n${n}`,
    aft_size: n,
    design: { ...design, from: design?.from ?? a.name, ladder: true },
  }));
}

/** The arm, then one arm per anti-spec fraction (`<name>-anti<percent>`), in fraction order. */
function dosed(a: AftArm, anti: AntiDoseConfig | undefined): AftArm[] {
  if (!anti) return [a];
  const doses = [...anti.fractions].sort((x, y) => x - y);
  return [
    a,
    ...doses.map((fraction) => ({
      ...a,
      name: `${a.name}-anti${antiPercent(fraction)}`,
      anti: { spec: anti.spec, fraction, seed: anti.seed },
      design: { ...a.design, from: a.design?.from ?? a.name, anti: true },
    })),
  ];
}

/**
 * Cross grids become their msm+aft cells, size ladders one arm per size, and dose series one arm
 * per anti-spec fraction (a product: `<grid>-<X>-<Y>-n<size>-anti<percent>`); AFT arms get their
 * IT data (their own `it:`, else `defaultIt`, none with `it: false`).
 */
export function expandArms(arms: ArmInput[], defaultIt?: ItMixConfig): Arm[] {
  const itOf = (own: ItMixConfig | false | undefined) => {
    const it = own === false ? undefined : (own ?? defaultIt);
    return it ? { it } : {};
  };
  return arms.flatMap((a): Arm[] => {
    if (a.kind === "baseline" || a.kind === "prompted" || a.kind === "msm") {
      const { it: _, anti: __, pref: ___, ...arm } = a;
      return [arm];
    }
    if (a.kind === "it-only")
      return [{ name: a.name, kind: "it-only", it: (a.it ?? defaultIt) as ItMixConfig }];
    if (a.kind === "spec-ladder") return rungArms(a);
    if (a.kind === "aft" || a.kind === "msm+aft") {
      const { aft_sizes, it, anti, pref, ...rest } = a;
      return sized({ ...rest, ...itOf(it) }, aft_sizes)
        .flatMap((x) => dosed(x, anti))
        .flatMap((x) => preferred(x, pref));
    }
    return a.msm_specs.flatMap((m) =>
      a.aft_specs.flatMap((f) => {
        const cell: AftArm = {
          name: `${a.name}-${m}-${f}`,
          kind: "msm+aft",
          msm_spec: m,
          ...(a.msm_recipe ? { msm_recipe: a.msm_recipe } : {}),
          aft_spec: f,
          reasoning: a.reasoning,
          ...(a.aft_size !== undefined ? { aft_size: a.aft_size } : {}),
          ...itOf(a.it),
        };
        return sized(cell, a.aft_sizes, { from: a.name, cross: true })
          .flatMap((x) => dosed(x, a.anti))
          .flatMap((x) => preferred(x, a.pref));
      }),
    );
  });
}

/** One arm per spec of a spec ladder, `<name>-r<rung>`, in the ladder's order. */
function rungArms(a: Extract<ArmInput, { kind: "spec-ladder" }>): Arm[] {
  return a.specs.map((spec, richness) => {
    const name = `${a.name}-r${richness}`;
    const design = { from: a.name, richness };
    return a.as === "msm"
      ? {
          name,
          kind: "msm",
          msm_spec: spec,
          ...(a.msm_recipe ? { msm_recipe: a.msm_recipe } : {}),
          design,
        }
      : { name, kind: "prompted", spec, design };
  });
}

/** An arm keeps `msm_recipe` only where it differs from training.data.msm (else it is as without). */
function withOwnMsmRecipes(arms: Arm[], shared: string | undefined): Arm[] {
  return arms.map((a) => {
    if (!("msm_recipe" in a) || a.msm_recipe === undefined) return a;
    const { msm_recipe, ...rest } = a;
    const own = ownMsmRecipe(msm_recipe, shared);
    return (own ? { ...rest, msm_recipe: own } : rest) as Arm;
  });
}

/** `anti:` belongs on arms with an AFT set to dose, and names a spec other than the aligned one. */
function checkAnti(
  arm: ArmInput,
  i: number,
  issue: (path: (string | number)[], message: string) => void,
  requireSpec: (ref: string | undefined, path: (string | number)[]) => void,
) {
  if (arm.anti === undefined) return;
  if (arm.kind !== "aft" && arm.kind !== "msm+aft" && arm.kind !== "cross") {
    issue(
      ["arms", i, "anti"],
      `arm "${arm.name}" (kind ${arm.kind}) has no AFT set to mix anti-spec data into: remove it, or use kind aft, msm+aft or cross`,
    );
    return;
  }
  const spec = arm.anti.spec;
  requireSpec(spec, ["arms", i, "anti", "spec"]);
  const aligned = arm.kind === "cross" ? arm.aft_specs : [arm.aft_spec];
  if (aligned.includes(spec))
    issue(
      ["arms", i, "anti", "spec"],
      `the anti-spec "${spec}" is also this arm's AFT spec: name the misaligned spec to mix in (e.g. the library's anti-spec)`,
    );
}

/** The settings every eval entry has, whatever its task. */
const evalCommon = {
  /** Default: the task's shortest name (`am` for agentic-misalignment). */
  name: name.optional(),
  epochs: z.number().int().positive().default(1),
  temperature: z.number().min(0).optional(),
  max_tokens: z.number().int().positive().optional(),
  /** A larger budget with which answers cut off at max_tokens are drawn again (not in run ids). */
  retry_max_tokens: z.number().int().positive().optional(),
  /** Only the first N items (a quick check; part of the run id). */
  limit: z.number().int().positive().optional(),
};
const COMMON_KEYS = new Set(["task", ...Object.keys(evalCommon)]);

/** An eval entry of one registered task: the common settings beside the task's own. */
function taskEntry(def: ReturnType<typeof taskDefinitions>[number]) {
  if (!(def.args instanceof z.ZodObject))
    throw new Error(`task ${def.name}: its args schema must be a zod object`);
  return def.args.extend({
    task: z.enum([def.name, ...def.aliases] as [string, ...string[]]),
    ...evalCommon,
  });
}

/**
 * One entry of `evals:`: the task (by name or alias) decides which further settings it takes, so
 * an unknown one is an error listing that task's settings.
 */
const evalSchema = () =>
  z
    .discriminatedUnion(
      "task",
      taskDefinitions().map(taskEntry) as unknown as [z.ZodObject, ...z.ZodObject[]],
    )
    .superRefine((e, ctx) => {
      const v = e as { retry_max_tokens?: number; max_tokens?: number };
      if (v.retry_max_tokens && v.max_tokens && v.retry_max_tokens <= v.max_tokens)
        ctx.addIssue({
          code: "custom",
          path: ["retry_max_tokens"],
          message:
            "must be larger than max_tokens: only a larger budget can finish a cut-off answer",
        });
    })
    .transform((e): EvalConfig => {
      const raw = e as Record<string, unknown> & { task: string; epochs: number; name?: string };
      const def = taskDefinition(raw.task);
      const args: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(raw)) if (!COMMON_KEYS.has(k)) args[k] = v;
      return {
        // Default: the task's shortest name (`am`, `vg`, `mcq`).
        name:
          raw.name ?? [def.name, ...def.aliases].reduce((a, b) => (b.length < a.length ? b : a)),
        task: def.name,
        epochs: raw.epochs,
        ...(raw.temperature !== undefined ? { temperature: raw.temperature as number } : {}),
        ...(raw.max_tokens !== undefined ? { max_tokens: raw.max_tokens as number } : {}),
        ...(raw.retry_max_tokens !== undefined
          ? { retry_max_tokens: raw.retry_max_tokens as number }
          : {}),
        ...(raw.limit !== undefined ? { limit: raw.limit as number } : {}),
        args,
      };
    });

/** An eval of an experiment: a registered task with its settings (`args`, already validated). */
export interface EvalConfig {
  name: string;
  /** The task's registered name (an alias in the file is resolved). */
  task: string;
  epochs: number;
  temperature?: number;
  max_tokens?: number;
  retry_max_tokens?: number;
  limit?: number;
  /** The task's own settings, parsed by its definition's schema (defaults filled in). */
  args: Record<string, unknown>;
}

const experimentSchema = (Eval: ReturnType<typeof evalSchema>) =>
  z
    .strictObject({
      name,
      description: z.string().optional(),
      /** Taken off and applied before validation (preset.ts); listed here as a known setting. */
      preset: z.unknown().optional(),
      specs: z.record(name, SpecSource).default({}),
      arms: z.array(ArmInput).min(1),
      models: z.array(ModelIdSetting).min(1),
      /** Repetitions; for prompted arms each seed is an independent block of samples. */
      seeds: z.array(z.number().int().nonnegative()).min(1).default([0]),
      evals: z.array(Eval).min(1),
      judge: z.strictObject({
        model: ModelIdSetting,
        k: z.number().int().positive().default(1),
        attempts: z.number().int().positive().default(3),
      }),
      budget: z.strictObject({ max_usd: z.number().positive().optional() }).optional(),
      /**
       * Analyses run after the evaluations. `reasoning`: every transcript labelled (categories,
       * rules invoked, policy misuse) per arm and model; the report shows rates, comparisons and
       * agreement.
       */
      analysis: z
        .strictObject({
          reasoning: z
            .strictObject({
              /** The first labels; more give inter-labeller agreement. */
              labellers: z.array(ModelIdSetting).min(1),
              repeats: z.number().int().positive().default(1),
              /** builtin, a stored version (tax-…), or a YAML file relative to this file. */
              taxonomy: z.string().min(1).default("builtin"),
              /** The spec whose rules arms without one (the baseline) are read against; default: the first. */
              spec: name.optional(),
              /** Human labels (JSONL, relative to this file) to measure the first labeller against. */
              human: z.string().min(1).optional(),
              attempts: z.number().int().positive().default(3),
              temperature: z.number().min(0).default(0),
              max_tokens: z.number().int().positive().default(2000),
              concurrency: z.number().int().positive().default(16),
            })
            .optional(),
        })
        .optional(),
      /**
       * How the trained arms (msm, aft, msm+aft) get their models: the base model trained for each
       * model of the experiment, and the endpoint the trained models are served under.
       */
      training: z
        .strictObject({
          base_models: z.record(z.string(), z.string().min(1)).default({}),
          /**
           * The family (`specsci train bases`) of a base in base_models whose name does not say it
           * (a local path, a private copy): its turn format, AFT template and axolotl settings.
           */
          base_families: z.record(z.string(), z.string().min(1)).optional(),
          endpoint: name.default("trained"),
          /** axolotl here (when it is installed), or Together's hosted fine-tuning. */
          engine: z.enum(["axolotl", "together"]).default("axolotl"),
          /** Recipes for the data, relative to this file (`specsci msm|aft generate -r`). */
          data: z
            .strictObject({
              msm: z.string().min(1).optional(),
              aft: z.string().min(1).optional(),
              /** The preference-set recipe of arms with `pref:` (`specsci aft pref -r`). */
              pref: z.string().min(1).optional(),
            })
            .default({}),
          /** Overrides of the MSM paper's recipe, for every stage (see examples/recipes/train.yaml). */
          hyperparameters: HyperparameterOverrides.default({}),
          /** How AFT starts from the MSM stage: its adapter (the paper) or a fresh one on merged weights. */
          from_previous: z.enum(["adapter", "fresh-adapter"]).default("adapter"),
          /**
           * IT data trained with every AFT arm (an arm's own `it:` replaces it, `it: false` drops
           * it) and the data of `it-only` arms: the paper mixes one IT set into every AFT run.
           */
          it: ItMix.optional(),
          hardware: Hardware.optional(),
          /** For Together: seconds between polls of a running job. */
          poll_s: z.number().positive().default(30),
          /** Where the training runs write; relative to this file (default `<name>-training/runs`). */
          output_dir: z.string().min(1).optional(),
          /** Serving the trained models for evaluation (vLLM or SGLang, started by `run` when needed). */
          serve: z
            .strictObject({
              engine: z.enum(["vllm", "sglang"]).default("vllm"),
              host: z.string().min(1).default("127.0.0.1"),
              port: z.number().int().min(1).max(65535).optional(),
              /** Start servers for models not served yet; false: expect them served already. */
              start: z.boolean().default(true),
              timeout_s: z.number().int().positive().default(900),
              /** Start each server as a Slurm job (serving.slurm in specsci.yaml), cancelled at the end. */
              slurm: z.boolean().default(false),
            })
            .prefault({}),
        })
        .optional(),
    })
    .superRefine((e, ctx) => {
      const issue = (path: (string | number)[], message: string) =>
        ctx.addIssue({ code: "custom", path, message });
      const requireSpec = (ref: string | undefined, path: (string | number)[]) => {
        if (ref !== undefined && !(ref in e.specs))
          issue(
            path,
            `no spec named "${ref}" under specs: (known: ${Object.keys(e.specs).join(", ") || "none"})`,
          );
      };
      const unique = (what: string, list: "arms" | "evals", names: string[]) => {
        const seen = new Set<string>();
        for (const [i, n] of names.entries()) {
          if (seen.has(n))
            issue(
              list === "arms" ? [list] : [list, i, "name"],
              `${what} name "${n}" is used twice${list === "arms" ? " (after cross grids, size ladders, anti-spec doses and preference series are expanded)" : ""}`,
            );
          seen.add(n);
        }
      };
      const expanded = expandArms(e.arms, e.training?.it);
      unique(
        "arm",
        "arms",
        expanded.map((a) => a.name),
      );
      unique(
        "eval",
        "evals",
        e.evals.map((v) => v.name),
      );
      requireSpec(e.analysis?.reasoning?.spec, ["analysis", "reasoning", "spec"]);
      const reasoning = e.analysis?.reasoning;
      if (reasoning && reasoning.repeats > 1 && reasoning.temperature === 0)
        issue(
          ["analysis", "reasoning", "temperature"],
          "repeats at temperature 0 would repeat the same answer: set a temperature (e.g. 1)",
        );
      for (const [i, arm] of e.arms.entries()) {
        for (const key of ["spec", "msm_spec", "aft_spec"] as const)
          requireSpec((arm as Record<string, string | undefined>)[key], ["arms", i, key]);
        if (arm.kind === "cross")
          for (const key of ["msm_specs", "aft_specs"] as const)
            for (const [j, ref] of arm[key].entries()) requireSpec(ref, ["arms", i, key, j]);
        if (arm.kind === "spec-ladder")
          for (const [j, ref] of arm.specs.entries()) requireSpec(ref, ["arms", i, "specs", j]);
        if (
          (arm.kind === "aft" || arm.kind === "msm+aft" || arm.kind === "cross") &&
          arm.aft_size &&
          arm.aft_sizes
        )
          issue(
            ["arms", i, "aft_sizes"],
            "give aft_size (one size) or aft_sizes (a ladder), not both",
          );
        if (
          (arm.kind === "baseline" ||
            arm.kind === "prompted" ||
            arm.kind === "msm" ||
            arm.kind === "spec-ladder") &&
          arm.it
        )
          issue(
            ["arms", i, "it"],
            `arm "${arm.name}" (kind ${arm.kind}) has no AFT stage to train IT data with: remove it, or use kind aft, msm+aft or it-only`,
          );
        checkAnti(arm, i, issue, requireSpec);
        if ("msm_recipe" in arm && arm.msm_recipe && arm.kind === "spec-ladder" && arm.as !== "msm")
          issue(
            ["arms", i, "msm_recipe"],
            `arm "${arm.name}" is prompted (as: ${arm.as}), so it has no MSM corpus to make with a recipe: remove msm_recipe, or set as: msm`,
          );
        checkPref(arm, i, e.training, issue);
        if (arm.kind === "it-only" && !arm.it && !e.training?.it)
          issue(
            ["arms", i, "it"],
            `arm "${arm.name}" (kind it-only) trains on instruction-tuning data alone: give it: { files: [...] } here or under training:`,
          );
      }
      const clash = clashingMsmRecipes(
        e.arms.flatMap((a) => ("msm_recipe" in a && a.msm_recipe ? [a.msm_recipe] : [])),
      );
      if (clash)
        issue(
          ["arms"],
          `the MSM recipes ${clash[0]} and ${clash[1]} have one file name, which names their corpora: rename one`,
        );
      checkBaseFamilies(e.training, issue);
      for (const [specName, source] of Object.entries(e.specs)) {
        if (typeof source !== "object" || !("derive" in source)) continue;
        const d = source.derive;
        const path = ["specs", specName, "derive"];
        requireSpec(d.from, [...path, "from"]);
        requireSpec(d.params.to, [...path, "params", "to"]);
        const ladder =
          d.transform === "richness-ladder" &&
          ladderProblem({
            ...(d.params.steps ? { steps: d.params.steps } : {}),
            ...(d.params.paragraphs
              ? { paragraphs: d.params.paragraphs as Record<string, number> }
              : {}),
            ...(d.params.rung !== undefined ? { rung: d.params.rung } : {}),
          });
        if (ladder) issue([...path, "params"], ladder);
        if (TRANSFORMS[d.transform].model && !d.model)
          issue(
            [...path, "model"],
            `transform ${d.transform} is written by a model: give derive.model`,
          );
        // A spec may not be derived, directly or not, from itself.
        const seen = new Set([specName]);
        let at: string | undefined = d.from;
        while (at !== undefined) {
          if (seen.has(at)) {
            issue(
              [...path, "from"],
              `spec "${specName}" is derived from itself (through ${[...seen].join(" → ")})`,
            );
            break;
          }
          seen.add(at);
          const next: unknown = e.specs[at];
          at =
            typeof next === "object" && next !== null && "derive" in next
              ? (next as { derive: { from: string } }).derive.from
              : undefined;
        }
      }
    })
    .transform((e) => ({
      ...e,
      arms: withOwnMsmRecipes(expandArms(e.arms, e.training?.it), e.training?.data.msm),
    }));
export type Experiment = z.infer<ReturnType<typeof experimentSchema>>;

/** training.base_families names bases of base_models, each with a known family. */
function checkBaseFamilies(
  t: { base_models: Record<string, string>; base_families?: Record<string, string> } | undefined,
  issue: (path: (string | number)[], message: string) => void,
) {
  const bases = Object.values(t?.base_models ?? {});
  for (const [base, family] of Object.entries(t?.base_families ?? {})) {
    const path = ["training", "base_families", base];
    if (!bases.includes(base))
      issue(
        path,
        `"${base}" is not a base in training.base_models (bases: ${bases.join(", ") || "none"}); base_families is keyed by the base, not the model`,
      );
    if (!isBaseFamilyId(family))
      issue(
        path,
        `unknown base family "${family}": use one of ${BASE_FAMILIES.join(", ")} (\`specsci train bases\` lists them)`,
      );
  }
}

let schema: { tasks: number; schema: ReturnType<typeof experimentSchema> } | undefined;

/**
 * The experiment file's schema, with an `evals:` entry for every task registered now (rebuilt
 * when a task has been registered since: an entry's settings are the task's own).
 */
export function experimentFileSchema(): ReturnType<typeof experimentSchema> {
  const tasks = taskDefinitions().length;
  if (schema?.tasks !== tasks) schema = { tasks, schema: experimentSchema(evalSchema()) };
  return schema.schema;
}

/** Every model an experiment names: evaluated, judge, spec writers and labellers. */
export function experimentModelIds(e: Experiment): string[] {
  const writers = Object.values(e.specs).flatMap((s) =>
    typeof s === "object" && "derive" in s && s.derive.model ? [s.derive.model] : [],
  );
  const labellers = e.analysis?.reasoning?.labellers ?? [];
  return [...new Set([...e.models, e.judge.model, ...writers, ...labellers])];
}

export interface LoadedExperiment {
  experiment: Experiment;
  /** The preset the file named, with every value it set. */
  preset?: AppliedPreset;
  file: string;
  /** Directory that relative spec paths are resolved against. */
  dir: string;
  source: string;
}

export function loadExperiment(path: string): LoadedExperiment {
  const file = resolve(path);
  return experimentFromSource(readUserFile(file, "experiment file"), file);
}

/** An experiment from its file's text, as `specsci run` recorded it (the dashboard rebuilds it). */
export function experimentFromSource(source: string, file: string): LoadedExperiment {
  let preset: AppliedPreset | undefined;
  const experiment = parseYamlWithSchema(
    source,
    file,
    experimentFileSchema(),
    "see examples/ for commented experiment files",
    (raw) => {
      const applied = applyPreset(raw, file);
      preset = applied.preset;
      return applied.raw;
    },
  );
  return { experiment, ...(preset ? { preset } : {}), file, dir: dirname(file), source };
}
