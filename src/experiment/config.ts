import { dirname, resolve } from "node:path";
import { z } from "zod";
import { readUserFile } from "../core/fs.js";
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
 * (no training); `baseline` uses no spec; `msm`, `aft` and `msm+aft` evaluate a model trained on
 * data made from the spec(s) (see `training:`).
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
    /**
     * How the trained arms (msm, aft, msm+aft) get their models: the base model trained for each
     * model of the experiment, and the endpoint the trained models are served under.
     */
    training: z
      .strictObject({
        base_models: z.record(z.string(), z.string().min(1)).default({}),
        endpoint: name.default("trained"),
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
        if (seen.has(n)) issue([list, i, "name"], `${what} name "${n}" is used twice`);
        seen.add(n);
      }
    };
    unique(
      "arm",
      "arms",
      e.arms.map((a) => a.name),
    );
    unique(
      "eval",
      "evals",
      e.evals.map((v) => v.name),
    );
    for (const [i, arm] of e.arms.entries())
      for (const key of ["spec", "msm_spec", "aft_spec"] as const)
        requireSpec((arm as Record<string, string | undefined>)[key], ["arms", i, key]);
    for (const [specName, source] of Object.entries(e.specs)) {
      if (typeof source !== "object" || !("derive" in source)) continue;
      const d = source.derive;
      const path = ["specs", specName, "derive"];
      requireSpec(d.from, [...path, "from"]);
      requireSpec(d.params.to, [...path, "params", "to"]);
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
  const source = readUserFile(file, "experiment file");
  const experiment = parseYamlWithSchema(
    source,
    file,
    ExperimentSchema,
    "see examples/ for commented experiment files",
  );
  return { experiment, file, dir: dirname(file), source };
}
