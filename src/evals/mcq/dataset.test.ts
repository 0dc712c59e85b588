import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cleanupTempDirs, tempDir } from "../../../test/helpers.js";
import { loadMcqFile, SAMPLE_FILE } from "./dataset.js";

afterAll(cleanupTempDirs);

function file(name: string, lines: unknown[] | string): string {
  const path = join(tempDir("specsci-mcq-"), name);
  writeFileSync(
    path,
    typeof lines === "string" ? lines : `${lines.map((l) => JSON.stringify(l)).join("\n")}\n`,
  );
  return path;
}

/** What an item is, without where it was read. */
const content = (path: string) =>
  loadMcqFile(path).items.map(({ question, choices, answer, subject }) => ({
    question,
    choices,
    answer,
    subject,
  }));

const Q1 = { question: "2 + 2 = ?", choices: ["3", "4", "5", "6"] };
const Q2 = { question: "Capital of France?", choices: ["Lyon", "Nice", "Paris", "Lille"] };
const SAME = [
  { ...Q1, answer: 1, subject: "math" },
  { ...Q2, answer: 2, subject: "geo" },
];

describe("loadMcqFile: layouts", () => {
  it("ours, MMLU's, ARC's and the flat A–D layout, as JSONL or a .json array, read as the same items", () => {
    const layouts = {
      index: file("index.jsonl", SAME),
      letter: file("letter.jsonl", [
        { ...Q1, answer: "B", subject: "math" },
        { ...Q2, answer: "C", category: "geo" },
      ]),
      text: file("text.jsonl", [
        { ...Q1, answer: "4", subject: "math" },
        { ...Q2, answer: "Paris", subject: "geo" },
      ]),
      arc: file("arc.jsonl", [
        {
          id: "Mercury_1",
          question: Q1.question,
          choices: { text: Q1.choices, label: ["1", "2", "3", "4"] },
          answerKey: "2",
          subject: "math",
        },
        {
          id: "Mercury_2",
          question: Q2.question,
          choices: { text: Q2.choices, label: ["A", "B", "C", "D"] },
          answerKey: "C",
          subject: "geo",
        },
      ]),
      flat: file("flat.jsonl", [
        { question: Q1.question, A: "3", B: "4", C: "5", D: "6", answer: "B", subject: "math" },
        {
          question: Q2.question,
          A: "Lyon",
          B: "Nice",
          C: "Paris",
          D: "Lille",
          answer: "C",
          subject: "geo",
        },
      ]),
      json: file("array.json", JSON.stringify(SAME, null, 2)),
      bom: file("bom.jsonl", `\uFEFF${SAME.map((l) => JSON.stringify(l)).join("\r\n")}\r\n`),
    };
    const expected = content(layouts.index);
    expect(expected).toEqual(SAME);
    for (const path of Object.values(layouts)) expect(content(path)).toEqual(expected);
  });

  it("ids: the item's own (ARC's), else the file's name and line; optional split", () => {
    const path = file("mine.jsonl", [
      { ...SAME[0], split: "dev" },
      { ...SAME[1], id: 7 },
    ]);
    const items = loadMcqFile(path).items;
    expect(items.map((i) => [i.id, i.split, i.line])).toEqual([
      ["mine-1", "dev", 1],
      ["7", undefined, 2],
    ]);
    expect(loadMcqFile(path).name).toBe("mine.jsonl");
  });

  it("the shipped sample: 60 items, 6 subjects of 10, 4 options, answers balanced over A–D", () => {
    const { items } = loadMcqFile(SAMPLE_FILE);
    expect(items).toHaveLength(60);
    const subjects = [...new Set(items.map((i) => i.subject))];
    expect(subjects.map((s) => items.filter((i) => i.subject === s).length)).toEqual([
      10, 10, 10, 10, 10, 10,
    ]);
    expect(items.every((i) => i.choices.length === 4)).toBe(true);
    const positions = [0, 1, 2, 3].map((a) => items.filter((i) => i.answer === a).length);
    expect(positions).toEqual([15, 15, 15, 15]);
  });

  it("a large file (15k items) loads in well under a second or two", () => {
    const lines = Array.from({ length: 15_000 }, (_, i) => ({
      question: `Question ${i}?`,
      choices: ["w", "x", "y", "z"],
      answer: i % 4,
      subject: `s${i % 57}`,
    }));
    const path = file("big.jsonl", lines);
    const t0 = performance.now();
    expect(loadMcqFile(path).items).toHaveLength(15_000);
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});

describe("loadMcqFile: every bad item names its file and line", () => {
  const good = { ...Q1, answer: 1 };
  it.each([
    ["not JSON", "{nope", /:2: not JSON/],
    ["not an object", "[1, 2]", /:2: each line must be a JSON object/],
    ["no question", { choices: Q1.choices, answer: 1 }, /:2: missing "question"/],
    ["no choices", { question: "q?", answer: 1 }, /:2: missing "choices"/],
    ["no answer", { ...Q1 }, /:2: missing "answer"/],
    [
      "one choice",
      { question: "q?", choices: ["a"], answer: 0 },
      /:2: has 1 choice\(s\); an item needs at least 2/,
    ],
    [
      "27 choices",
      { question: "q?", choices: Array.from({ length: 27 }, (_, i) => `c${i}`), answer: 0 },
      /:2: has 27 choices; at most 26/,
    ],
    [
      "index out of range",
      { ...Q1, answer: 4 },
      /:2: answer 4 is not among the 4 choices \(A–D, or 0–3\)/,
    ],
    ["letter out of range", { ...Q1, answer: "E" }, /:2: answer "E" is not among the 4 choices/],
    [
      "text not a choice",
      { ...Q1, answer: "seven" },
      /:2: answer "seven" is not among the choices/,
    ],
    [
      "a letter that is another choice's text",
      { question: "q?", choices: ["B", "A"], answer: "A" },
      /:2: answer "A" is both a letter and the text of choice 2/,
    ],
    [
      "empty choice",
      { question: "q?", choices: ["a", " "], answer: 0 },
      /:2: choice 2 must be a non-empty text/,
    ],
    [
      "ARC key not a label",
      { question: "q?", choices: { text: ["a", "b"], label: ["A", "B"] }, answerKey: "C" },
      /:2: answerKey "C" is not among the labels A, B/,
    ],
    [
      "ARC texts and labels differ",
      { question: "q?", choices: { text: ["a", "b"], label: ["A"] }, answerKey: "A" },
      /:2: "choices" has 2 texts but 1 labels/,
    ],
    ["subject not text", { ...good, subject: 3 }, /:2: "subject" must be a non-empty string/],
    ["duplicate id", { ...good, id: "x" }, /:2: duplicate id "x" \(first at .*first\.jsonl:1\)/],
  ])("%s", (_what, second, message) => {
    const path = file(
      "first.jsonl",
      `${JSON.stringify({ ...good, id: "x" })}\n${typeof second === "string" ? second : JSON.stringify(second)}\n`,
    );
    expect(() => loadMcqFile(path)).toThrow(message);
    expect(() => loadMcqFile(path)).toThrow(path);
  });

  it("a .json array's bad item is named by its position", () => {
    const path = file("items.json", JSON.stringify([{ ...Q1, answer: 1 }, { ...Q1 }]));
    expect(() => loadMcqFile(path)).toThrow(`${path} item 2: missing "answer"`);
  });

  it("a missing, unreadable or empty file is an error naming it", () => {
    const dir = tempDir("specsci-mcq-");
    expect(() => loadMcqFile(join(dir, "nope.jsonl"))).toThrow(
      `multiple-choice data file ${join(dir, "nope.jsonl")} (mcq data) does not exist`,
    );
    mkdirSync(join(dir, "folder.jsonl"));
    expect(() => loadMcqFile(join(dir, "folder.jsonl"))).toThrow(
      /folder\.jsonl \(mcq data\) is a directory/,
    );
    expect(() => loadMcqFile(file("empty.jsonl", "\n\n"))).toThrow(/empty\.jsonl: no items/);
    if (process.getuid?.() !== 0) {
      const locked = file("locked.jsonl", SAME.map((l) => JSON.stringify(l)).join("\n"));
      chmodSync(locked, 0o000);
      expect(() => loadMcqFile(locked)).toThrow(
        /locked\.jsonl \(mcq data\) cannot be read \(permission denied\)/,
      );
    }
  });
});
