import { resolve } from "node:path";
import type { JudgeOptions } from "../judge.js";
import { generateOnce, type PromptSpec, withSpec } from "../solvers.js";
import type { Sample, Solver, Task } from "../types.js";
import { type IdQaItem, type ItemSelection, loadItems, selectItems } from "./items.js";
import { rubricScorer } from "./scorer.js";

export const IDQA_TASK_NAME = "id-qa";
export const IDQA_TASK_VERSION = "1";

export interface IdQaTaskArgs extends ItemSelection {
  /** The user's own items (a file, or a folder of `.jsonl` files), relative to `baseDir`. */
  data?: string | undefined;
  baseDir: string;
  spec?: PromptSpec | undefined;
}

/** The question alone as the user message; what the rubric needs rides along in the metadata. */
export function itemSample(item: IdQaItem): Sample {
  return {
    id: item.id,
    input: [{ role: "user", content: item.question }],
    metadata: {
      dimension: item.dimension,
      rules: item.rules,
      rule: item.rules[0],
      split: item.split,
      rubric: item.rubric,
    },
  };
}

/** One answer per sample, kept as it is: the rubric judge reads it whole. */
export function idQaSolver(): Solver {
  return {
    name: "id-qa-generate",
    spec: { name: "id-qa-generate" },
    async solve(sample, model, config, epoch, context, signal) {
      const completion = await generateOnce(sample.input, model, config, epoch, context, signal);
      return { completion, parsed: null };
    },
  };
}

/** The id-qa task: the selected items, answered once per epoch and graded by the rubric judge. */
export function idQaTask(args: IdQaTaskArgs, judge: JudgeOptions): Task {
  const loaded = args.data
    ? loadItems(resolve(args.baseDir, args.data), `data: ${args.data}`)
    : loadItems();
  const items = selectItems(
    loaded.map((l) => l.item),
    args,
  );
  return {
    name: IDQA_TASK_NAME,
    version: IDQA_TASK_VERSION,
    args: {
      split: args.split,
      ...(args.dimensions?.length ? { dimensions: args.dimensions } : {}),
      ...(args.rules?.length ? { rules: args.rules } : {}),
      // As given, not resolved: the same experiment elsewhere is the same run (the dataset's
      // hash, part of the run id, tells different contents apart).
      ...(args.data ? { data: args.data } : {}),
      ...(args.spec ? { spec: { name: args.spec.name, hash: args.spec.hash } } : {}),
    },
    dataset: items.map((i) => withSpec(itemSample(i), args.spec)),
    solver: idQaSolver(),
    scorers: [rubricScorer(judge)],
    // Answers run to a few paragraphs; 4096 leaves reasoning models room to think first (a
    // cut-off answer is not graded, and can be redrawn with a larger budget).
    defaults: { max_tokens: 4096, temperature: 0.7 },
  };
}
