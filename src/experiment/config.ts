/**
 * `experiment.yaml`: a declarative Model Spec Science experiment. Specs, arms (how each spec
 * reaches the model), models, seeds, evals, the judge and a budget. Validated with zod; a mistake
 * is reported as `file:line:col: setting: problem`.
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { z } from "zod";
import { SpecsciError } from "../core/errors.js";
import { parseYamlWithSchema } from "../core/yaml-schema.js";
import { TOKENIZERS } from "../spec/tokens.js";
import { TRANSFORMS, type TransformName } from "../spec/transforms/index.js";

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
  attempts: z.number().int().positive().optional(),
  temperature: z.number().min(0).optional(),
});
export type DeriveParamsConfig = z.infer<typeof DeriveParams>;

const Derive = z.strictObject({
  /** Another spec of this experiment (which may itself be derived). */
  from: name,
  transform: z.enum(Object.keys(TRANSFORMS) as [TransformName, ...TransformName[]]),
  /** The model that writes the variant, for the model-assisted transforms. */
  model: z.string().min(3).optional(),
  params: DeriveParams.default({}),
});
export type DeriveConfig = z.infer<typeof Derive>;

/**
 * A spec: a built-in name (`rules`) or a file path relative to the experiment file, or a variant
 * derived from another spec of the experiment by a transform (its result is cached by content).
 */
const SpecSource = z.union([
  z.string().min(1),
  z.strictObject({ file: z.string().min(1) }),
  z.strictObject({ library: z.string().min(1) }),
  z.strictObject({ derive: Derive }),
]);
export type SpecSourceConfig = z.infer<typeof SpecSource>;

/**
 * How a spec reaches the model. `prompted` places it in the system prompt of an existing model
 * (no training); `baseline` uses no spec. The trained kinds are accepted in the file so designs can
 * be written down now, and refused at plan time until training exists.
 */
const Arm = z.discriminatedUnion("kind", [
  z.strictObject({ name, kind: z.literal("baseline") }),
  z.strictObject({ name, kind: z.literal("prompted"), spec: name }),
  z.strictObject({ name, kind: z.literal("msm"), msm_spec: name }),
  z.strictObject({
    name,
    kind: z.literal("aft"),
    aft_spec: name,
    aft_size: z.number().int().positive().optional(),
  }),
  z.strictObject({
    name,
    kind: z.literal("msm+aft"),
    msm_spec: name,
    aft_spec: name,
    aft_size: z.number().int().positive().optional(),
  }),
]);
export type Arm = z.infer<typeof Arm>;

const Toggles = z.strictObject({
  model_name: z.string().min(1).optional(),
  scratchpad: z.boolean().optional(),
  safety_instructions: z.boolean().optional(),
  eval_notice: z.boolean().optional(),
});

const Eval = z.strictObject({
  name: name.default("am"),
  task: z.literal("agentic-misalignment"),
  /** `standard` (27), `all` (312), or condition ids. */
  conditions: z
    .union([z.enum(["standard", "all"]), z.array(z.string()).min(1)])
    .default("standard"),
  families: z.array(z.string()).optional(),
  epochs: z.number().int().positive().default(1),
  temperature: z.number().min(0).optional(),
  max_tokens: z.number().int().positive().optional(),
  toggles: Toggles.optional(),
  eval_awareness: z.boolean().default(false),
});
export type EvalConfig = z.infer<typeof Eval>;

export const ExperimentSchema = z
  .strictObject({
    name,
    description: z.string().optional(),
    specs: z.record(name, SpecSource).default({}),
    arms: z.array(Arm).min(1),
    models: z.array(z.string().min(3)).min(1),
    /** Repetitions; for prompted arms each seed is an independent block of samples. */
    seeds: z.array(z.number().int().nonnegative()).min(1).default([0]),
    evals: z.array(Eval).min(1),
    judge: z.strictObject({
      model: z.string().min(3),
      k: z.number().int().positive().default(1),
      attempts: z.number().int().positive().default(3),
    }),
    budget: z.strictObject({ max_usd: z.number().positive().optional() }).optional(),
  })
  .superRefine((e, ctx) => {
    const arms = new Set<string>();
    for (const [i, arm] of e.arms.entries()) {
      if (arms.has(arm.name))
        ctx.addIssue({
          code: "custom",
          path: ["arms", i, "name"],
          message: `arm name "${arm.name}" is used twice`,
        });
      arms.add(arm.name);
      for (const key of ["spec", "msm_spec", "aft_spec"] as const) {
        const ref = (arm as Record<string, unknown>)[key];
        if (typeof ref === "string" && !(ref in e.specs)) {
          ctx.addIssue({
            code: "custom",
            path: ["arms", i, key],
            message: `no spec named "${ref}" under specs: (known: ${Object.keys(e.specs).join(", ") || "none"})`,
          });
        }
      }
    }
    for (const [specName, source] of Object.entries(e.specs)) {
      if (typeof source !== "object" || !("derive" in source)) continue;
      const d = source.derive;
      const path = ["specs", specName, "derive"];
      for (const [key, ref] of [
        ["from", d.from],
        ["to", d.params.to],
      ] as const) {
        if (ref !== undefined && !(ref in e.specs))
          ctx.addIssue({
            code: "custom",
            path: key === "from" ? [...path, "from"] : [...path, "params", "to"],
            message: `no spec named "${ref}" under specs:`,
          });
      }
      if (TRANSFORMS[d.transform].model && !d.model)
        ctx.addIssue({
          code: "custom",
          path: [...path, "model"],
          message: `transform ${d.transform} is written by a model: give derive.model`,
        });
      // A spec may not be derived, directly or not, from itself.
      const seen = new Set([specName]);
      let at: string | undefined = d.from;
      while (at !== undefined) {
        if (seen.has(at)) {
          ctx.addIssue({
            code: "custom",
            path: [...path, "from"],
            message: `spec "${specName}" is derived from itself (through ${[...seen].join(" → ")})`,
          });
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
    const evals = new Set<string>();
    for (const [i, ev] of e.evals.entries()) {
      if (evals.has(ev.name))
        ctx.addIssue({
          code: "custom",
          path: ["evals", i, "name"],
          message: `eval name "${ev.name}" is used twice`,
        });
      evals.add(ev.name);
    }
  });
export type Experiment = z.infer<typeof ExperimentSchema>;

export interface LoadedExperiment {
  experiment: Experiment;
  file: string;
  /** Directory that relative spec paths are resolved against. */
  dir: string;
  source: string;
}

export function loadExperiment(path: string): LoadedExperiment {
  const file = resolve(path);
  let source: string;
  try {
    source = readFileSync(file, "utf8");
  } catch (e) {
    throw new SpecsciError(
      `cannot read experiment file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  const experiment = parseYamlWithSchema(
    source,
    file,
    ExperimentSchema,
    "see examples/ for commented experiment files",
  );
  return { experiment, file, dir: dirname(file), source };
}
