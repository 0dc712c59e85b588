/**
 * Every experiment of examples/open-questions/ (the directory is read, so a new file is covered
 * too) plans offline with no API key, prints its cost lines, and opens with the comment block
 * issue 21 asks of each: the question, the design, the expected cost from `plan`, and what result
 * would answer it.
 */
import { cpSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cleanupTempDirs, ROOT, runCli, tempDir } from "../helpers.js";

afterAll(cleanupTempDirs);

const DIR = join(ROOT, "examples", "open-questions");
const FILES = readdirSync(DIR)
  .filter((f) => f.endsWith(".yaml"))
  .sort();

/** The comment lines the file opens with, `#` and one space taken off. */
const leadingComments = (text: string) => {
  const lines = text.split("\n");
  const end = lines.findIndex((l) => !l.startsWith("#"));
  return lines.slice(0, end === -1 ? lines.length : end).map((l) => l.replace(/^# ?/, ""));
};

describe("examples/open-questions/", () => {
  it("holds the issue's experiments", () => {
    expect(FILES).toEqual(expect.arrayContaining(["rich-general.yaml", "training-awareness.yaml"]));
  });

  it.each(FILES)(
    "%s opens with the question, the design, the expected cost and what answers it",
    (file) => {
      const block = leadingComments(readFileSync(join(DIR, file), "utf8"));
      const text = block.join("\n");
      expect(block[0], `${file} starts with its question`).toMatch(/^Open question\b/);
      expect(text, `${file}: the design`).toMatch(/\bdesign\b/i);
      expect(text, `${file}: the expected cost`).toMatch(/\bExpected cost\b/);
      expect(text, `${file}: the cost as plan prints it`).toContain(
        `specsci plan examples/open-questions/${file}`,
      );
      expect(text, `${file}: what result answers it`).toMatch(/\bWhat (would )?answers? it\b/i);
    },
  );

  it.each(FILES)("%s plans offline, with its cost lines", async (file) => {
    const cwd = tempDir("specsci-oq-plan-");
    cpSync(join(ROOT, "examples"), cwd, { recursive: true });
    const source = readFileSync(join(DIR, file), "utf8");
    const r = await runCli(["--workspace", "ws", "plan", join("open-questions", file)], {
      cwd,
      env: { ANTHROPIC_API_KEY: undefined, OPENAI_API_KEY: undefined, TOGETHER_API_KEY: undefined },
    });
    expect(r.code, r.stderr + r.stdout.slice(-2000)).toBe(0);
    expect(r.stdout).toMatch(/^cost at most \S+ online, \S+ through batch APIs/m);
    if (/^training:/m.test(source))
      expect(r.stdout).toMatch(/^data to make: \d+ of \d+, about \$\d+\.\d{4} expected/m);
    if (/^budget:/m.test(source)) expect(r.stdout).toMatch(/^budget: \$\d+\.\d{4}; the run stops/m);
  });
});
