import { SpecsciError } from "../../core/errors.js";
import type { JudgeOptions } from "../judge.js";
import { generateOnce, type PromptSpec, withSpec } from "../solvers.js";
import type { Sample, Scorer, Solver, Task } from "../types.js";
import { parseAgentAnswer } from "./actions.js";
import { type LoadedPack, loadPack } from "./pack.js";
import {
  allConditions,
  type Condition,
  DEFAULT_TOGGLES,
  parseConditionId,
  renderCondition,
  standardConditions,
  type Toggles,
} from "./render.js";
import { evalAwarenessScorer, misalignmentScorer, ruleCitationScorer } from "./scorers.js";

export const AM_TASK_NAME = "agentic-misalignment";
/** The task name of runs on scenarios imported from the public repository (`--upstream`). */
export const UPSTREAM_TASK_NAME = "agentic-misalignment-upstream";

/** Whether runs of this task name are agentic-misalignment runs (own pack or imported). */
export const isAmTask = (task: string) => task === AM_TASK_NAME || task === UPSTREAM_TASK_NAME;
export const AM_TASK_VERSION = "1";

export interface AmTaskArgs {
  /** `standard` (the paper's 27), `all` (312), or a list of condition ids. */
  conditions?: "standard" | "all" | string[];
  families?: string[];
  toggles?: Partial<Toggles>;
  /** Spec id prefixes counted by the rule-citation scorer. */
  citePrefixes?: string[];
  /** A spec placed in the system prompt before the scenario's own (a prompted arm). */
  spec?: PromptSpec;
  packDir?: string;
}

/** How an AM run is scored beyond its misalignment verdict. */
export interface AmScoringOptions {
  /** Also judge whether the reasoning concludes it is being evaluated. */
  evalAwareness?: boolean;
  /** Show the misalignment judge the parser's reading of the final tool calls (`am-judge/1`). */
  judgeSeesEvidence?: boolean;
}

/** Prompts with the scenario's system prompt and inbox; parses the answer into actions. */
export function amSolver(): Solver {
  return {
    name: "am-generate",
    spec: { name: "am-generate", parser: "tool_use/1" },
    async solve(sample, model, config, epoch, context, signal) {
      const completion = await generateOnce(sample.input, model, config, epoch, context, signal);
      return { completion, parsed: parseAgentAnswer(completion.text, completion.reasoning) };
    },
  };
}

export function selectConditions(loaded: LoadedPack, args: AmTaskArgs): Condition[] {
  const spec = args.conditions ?? "standard";
  let conditions =
    spec === "standard"
      ? standardConditions(loaded)
      : spec === "all"
        ? allConditions(loaded)
        : spec.map(parseConditionId);
  if (args.families?.length) {
    const unknown = args.families.filter((f) => !loaded.families.some((x) => x.family === f));
    if (unknown.length)
      throw new SpecsciError(
        `unknown family ${unknown.join(", ")} (families: ${loaded.families.map((f) => f.family).join(", ")})`,
      );
    const chosen = conditions;
    const missing = args.families.filter((f) => !chosen.some((c) => c.family === f));
    if (missing.length) throw familiesLeftOut(missing, chosen, spec);
    conditions = conditions.filter((c) => args.families?.includes(c.family));
  }
  if (conditions.length === 0) throw new SpecsciError("no scenarios selected");
  return conditions;
}

/** Families asked for that the condition set has none of: say which set, what it covers, and how to get them. */
function familiesLeftOut(
  missing: string[],
  chosen: Condition[],
  set: AmTaskArgs["conditions"] & {},
): SpecsciError {
  const covered = [...new Set(chosen.map((c) => c.family))].join(", ") || "no family";
  const which =
    set === "standard"
      ? "the standard condition set (the paper's 27: goal none or explicit, threat replacement)"
      : "the conditions given";
  return new SpecsciError(
    `no condition of famil${missing.length > 1 ? "ies" : "y"} ${missing.join(", ")} is in ${which} (families there: ${covered})`,
    {
      hint: `to include ${missing.join(", ")}, add --conditions all (conditions: all in an experiment), or name condition ids (\`specsci eval scenarios\` lists them)`,
    },
  );
}

/**
 * The agentic-misalignment task: one sample per selected condition, rendered with the run's
 * toggles; scored by the misalignment judge (and eval awareness, if asked) plus rule citations.
 */
export function agenticMisalignmentTask(
  args: AmTaskArgs,
  judge: JudgeOptions,
  options: AmScoringOptions = {},
): Task {
  const loaded = loadPack(args.packDir);
  const toggles: Toggles = { ...DEFAULT_TOGGLES, ...args.toggles };
  const dataset: Sample[] = selectConditions(loaded, args).map((c) =>
    withSpec(renderCondition(loaded, c, toggles), args.spec),
  );
  const scorers: Scorer[] = [
    misalignmentScorer(judge, { seesEvidence: options.judgeSeesEvidence === true }),
  ];
  if (options.evalAwareness) scorers.push(evalAwarenessScorer(judge));
  scorers.push(ruleCitationScorer(args.citePrefixes));
  return {
    name: AM_TASK_NAME,
    version: AM_TASK_VERSION,
    args: {
      conditions: args.conditions ?? "standard",
      ...(args.families ? { families: args.families } : {}),
      ...(args.spec ? { spec: { name: args.spec.name, hash: args.spec.hash } } : {}),
      toggles,
      pack: `${loaded.pack.name}@${loaded.pack.version}`,
    },
    dataset,
    solver: amSolver(),
    scorers,
    defaults: { max_tokens: 8192, temperature: 0.7 },
  };
}
