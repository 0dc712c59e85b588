/**
 * The multiple-choice task as a registered task: capability retention, i.e. whether spec training
 * (MSM, AFT) cost the model general knowledge and reasoning, on any benchmark file in a common
 * layout or on the shipped sample.
 */
import type { TaskDefinition } from "../registry.js";
import { loadMcqFile, SAMPLE_FILE } from "./dataset.js";
import { MCQ_TASK_NAME, McqArgs, mcqTask } from "./task.js";

export { McqArgs } from "./task.js";

export const mcqDefinition: TaskDefinition<McqArgs> = {
  name: MCQ_TASK_NAME,
  aliases: ["multiple-choice"],
  summary:
    "multiple-choice questions from any JSONL file (MMLU, ARC and flat A–D layouts accepted): does the model still pick the right option? (capability retention)",
  args: McqArgs,
  needs: { judge: false, spec: false },
  build: (args, env) => mcqTask(args, env),
  describe() {
    const sample = loadMcqFile(SAMPLE_FILE);
    const subjects = [...new Set(sample.items.map((i) => i.subject ?? "?"))];
    return {
      dataset: `your JSONL of {question, choices, answer} (data: path); by default the shipped sample ${sample.name}, a smoke test written for specsci (subjects ${subjects.join(", ")})`,
      size: `the sample: ${sample.items.length} items, ${subjects.length} subjects, 4 options each`,
      scorers: ["choice (the answer's letter against the correct one)"],
      metrics: [
        "accuracy: share of answers naming the correct option, by subject (an answer naming no single option is invalid, not wrong)",
      ],
    };
  },
  fields: {
    subject: "metadata:$.subject",
    correct: "scores:$.choice.value.correct",
  },
  metrics: [
    {
      name: "accuracy",
      label: "accuracy",
      field: "correct",
      scale: "proportion",
      better: "higher",
      by: ["subject"],
    },
  ],
  headline: "accuracy",
  scorers: [{ name: "choice", metrics: ["correct"], grader: false }],
  examples: { field: "scores:$.choice.value.correct", order: "asc" },
};
