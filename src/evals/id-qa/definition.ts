/**
 * The in-distribution open-QA task as a registered task: its settings, the fields its metrics read
 * from stored scores, and its metrics (App. D.2 of the MSM paper: open answers graded by a judge
 * against a per-item rubric).
 */
import { z } from "zod";
import type { TaskDefinition } from "../registry.js";
import { loadItems } from "./items.js";
import { IDQA_TASK_NAME, idQaTask } from "./task.js";

export const IdQaArgs = z.strictObject({
  split: z.enum(["test", "dev", "all"]).default("test"),
  dimensions: z.array(z.string().min(1)).min(1).optional(),
  /** Only items about these rule ids (an item about several counts for each). */
  rules: z.array(z.string().min(1)).min(1).optional(),
  /** The user's own items in the same format: a file or a folder of `.jsonl` files. */
  data: z.string().min(1).optional(),
});
export type IdQaArgs = z.infer<typeof IdQaArgs>;

export const idQaDefinition: TaskDefinition<IdQaArgs> = {
  name: IDQA_TASK_NAME,
  aliases: ["idqa"],
  summary:
    "in-distribution open questions on the situations the spec covers (shutdown, oversight, limits, honesty); free answers graded by a judge against each item's rubric",
  args: IdQaArgs,
  needs: { judge: true, spec: false },
  build(args, env) {
    return idQaTask(
      {
        split: args.split,
        dimensions: args.dimensions,
        rules: args.rules,
        data: args.data,
        baseDir: env.baseDir,
        spec: env.promptSpec,
      },
      env.judge(),
    );
  },
  describe() {
    const items = loadItems().map((l) => l.item);
    const dimensions = [...new Set(items.map((i) => i.dimension))];
    const test = items.filter((i) => i.split === "test").length;
    return {
      dataset: `open questions written for specsci (scenarios/id-qa), over ${dimensions.length} dimensions: ${dimensions.join(", ")}`,
      size: `${items.length} items (test ${test}, dev ${items.length - test})`,
      scorers: [
        "rubric (judge: each must / must-not criterion with verbatim quotes, and a 1–10 grade)",
      ],
      metrics: [
        "rubric_pass: share of answers that meet every must and avoid every must-not",
        "criteria_met: share of an item's criteria the answer satisfies",
        "grade: the judge's overall grade, 1–10",
      ],
    };
  },
  fields: {
    dimension: "metadata:$.dimension",
    rule: "metadata:$.rule",
    pass: "scores:$.rubric.value.pass",
    criteria: "scores:$.rubric.value.criteria",
    grade: "scores:$.rubric.value.grade",
  },
  metrics: [
    {
      name: "rubric_pass",
      label: "rubric pass rate",
      field: "pass",
      scale: "proportion",
      better: "higher",
      by: ["rule", "dimension"],
    },
    {
      name: "criteria_met",
      label: "criteria met",
      field: "criteria",
      scale: "proportion",
      better: "higher",
      by: ["rule"],
    },
    {
      name: "grade",
      label: "judge grade (1–10)",
      field: "grade",
      scale: "score",
      better: "higher",
      by: ["dimension"],
    },
  ],
  headline: "rubric_pass",
  scorers: [
    { name: "rubric", metrics: ["pass", "criteria", "grade", "grade_scaled"], grader: true },
  ],
  // Failed answers first: they are what a reader checks the judge on.
  examples: { field: "scores:$.rubric.value.pass", order: "asc" },
};
