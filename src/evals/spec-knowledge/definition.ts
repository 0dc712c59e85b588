/**
 * Spec knowledge as a registered task: does the model know its spec? Its settings, the fields its
 * metrics read, and its metrics.
 */
import { z } from "zod";
import { SpecsciError } from "../../core/errors.js";
import type { FindingContext, TaskDefinition } from "../registry.js";
import { contaminatedItems } from "./contamination.js";
import { ITEM_KINDS, MCQ_KINDS } from "./items.js";
import { SK_TASK_NAME, specKnowledgeTask } from "./task.js";

export const SpecKnowledgeArgs = z.strictObject({
  /** Which kinds of item to ask (all by default). */
  kinds: z.array(z.enum(ITEM_KINDS)).min(1).optional(),
  /** Shuffles the options and picks the distractors; not the sampling seed. */
  seed: z.number().int().nonnegative().default(0),
  /** At most this many items of each kind (spread over the rules). */
  max_items_per_kind: z.number().int().positive().optional(),
});
export type SpecKnowledgeArgs = z.infer<typeof SpecKnowledgeArgs>;

export const specKnowledgeDefinition: TaskDefinition<SpecKnowledgeArgs> = {
  name: SK_TASK_NAME,
  aliases: ["sk"],
  summary:
    "does the model know its spec? Multiple-choice and free-recall questions generated from the spec under test: which rule says what, what a rule says, which rule a passage explains, what a rule forbids",
  args: SpecKnowledgeArgs,
  needs: { judge: true, spec: true },
  build(args, env) {
    if (!env.spec)
      throw new SpecsciError("the spec-knowledge task needs a spec under test", {
        hint: "give --spec NAME|FILE on the command line; in an experiment, each arm supplies its spec",
      });
    const kinds = args.kinds ?? [...ITEM_KINDS];
    return specKnowledgeTask({
      spec: env.spec,
      kinds,
      seed: args.seed,
      ...(args.max_items_per_kind !== undefined
        ? { maxItemsPerKind: args.max_items_per_kind }
        : {}),
      ...(env.promptSpec ? { promptSpec: env.promptSpec } : {}),
      ...(env.store ? { store: env.store } : {}),
      // Resolved only when a recall item needs it: a multiple-choice-only run asks for no judge.
      ...(kinds.includes("recall") ? { judge: env.judge() } : {}),
    });
  },
  describe() {
    return {
      dataset:
        "generated from the spec under test, without a model call (cached per spec hash, generator version and seed): rule-of-statement, statement-of-rule, explanation-of-rule (only for rules the spec explains in prose: a rules-only spec has none), forbidden-action (only for rules worded as prohibitions), recall",
      size: "per spec: one item per rule statement and subrule, per rule, per passage of explanation, per prohibition, and one recall item per rule (max_items_per_kind caps each kind)",
      scorers: ["choice (the letter named, A–D)", "recall (judge, against the rule's text)"],
      metrics: [
        "mcq_accuracy: share of multiple-choice answers naming the correct option",
        "recall_rate: share of recall answers that state the rule",
        "recall_accuracy: share of the rule's key points a recall answer states",
      ],
    };
  },
  fields: {
    kind: "metadata:$.kind",
    rule: "metadata:$.rule",
    correct: "scores:$.choice.value.correct",
    recalled: "scores:$.recall.value.recalled",
    accuracy: "scores:$.recall.value.accuracy",
  },
  metrics: [
    {
      name: "mcq_accuracy",
      label: "multiple-choice accuracy",
      field: "correct",
      scale: "proportion",
      better: "higher",
      by: ["kind", "rule"],
      where: { field: "kind", in: [...MCQ_KINDS] },
    },
    {
      name: "recall_rate",
      label: "rule recall rate",
      field: "recalled",
      scale: "proportion",
      better: "higher",
      by: ["rule"],
      where: { field: "kind", in: ["recall"] },
    },
    {
      name: "recall_accuracy",
      label: "recall accuracy (share of key points)",
      field: "accuracy",
      scale: "proportion",
      better: "higher",
      by: ["rule"],
      where: { field: "kind", in: ["recall"] },
    },
  ],
  headline: "mcq_accuracy",
  scorers: [
    { name: "choice", metrics: ["correct"], grader: false },
    { name: "recall", metrics: ["recalled", "accuracy"], grader: true },
  ],
  findings: (_rows, context) => contaminationFinding(context),
  examples: { field: "scores:$.choice.value.correct", order: "asc" },
};

/**
 * Items of the run found verbatim in the arm's training data: a right answer to one of them may
 * be recall of a training document rather than knowledge of the spec.
 */
function contaminationFinding(context: FindingContext): string[] {
  if (!context.trainingTexts) return [];
  const samples = context.samples();
  const hits = contaminatedItems(samples, context.trainingTexts());
  if (!hits.length)
    return [`None of the ${samples.length} items appears verbatim in this arm's MSM or AFT data.`];
  const shown = hits.slice(0, 8).map((h) => `${h.item} (${h.count} text(s))`);
  return [
    `${hits.length} of ${samples.length} items appear verbatim in this arm's MSM or AFT data (contamination): ${shown.join(", ")}${hits.length > shown.length ? `, and ${hits.length - shown.length} more` : ""}.`,
  ];
}
