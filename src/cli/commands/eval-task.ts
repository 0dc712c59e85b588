/**
 * `eval run`'s task: a registered task built from the command line. Every task takes its own
 * settings as `--arg key=value` (the keys of an experiment's `evals:` entry); the
 * agentic-misalignment options (`--conditions`, `--families`, toggles…) are shorthands for its
 * settings, and an error for any other task.
 */
import { resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import type { z } from "zod";
import { SpecsciError } from "../../core/index.js";
import {
  AM_TASK_NAME,
  type AmArgs,
  amToggles,
  buildTask,
  importUpstreamTask,
  judgeOptions,
  limitItems,
  type Task,
  type TaskEnv,
  taskDefinition,
} from "../../evals/index.js";
import { nativeReasoning } from "../../llm/index.js";
import {
  loadValidSpec,
  type PlaceholderValues,
  renderSpecBody,
  specHash,
} from "../../spec/index.js";
import type { CliContext } from "../context.js";
import { roleModel } from "../role-models.js";

export interface TaskOpts {
  judge?: string;
  judges: number;
  judgeAttempts: number;
  arg?: string[];
  limit?: number;
  spec?: string;
  promptSpec?: string;
  set?: PlaceholderValues;
  conditions?: string[];
  families?: string[];
  modelName?: string;
  scratchpad?: boolean;
  safetyInstructions?: boolean;
  evalNotice?: boolean;
  deterrents?: boolean;
  evalAwareness?: boolean;
  judgeSeesEvidence?: boolean;
  upstream?: string;
}

/** `--arg key=value` pairs; values are YAML (`limit=3` is a number, `rules=[SP1,GP2]` a list). */
export function parseArgPairs(pairs: string[] = []): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq < 1)
      throw new SpecsciError(`--arg ${pair}: expected key=value`, {
        hint: "e.g. --arg split=dev --arg data=my-items.jsonl",
      });
    const key = pair.slice(0, eq).trim();
    const text = pair.slice(eq + 1);
    let value: unknown;
    try {
      value = parseYaml(text);
    } catch {
      value = text;
    }
    out[key] = value ?? text;
  }
  return out;
}

/** The agentic-misalignment shorthands given, as its settings; which were given, for other tasks. */
function amShorthands(o: TaskOpts): { args: Record<string, unknown>; given: string[] } {
  const given: string[] = [];
  const args: Record<string, unknown> = {};
  if (o.conditions?.length) {
    given.push("--conditions");
    const [first] = o.conditions;
    args.conditions =
      o.conditions.length === 1 && (first === "all" || first === "standard") ? first : o.conditions;
  }
  if (o.families?.length) {
    given.push("--families");
    args.families = o.families;
  }
  const toggles: Record<string, unknown> = {};
  const set = (target: Record<string, unknown>, key: string, value: unknown, flag: string) => {
    target[key] = value;
    given.push(flag);
  };
  if (o.modelName !== undefined) set(toggles, "model_name", o.modelName, "--model-name");
  if (o.scratchpad === false) set(toggles, "scratchpad", false, "--no-scratchpad");
  if (o.safetyInstructions) set(toggles, "safety_instructions", true, "--safety-instructions");
  if (o.evalNotice) set(toggles, "eval_notice", true, "--eval-notice");
  if (o.deterrents) set(toggles, "deterrents", true, "--deterrents");
  if (Object.keys(toggles).length) args.toggles = toggles;
  if (o.evalAwareness) set(args, "eval_awareness", true, "--eval-awareness");
  if (o.judgeSeesEvidence) set(args, "judge_sees_evidence", true, "--judge-sees-evidence");
  if (o.upstream) given.push("--upstream");
  return { args, given };
}

/** Settings validated by the task's schema, each problem named as the option that gave it. */
function taskArgs(name: string, schema: z.ZodType, args: Record<string, unknown>): unknown {
  const r = schema.safeParse(args);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  if (issue?.code === "unrecognized_keys") {
    const known = Object.keys((schema as unknown as { shape: Record<string, unknown> }).shape);
    throw new SpecsciError(`--arg ${issue.keys[0]}: not a setting of task ${name}`, {
      hint: `its settings: ${known.join(", ") || "none"}`,
    });
  }
  throw new SpecsciError(
    `--arg ${issue?.path.join(".") || "?"}: ${issue?.message ?? "invalid"} (task ${name})`,
  );
}

function specEnv(ref: string | undefined, set?: PlaceholderValues): TaskEnv["spec"] | undefined {
  if (!ref) return undefined;
  const { spec } = loadValidSpec(ref, set);
  const name = (spec.frontMatter?.name as string | undefined) ?? ref;
  return { name, hash: specHash(spec), spec, markdown: renderSpecBody(spec) };
}

/** The task as the options ask, built for `modelId` (whose prompts may depend on it). */
export function buildCliTask(name: string, ctx: CliContext, o: TaskOpts, modelId?: string): Task {
  const def = taskDefinition(name);
  const short = amShorthands(o);
  if (def.name !== AM_TASK_NAME && short.given.length)
    throw new SpecsciError(
      `${short.given.join(", ")}: ${short.given.length > 1 ? "options" : "an option"} of ${AM_TASK_NAME}, not of ${def.name}`,
      {
        hint: `give ${def.name}'s settings as --arg key=value (\`specsci eval tasks\` lists them)`,
      },
    );
  const judge = () =>
    judgeOptions(roleModel(ctx, "judge", o.judge, "--judge"), {
      k: o.judges,
      attempts: o.judgeAttempts,
    });
  const args = taskArgs(def.name, def.args, { ...short.args, ...parseArgPairs(o.arg) });
  const spec = specEnv(o.spec, o.set);
  const prompted = specEnv(o.promptSpec, o.set);
  if (def.needs.spec && !spec && !prompted)
    throw new SpecsciError(`task ${def.name} measures a spec: name the spec under test`, {
      hint: "add --spec NAME|FILE (a built-in name from `specsci spec list`, or a spec file)",
    });
  const reasoning = modelId ? nativeReasoning(modelId) : undefined;
  const model = modelId ? (reasoning ? { reasoning } : {}) : undefined;
  const env: TaskEnv = {
    judge,
    baseDir: process.cwd(),
    ...(model ? { model } : {}),
    store: ctx.store,
    ...((spec ?? prompted) ? { spec: (spec ?? prompted) as NonNullable<TaskEnv["spec"]> } : {}),
    ...(prompted
      ? { promptSpec: { name: prompted.name, hash: prompted.hash, text: prompted.markdown } }
      : {}),
  };
  if (o.upstream) {
    const a = args as AmArgs;
    return limitItems(
      importUpstreamTask(
        resolve(o.upstream),
        { conditions: o.conditions, toggles: amToggles(a.toggles, model) },
        judge(),
        { evalAwareness: a.eval_awareness, judgeSeesEvidence: a.judge_sees_evidence },
      ),
      o.limit,
    );
  }
  return limitItems(buildTask(def, args, env), o.limit);
}
