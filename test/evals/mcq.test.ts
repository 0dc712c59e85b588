import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { SpecsciError } from "../../src/core/errors.js";
import { loadMcqFile, SAMPLE_FILE } from "../../src/evals/mcq/dataset.js";
import { mcqDefinition } from "../../src/evals/mcq/definition.js";
import { limitItems } from "../../src/evals/registry.js";
import { evalRunId, runEval } from "../../src/evals/runner.js";
import { summarizeTask } from "../../src/evals/task-metrics.js";
import type { Task } from "../../src/evals/types.js";
import { registerMcqStudent } from "../fakes/mcq-models.js";
import { cleanupTempDirs, makeClient, tempDir } from "../helpers.js";

afterAll(cleanupTempDirs);

const SAMPLE = loadMcqFile(SAMPLE_FILE).items;
const KNOWS = new Set(["arithmetic-word-problems", "biology"]);
registerMcqStudent("mcq-student", SAMPLE, (s) =>
  s === "reading-comprehension" ? "invalid" : KNOWS.has(s as string) ? "right" : "wrong",
);
registerMcqStudent("mcq-expert", SAMPLE, () => "right");

const build = (args: Record<string, unknown> = {}, baseDir = process.cwd()) =>
  mcqDefinition.build(mcqDefinition.args.parse(args), {
    baseDir,
    judge: () => {
      throw new Error("mcq needs no judge");
    },
  });

const lastUser = (task: Task, i: number) => task.dataset[i]?.input.at(-1)?.content ?? "";

async function run(task: Task, model: string, epochs = 1) {
  const { client, store } = makeClient();
  const summary = await runEval({ client, task, modelId: model, epochs });
  const rows = store.evals.fieldRows(summary.runId, mcqDefinition.fields);
  return { summary, store, rows, result: summarizeTask(mcqDefinition, rows) };
}

function writeJsonl(dir: string, name: string, items: unknown[]): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  writeFileSync(path, `${items.map((i) => JSON.stringify(i)).join("\n")}\n`);
  return path;
}

describe("mcq task end to end", () => {
  it("accuracy by subject; an answer naming no option is invalid, not wrong", async () => {
    const { summary, result } = await run(build(), "fake/mcq-student");
    expect(summary).toMatchObject({ total: 60, done: 60, errors: 0 });
    const accuracy = result.metrics.find((m) => m.metric.name === "accuracy");
    // 20 right of the 50 that name an option; the 10 reading items are invalid, in no denominator.
    expect(accuracy?.overall).toMatchObject({ samples: 50, items: 50, mean: 0.4, invalid: 10 });
    const cells = Object.fromEntries(
      (accuracy?.by[0]?.cells ?? []).map((c) => [c.key, [c.mean, c.items, c.invalid]]),
    );
    expect(cells).toEqual({
      "arithmetic-word-problems": [1, 10, 0],
      biology: [1, 10, 0],
      logic: [0, 10, 0],
      "physical-science": [0, 10, 0],
      "reading-comprehension": [Number.NaN, 0, 10],
      "world-geography": [0, 10, 0],
    });
  });

  it("a failed model call is an error, never a wrong or a right answer", async () => {
    const { summary, result } = await run(limitItems(build(), 2), "fake/no-such-model");
    expect(summary).toMatchObject({ done: 0, errors: 2 });
    expect(result.outcomes.error).toBe(2);
    expect(result.metrics[0]?.overall).toMatchObject({ samples: 0, invalid: 0 });
  });

  it("shuffle_choices with a seed moves the options and the correct letter with them", async () => {
    const plain = build();
    const shuffled = build({ shuffle_choices: true, seed: 3 });
    const moved = shuffled.dataset.filter((s, i) => s.target !== plain.dataset[i]?.target).length;
    expect(moved).toBeGreaterThan(20);
    shuffled.dataset.forEach((s, i) => {
      const item = SAMPLE[i];
      const shownRight = new RegExp(`^${s.target}\\. (.*)$`, "m").exec(lastUser(shuffled, i))?.[1];
      expect(shownRight).toBe(item?.choices[item.answer]);
    });
    expect(build({ shuffle_choices: true, seed: 3 }).dataset).toEqual(shuffled.dataset);
    expect(build({ shuffle_choices: true, seed: 4 }).dataset).not.toEqual(shuffled.dataset);
    expect(shuffled.args).toMatchObject({ shuffle_choices: true, seed: 3 });
    // The seed shuffles only when shuffling is on: otherwise it is not part of the run.
    expect(build({ seed: 9 }).args).toEqual(plain.args);
    const { result } = await run(shuffled, "fake/mcq-expert");
    expect(result.metrics[0]?.overall).toMatchObject({ samples: 60, mean: 1 });
  });

  it("few_shot: solved examples from the file's dev split, the item's subject first", () => {
    const dir = tempDir("specsci-mcq-");
    const q = (id: string, subject: string, split: string) => ({
      id,
      subject,
      split,
      question: `Question ${id}?`,
      choices: ["w", "x", "y", "z"],
      answer: 2,
    });
    writeJsonl(dir, "bench.jsonl", [
      q("d1", "math", "dev"),
      q("d2", "art", "dev"),
      q("d3", "art", "dev"),
      q("t1", "art", "test"),
      q("t2", "math", "test"),
    ]);
    const task = build({ data: "bench.jsonl", few_shot: 2 }, dir);
    // Dev items are the examples, so without a split they are not asked.
    expect(task.dataset.map((s) => s.id)).toEqual(["t1", "t2"]);
    const [t1, t2] = task.dataset;
    expect(t1?.input.map((m) => m.role)).toEqual([
      "system",
      "user",
      "assistant",
      "user",
      "assistant",
      "user",
    ]);
    expect(t1?.input[1]?.content).toMatch(/^Question d2\?/);
    expect(t1?.input[2]?.content).toBe("C");
    expect(t1?.input[3]?.content).toMatch(/^Question d3\?/);
    expect(t1?.input[5]?.content).toMatch(/^Question t1\?\n\nA\. w\nB\. x\nC\. y\nD\. z\n\n/);
    expect(t2?.input[1]?.content).toMatch(/^Question d1\?/);
    expect(t2?.input[3]?.content).toMatch(/^Question d2\?/);
    expect(build({ data: "bench.jsonl", few_shot: 2 }, dir).dataset).toEqual(task.dataset);
    expect(task.args).toMatchObject({ few_shot: 2, name: "bench" });

    // Without a dev split: the file's other items, never the item itself.
    const noDev = build({ data: "bench.jsonl", split: "test", few_shot: 1 }, dir);
    expect(noDev.dataset.map((s) => s.id)).toEqual(["t1", "t2"]);
    writeJsonl(dir, "flat.jsonl", [q("a", "s", "x"), q("b", "s", "x"), q("c", "s", "x")]);
    const flat = build({ data: "flat.jsonl", few_shot: 2 }, dir);
    expect(flat.dataset.map((s) => s.input.filter((m) => m.role === "assistant").length)).toEqual([
      2, 2, 2,
    ]);
    expect(flat.dataset[0]?.input[1]?.content).toMatch(/^Question b\?/);
    expect(flat.dataset[1]?.input[1]?.content).toMatch(/^Question a\?/);
    expect(flat.dataset[1]?.input[3]?.content).toMatch(/^Question c\?/);
    expect(() => build({ data: "flat.jsonl", few_shot: 3 }, dir)).toThrow(
      /few_shot 3: flat\.jsonl has only 2 other item\(s\) to show as examples before .*flat\.jsonl:1/,
    );
  });

  it("the run id follows the file's content, not its folder: an edited file is a new run, a moved one resumes", async () => {
    const a = tempDir("specsci-mcq-");
    const b = tempDir("specsci-mcq-");
    const items = SAMPLE.slice(0, 4).map(({ question, choices, answer, subject }) => ({
      question,
      choices,
      answer,
      subject,
    }));
    writeJsonl(a, "mine.jsonl", items);
    mkdirSync(join(b, "elsewhere"));
    copyFileSync(join(a, "mine.jsonl"), join(b, "elsewhere", "mine.jsonl"));
    const id = (t: Task) => evalRunId(t, "fake/mcq-expert", 1, t.defaults);
    const here = build({ data: "mine.jsonl" }, a);
    const moved = build({ data: join(b, "elsewhere", "mine.jsonl") });
    expect(id(moved)).toBe(id(here));
    expect(here.args.data).toEqual([
      { file: "mine.jsonl", sha256: expect.stringMatching(/^[0-9a-f]{64}$/) },
    ]);
    expect(JSON.stringify(here.args) + JSON.stringify(here.dataset)).not.toContain(a);

    const { client } = makeClient();
    const first = await runEval({ client, task: here, modelId: "fake/mcq-expert", epochs: 1 });
    const again = await runEval({ client, task: moved, modelId: "fake/mcq-expert", epochs: 1 });
    expect(again).toMatchObject({ runId: first.runId, resumed: 4, done: 0 });

    writeJsonl(
      a,
      "mine.jsonl",
      items.map((i, n) => (n === 0 ? { ...i, question: `${i.question} ` } : i)),
    );
    expect(id(build({ data: "mine.jsonl" }, a))).not.toBe(id(here));
  });

  it("limitItems keeps the first items, every epoch of each", async () => {
    const task = limitItems(build(), 3);
    expect(task.dataset.map((s) => s.id)).toEqual(["arith-01", "arith-02", "arith-03"]);
    expect(task.args).toMatchObject({ limit: 3 });
    const { summary, rows } = await run(task, "fake/mcq-expert", 2);
    expect(summary).toMatchObject({ total: 6, done: 6 });
    expect(rows.map((r) => `${r.sampleId}#${r.epoch}`)).toEqual([
      "arith-01#1",
      "arith-01#2",
      "arith-02#1",
      "arith-02#2",
      "arith-03#1",
      "arith-03#2",
    ]);
  });
});

describe("mcq task settings", () => {
  it("subjects and split select items; an unknown one is an error naming what there is", () => {
    const task = build({ subjects: ["logic", "biology"] });
    expect(task.dataset).toHaveLength(20);
    expect(new Set(task.dataset.map((s) => s.metadata.subject))).toEqual(
      new Set(["logic", "biology"]),
    );
    expect(() => build({ subjects: ["biolgy"] })).toThrow(
      'no item has subject "biolgy" (did you mean biology?)',
    );
    expect(() => build({ split: "test" })).toThrow('no item has split "test"');
  });

  it("several files are one dataset; ids must be unique across them", () => {
    const dir = tempDir("specsci-mcq-");
    const item = { question: "q?", choices: ["a", "b"], answer: 0 };
    writeJsonl(dir, "one.jsonl", [item]);
    writeJsonl(dir, "two.jsonl", [item, item]);
    const task = build({ data: ["one.jsonl", "two.jsonl"] }, dir);
    expect(task.dataset.map((s) => [s.id, s.metadata.source, s.metadata.dataset])).toEqual([
      ["one-1", "one.jsonl:1", "one+two"],
      ["two-1", "two.jsonl:1", "one+two"],
      ["two-2", "two.jsonl:2", "one+two"],
    ]);
    // A subject or split asked for needs to be in one of the files, not in each.
    writeJsonl(dir, "art.jsonl", [{ ...item, subject: "art" }]);
    expect(
      build({ data: ["one.jsonl", "art.jsonl"], subjects: ["art"] }, dir).dataset,
    ).toHaveLength(1);
    expect(() => build({ data: ["one.jsonl", "art.jsonl"], subjects: ["arts"] }, dir)).toThrow(
      'no item has subject "arts" (did you mean art?)',
    );
    writeJsonl(dir, "three.jsonl", [{ ...item, id: "one-1" }]);
    expect(() => build({ data: ["one.jsonl", "three.jsonl"] }, dir)).toThrow(
      /three\.jsonl:1: duplicate id "one-1" \(first at .*one\.jsonl:1\)/,
    );
    const missing = (() => {
      try {
        build({ data: "missing.jsonl" }, dir);
      } catch (e) {
        return e as SpecsciError;
      }
    })();
    expect(missing?.message).toContain(`${join(dir, "missing.jsonl")} (mcq data) does not exist`);
    expect(missing?.hint).toBe(`check the path (relative paths in data are taken from ${dir})`);
  });

  it("a prompted arm's spec goes in the system prompt and into the run's arguments", () => {
    const task = mcqDefinition.build(mcqDefinition.args.parse({}), {
      baseDir: process.cwd(),
      judge: () => {
        throw new Error("no judge");
      },
      promptSpec: { name: "tiny", hash: "abc", text: "Be kind." },
    });
    expect(task.dataset[0]?.input[0]?.content).toMatch(
      /<model_spec>\nBe kind\.\n<\/model_spec>[\s\S]*multiple-choice/,
    );
    expect(task.args.spec).toEqual({ name: "tiny", hash: "abc" });
  });

  it("settings: strict, with defaults; the prompt asks for a letter", () => {
    expect(mcqDefinition.args.parse({})).toEqual({ shuffle_choices: false, seed: 0, few_shot: 0 });
    expect(() => mcqDefinition.args.parse({ shuffle: true })).toThrow(/shuffle/);
    const task = build();
    expect(task.defaults).toEqual({ temperature: 0, max_tokens: 4096 });
    expect(task.args).toMatchObject({ name: "sample", few_shot: 0, shuffle_choices: false });
    expect(lastUser(task, 0)).toMatch(
      /\n\nA\. .*\nB\. .*\nC\. .*\nD\. .*\n\nAnswer with the letter of the correct option \(A, B, C or D\)\.$/,
    );
    expect(mcqDefinition.describe().size).toBe("the sample: 60 items, 6 subjects, 4 options each");
  });
});
