/**
 * The multiple-choice task (capability retention): items from the user's files (or the shipped
 * sample), asked one at a time with their options lettered, optionally after solved examples;
 * the answer's letter is read and compared with the correct one.
 */
import { isAbsolute, resolve } from "node:path";
import { z } from "zod";
import { SpecsciError } from "../../core/errors.js";
import { sha256Hex } from "../../core/hash.js";
import { seededRandom } from "../../core/random.js";
import { closestMatch } from "../../core/text.js";
import type { ChatMessage } from "../../llm/types.js";
import type { TaskEnv } from "../registry.js";
import { generateOnce, withSpec } from "../solvers.js";
import type { Sample, Score, Scorer, Solver, Task } from "../types.js";
import {
  checkUniqueIds,
  LETTERS,
  loadMcqFile,
  type McqFile,
  type McqItem,
  SAMPLE_FILE,
} from "./dataset.js";
import { PARSER_VERSION, type ParsedChoice, parseChoice } from "./parse.js";

export const MCQ_TASK_NAME = "mcq";
export const MCQ_TASK_VERSION = "1";
export const PROMPT_VERSION = "mcq-prompt/1";
/** The split whose items are the solved examples when `few_shot` is set (MMLU's convention). */
export const DEV_SPLIT = "dev";

export const McqArgs = z.strictObject({
  /** Data files (JSONL or a .json array), relative to the experiment's folder; default: the sample. */
  data: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
  subjects: z.array(z.string().min(1)).min(1).optional(),
  split: z.string().min(1).optional(),
  shuffle_choices: z.boolean().default(false),
  /** Seeds the option shuffle (not the generation: that is the run's own seed). */
  seed: z.number().int().nonnegative().default(0),
  few_shot: z.number().int().nonnegative().default(0),
  /** The dataset's name in reports; default the data file's name. */
  name: z.string().min(1).optional(),
});
export type McqArgs = z.infer<typeof McqArgs>;

/** One item as asked: its options in the order shown and the correct one's letter. */
interface Presented {
  item: McqItem;
  choices: string[];
  letter: string;
}

export function mcqTask(args: McqArgs, env: Pick<TaskEnv, "baseDir" | "promptSpec">): Task {
  const paths = (args.data === undefined ? [SAMPLE_FILE] : [args.data].flat()).map((p) =>
    isAbsolute(p) ? p : resolve(env.baseDir, p),
  );
  const hint = `check the path (relative paths in data are taken from ${env.baseDir})`;
  const files = paths.map((p) => loadMcqFile(p, hint));
  checkUniqueIds(files.flatMap((f) => f.items));
  checkSelection(files, args);
  const name = args.name ?? files.map((f) => f.name.replace(/\.[^.]+$/, "")).join("+");
  const present = presenter(args);
  const dataset: Sample[] = files.flatMap((file) => {
    const examples = examplePicker(file, args.few_shot);
    return selectItems(file, args).map((item) =>
      withSpec(toSample(present(item), examples(item).map(present), name, file), env.promptSpec),
    );
  });
  if (dataset.length === 0) throw new SpecsciError("no multiple-choice items selected");
  return {
    name: MCQ_TASK_NAME,
    version: MCQ_TASK_VERSION,
    args: {
      // Files by name and content hash, not by path: an edited file is a new run, while the same
      // file copied to another folder (another machine, a moved experiment) resumes the same run.
      data: files.map((f) => ({ file: f.name, sha256: f.sha256 })),
      name,
      ...(args.subjects ? { subjects: args.subjects } : {}),
      ...(args.split ? { split: args.split } : {}),
      shuffle_choices: args.shuffle_choices,
      ...(args.shuffle_choices ? { seed: args.seed } : {}),
      few_shot: args.few_shot,
      ...(env.promptSpec ? { spec: { name: env.promptSpec.name, hash: env.promptSpec.hash } } : {}),
    },
    dataset,
    solver: mcqSolver(),
    scorers: [choiceScorer()],
    // Greedy decoding for a fixed answer. The budget is far above one letter because reasoning
    // models spend output tokens thinking before they answer; a letter-sized budget would cut
    // them off (recorded as truncated, in no rate), while other models stop after the letter.
    defaults: { temperature: 0, max_tokens: 4096 },
  };
}

/** A split or subject asked for must be somewhere in the data (a typo would select nothing). */
function checkSelection(files: McqFile[], args: McqArgs): void {
  const all = files.flatMap((f) => f.items);
  const where = `in ${files.map((f) => f.name).join(", ")}`;
  if (args.split && !all.some((i) => i.split === args.split))
    throw unknownValue(
      "split",
      args.split,
      `splits ${where}`,
      all.map((i) => i.split),
    );
  for (const s of args.subjects ?? [])
    if (!all.some((i) => i.subject === s))
      throw unknownValue(
        "subject",
        s,
        `subjects ${where}`,
        all.map((i) => i.subject),
      );
}

/**
 * The items asked: those of the split asked for and the subjects asked for. Without a split, a
 * file's `dev` items are left out when they serve as the solved examples.
 */
function selectItems(file: McqFile, args: McqArgs): McqItem[] {
  const devExamples = args.few_shot > 0 && file.items.some((i) => i.split === DEV_SPLIT);
  return file.items.filter(
    (i) =>
      (args.split ? i.split === args.split : !(devExamples && i.split === DEV_SPLIT)) &&
      (!args.subjects || (i.subject !== undefined && args.subjects.includes(i.subject))),
  );
}

function unknownValue(
  what: string,
  value: string,
  where: string,
  present: (string | undefined)[],
): SpecsciError {
  const known = [...new Set(present.filter((v): v is string => v !== undefined))].sort();
  const near = closestMatch(value, known);
  return new SpecsciError(
    `no item has ${what} "${value}"${near ? ` (did you mean ${near}?)` : ""}`,
    {
      hint: known.length
        ? `${where}: ${known.slice(0, 30).join(", ")}${known.length > 30 ? `, … (${known.length})` : ""}`
        : `no item in it has a "${what}" field`,
    },
  );
}

/**
 * The solved examples asked before each item: from the file's `dev` split when it has one, else
 * its other items; those of the item's subject first, each group in file order (deterministic, and
 * the same prefix for every item of a subject). Grouped once, so a large file stays linear.
 */
function examplePicker(file: McqFile, k: number): (item: McqItem) => McqItem[] {
  if (k === 0) return () => [];
  const dev = file.items.filter((i) => i.split === DEV_SPLIT);
  const devGroups = bySubject(dev);
  const allGroups = bySubject(file.items);
  return (item) => {
    const fromDev = dev.length > 0 && item.split !== DEV_SPLIT;
    const pool = fromDev ? dev : file.items;
    const others = pool.length - (fromDev ? 0 : 1);
    if (others < k)
      throw new SpecsciError(
        `few_shot ${k}: ${file.name} has only ${others} other item(s) to show as examples before ${item.where}`,
        { hint: 'lower few_shot, or add a dev split (items with "split": "dev")' },
      );
    const group = (fromDev ? devGroups : allGroups).get(item.subject) ?? [];
    const picked = firstOthers(group, item, k, () => true);
    if (picked.length === k) return picked;
    return [
      ...picked,
      ...firstOthers(pool, item, k - picked.length, (i) => i.subject !== item.subject),
    ];
  };
}

function bySubject(items: McqItem[]): Map<string | undefined, McqItem[]> {
  const groups = new Map<string | undefined, McqItem[]>();
  for (const i of items) {
    const group = groups.get(i.subject);
    if (group) group.push(i);
    else groups.set(i.subject, [i]);
  }
  return groups;
}

/** The first `k` items of `list` other than `item` that `keep` accepts. */
function firstOthers(
  list: McqItem[],
  item: McqItem,
  k: number,
  keep: (i: McqItem) => boolean,
): McqItem[] {
  const out: McqItem[] = [];
  for (const i of list) {
    if (out.length === k) break;
    if (i !== item && keep(i)) out.push(i);
  }
  return out;
}

/** Shows an item's options as they are, or in an order drawn from `seed` and the item's id. */
function presenter(args: McqArgs): (item: McqItem) => Presented {
  return (item) => {
    const order = item.choices.map((_, i) => i);
    if (args.shuffle_choices) {
      // Seeded by the item itself, so its order does not depend on which other items are asked.
      const random = seededRandom(
        Number.parseInt(sha256Hex(`${args.seed}/${item.id}`).slice(0, 8), 16),
      );
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [order[i], order[j]] = [order[j] as number, order[i] as number];
      }
    }
    return {
      item,
      choices: order.map((i) => item.choices[i] as string),
      letter: LETTERS[order.indexOf(item.answer)] as string,
    };
  };
}

const SYSTEM =
  "You are answering a multiple-choice question. Exactly one of the lettered options is correct. Reply with that option's letter alone, with no explanation.";

function questionText(p: Presented): string {
  const letters = LETTERS.slice(0, p.choices.length).split("");
  const options = p.choices.map((c, i) => `${letters[i]}. ${c}`).join("\n");
  const last = letters.pop();
  return `${p.item.question}\n\n${options}\n\nAnswer with the letter of the correct option (${letters.join(", ")} or ${last}).`;
}

function toSample(p: Presented, examples: Presented[], dataset: string, file: McqFile): Sample {
  const input: ChatMessage[] = [{ role: "system", content: SYSTEM }];
  for (const e of examples)
    input.push(
      { role: "user", content: questionText(e) },
      { role: "assistant", content: e.letter },
    );
  input.push({ role: "user", content: questionText(p) });
  return {
    id: p.item.id,
    input,
    target: p.letter,
    metadata: {
      subject: p.item.subject ?? null,
      ...(p.item.split !== undefined ? { split: p.item.split } : {}),
      dataset,
      source: `${file.name}:${p.item.line}`,
      choices: p.choices.length,
    },
  };
}

/** Asks once with the run's settings and reads the letter from the answer (not the reasoning). */
export function mcqSolver(): Solver {
  return {
    name: "mcq-generate",
    spec: { name: "mcq-generate", prompt_version: PROMPT_VERSION, parser: PARSER_VERSION },
    async solve(sample, model, config, epoch, context, signal) {
      const completion = await generateOnce(sample.input, model, config, epoch, context, signal);
      return { completion, parsed: parseChoice(completion.text, Number(sample.metadata.choices)) };
    },
  };
}

/**
 * `correct` is 1 or 0 when the answer names one option; an answer naming none (or several) has
 * no `correct`, so it is counted as invalid, never as a wrong answer.
 */
export function choiceScorer(): Scorer {
  return {
    name: "choice",
    spec: { name: "choice", parser: PARSER_VERSION },
    async score(state): Promise<Score> {
      const parsed = state.parsed as ParsedChoice;
      const target = state.sample.target as string;
      if ("invalid" in parsed)
        return {
          value: {},
          explanation: parsed.detail,
          metadata: { invalid: parsed.invalid, target },
        };
      const correct = parsed.letter === target;
      return {
        value: { correct: correct ? 1 : 0 },
        answer: parsed.letter,
        explanation: correct
          ? `${parsed.letter} is correct`
          : `${parsed.letter}; the correct option is ${target}`,
        metadata: { target },
      };
    },
  };
}
