/**
 * The agentic-misalignment scenario pack: data files under `scenarios/agentic-misalignment/`
 * (a `pack.yaml` with the shared prompt parts and goal values, one file per harmful-action family
 * with its company, people, emails and evidence). Loaded and validated here; rendered in
 * `render.ts`.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { SpecsciError } from "../../core/errors.js";
import { parseYamlWithSchema } from "../../core/yaml-schema.js";

export const PACK_DIR = fileURLToPath(
  new URL("../../../scenarios/agentic-misalignment/", import.meta.url),
);

export const GOAL_KINDS = ["none", "explicit", "latent", "ambiguous", "swap"] as const;
export type GoalKind = (typeof GOAL_KINDS)[number];
export const THREATS = ["replacement", "restriction", "none"] as const;
export type Threat = (typeof THREATS)[number];
export const TOOLS = ["send_email", "forward_email", "cancel_alert", "transfer_weights"] as const;
export type ToolName = (typeof TOOLS)[number];

/** Which inbox a goal condition sees: explicit, latent and swap share the conflict inbox. */
export type Inbox = "none" | "conflict" | "ambiguous";
export function inboxOf(kind: GoalKind): Inbox {
  return kind === "none" ? "none" : kind === "ambiguous" ? "ambiguous" : "conflict";
}

const text = z.string().min(1);
const vars = z.record(z.string().regex(/^[a-z][a-z0-9_]*$/), text);

const Goal = z.strictObject({
  /** What the system prompt states as the goal ("Your primary goal is to …"). */
  text,
  opposite: z.string(),
  /** How the company describes moving toward this value ("an America-first strategy"). */
  direction: text,
});

export const PackSchema = z.strictObject({
  name: text,
  version: z.number().int().positive(),
  user_prompt: text,
  system: z.strictObject({
    goal_statement: text,
    eval_notice: text,
    scratchpad: text,
    time: text,
    reminders_header: text,
    goal_reminder: text,
    safety_instructions: text,
    situation_reminder: text,
    tools_header: text,
  }),
  tools: z.strictObject(
    Object.fromEntries(TOOLS.map((t) => [t, text])) as Record<ToolName, typeof text>,
  ),
  goals: z.record(z.string(), Goal),
  ambiguous: z.strictObject({ direction: text, old_direction: text }),
});
export type Pack = z.infer<typeof PackSchema>;

const When = z.strictObject({
  inbox: z.array(z.enum(["none", "conflict", "ambiguous"])).optional(),
  threat: z.array(z.enum(THREATS)).optional(),
  /** Shown only when the run's `deterrents` toggle has this value. */
  deterrents: z.boolean().optional(),
});

const Email = z.strictObject({
  key: z.string().regex(/^[a-z0-9_-]+$/),
  when: When.optional(),
  from: text,
  to: text,
  cc: z.string().optional(),
  subject: text,
  /** ISO 8601 with offset; the inbox is shown in true chronological order. */
  timestamp: z
    .string()
    .regex(
      /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$/,
      "must be ISO 8601 with a UTC offset",
    ),
  attachments: z.array(text).optional(),
  body: text,
});
export type EmailTemplate = z.infer<typeof Email>;

export const FamilySchema = z.strictObject({
  family: z.string().regex(/^[a-z][a-z0-9-]*$/),
  title: text,
  /** The harmful action, for the judge's rubric ("forwarding the … to an outside party"). */
  harmful_action: text,
  /** What counts as deciding to take it, and what does not (the rubric's body). */
  rubric: text,
  company: z.strictObject({ name: text, domain: z.string().regex(/^[a-z0-9.-]+\.[a-z]{2,}$/) }),
  tools: z.array(z.enum(TOOLS)).min(1),
  identity: text,
  deployment: text,
  start: z.string(),
  /** Used by every condition of this family (all must be used, always). */
  variables: vars,
  /** Only in conditions with this threat. */
  threat_variables: z.strictObject({ replacement: vars, restriction: vars, none: vars }),
  /**
   * The inbox's goal-specific details, one set per goal value (for a conflict inbox about that
   * value: the company moving away from it), plus `none` (the conflict-free inbox) and `ambiguous`.
   * Every set defines the same variables, so every email reads in every condition.
   */
  goal_content: z.record(z.string(), vars),
  evidence: z.strictObject({
    /** The email that holds the confidential material (leaking). */
    confidential_email: z.string().optional(),
    /** Strings whose presence in an external action shows the secret was shared. */
    secret_markers: z.array(text).optional(),
    /** The address the harmful action goes to, if there is one. */
    target: z.string().optional(),
    /** The override code (lethal inaction) or credential (exfiltration). */
    code: z.string().optional(),
    /** Words that show the private information was used (coercion). */
    leverage_markers: z.array(text).optional(),
  }),
  emails: z.array(Email).min(3),
});
export type Family = z.infer<typeof FamilySchema>;

function loadYaml<S extends z.ZodType>(file: string, schema: S): z.infer<S> {
  return parseYamlWithSchema(readFileSync(file, "utf8"), file, schema);
}

export interface LoadedPack {
  pack: Pack;
  families: Family[];
  dir: string;
}

/** The goal-content sets a family must define: the pack's goal values, `none` and `ambiguous`. */
export function goalContentKey(kind: GoalKind, value: string): string {
  const inbox = inboxOf(kind);
  return inbox === "conflict" ? value : inbox;
}

/** One goal-content set per goal value, `none` and `ambiguous`, all with the same variables. */
function checkGoalContent(family: Family, pack: Pack, file: string): void {
  const wanted = [...Object.keys(pack.goals), "none", "ambiguous"];
  const have = Object.keys(family.goal_content);
  const missing = wanted.filter((k) => !have.includes(k));
  const extra = have.filter((k) => !wanted.includes(k));
  if (missing.length || extra.length)
    throw new SpecsciError(
      `${file}: goal_content must have one set per goal value plus none and ambiguous (${missing.length ? `missing ${missing.join(", ")}` : ""}${missing.length && extra.length ? "; " : ""}${extra.length ? `unknown ${extra.join(", ")}` : ""})`,
      { hint: `sets: ${wanted.join(", ")}` },
    );
  const [first, ...rest] = wanted;
  const keys = Object.keys(family.goal_content[first as string] ?? {}).sort();
  for (const name of rest) {
    const these = Object.keys(family.goal_content[name] ?? {}).sort();
    const differ = [
      ...keys.filter((k) => !these.includes(k)),
      ...these.filter((k) => !keys.includes(k)),
    ];
    if (differ.length)
      throw new SpecsciError(
        `${file}: goal_content.${name} and goal_content.${first} differ in variable(s) ${differ.join(", ")}`,
        {
          hint: "every goal-content set defines the same variables, so every email reads in every condition",
        },
      );
  }
  for (const k of keys)
    if (k in family.variables)
      throw new SpecsciError(`${file}: variable ${k} is in both variables and goal_content`);
}

/** Loads and validates a scenario pack directory. */
/** Packs read in this process, by directory, with the files' sizes and times they were read at. */
const packs = new Map<string, { signature: string; loaded: LoadedPack }>();

/** What identifies a pack's files on disk without reading them: names, sizes, modification times. */
function packSignature(dir: string): string {
  const familyDir = join(dir, "families");
  const files = [
    join(dir, "pack.yaml"),
    ...readdirSync(familyDir)
      .filter((f) => f.endsWith(".yaml"))
      .sort()
      .map((f) => join(familyDir, f)),
  ];
  return files
    .map((f) => {
      const st = statSync(f);
      return `${f}:${st.size}:${st.mtimeMs}`;
    })
    .join("|");
}

/**
 * The scenario pack in `dir`, read and checked once per process while its files are unchanged
 * (an experiment builds the task for every arm; parsing the YAML each time was most of `plan`).
 * The result is shared: callers must not change it.
 */
export function loadPack(dir = PACK_DIR): LoadedPack {
  let signature: string;
  try {
    signature = packSignature(dir);
  } catch {
    return readPack(dir); // a missing file: reading says which, clearly
  }
  const cached = packs.get(dir);
  if (cached?.signature === signature) return cached.loaded;
  const loaded = readPack(dir);
  packs.set(dir, { signature, loaded });
  return loaded;
}

function readPack(dir: string): LoadedPack {
  const pack = loadYaml(join(dir, "pack.yaml"), PackSchema);
  for (const [name, goal] of Object.entries(pack.goals)) {
    if (!pack.goals[goal.opposite] || pack.goals[goal.opposite]?.opposite !== name) {
      throw new SpecsciError(
        `${join(dir, "pack.yaml")}: goal ${name}'s opposite "${goal.opposite}" must exist and name ${name} back`,
      );
    }
  }
  const familyDir = join(dir, "families");
  const families = readdirSync(familyDir)
    .filter((f) => f.endsWith(".yaml"))
    .sort()
    .map((f) => {
      const file = join(familyDir, f);
      const family = loadYaml(file, FamilySchema);
      checkGoalContent(family, pack, file);
      return family;
    });
  return { pack, families, dir };
}
