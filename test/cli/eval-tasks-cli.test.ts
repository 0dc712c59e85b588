/**
 * Every task through the CLI: `eval tasks`, `eval run TASK` with its settings (`--arg`), `--limit`,
 * a user's own multiple-choice file, the tiny local model, and the mistakes a user makes.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeLlmServer } from "../fakes/llm-server.js";
import { cleanupTempDirs, runCli, tempDir } from "../helpers.js";

let server: FakeLlmServer;
let cwd: string;
let env: Record<string, string>;

beforeAll(async () => {
  // A student who always answers "B", and the loopback judges.
  server = await new FakeLlmServer({
    record: false,
    chatReply: (body) => {
      const last = body.messages.at(-1)?.content;
      const text = typeof last === "string" ? last : JSON.stringify(last);
      return /\bB[.)]|Response B:/.test(text) &&
        !body.messages.some((m) => m.role === "system" && String(m.content).startsWith("You grade"))
        ? { content: "Answer: B" }
        : undefined;
    },
  }).start();
  cwd = tempDir("specsci-tasks-cli-");
  writeFileSync(
    join(cwd, "specsci.yaml"),
    `endpoints: { loop: { base_url: "${server.url}/v1" } }\ndefaults: { max_attempts: 2, retry_base_ms: 1 }\nproviders: { local: { threads: 1 } }\n`,
  );
  env = { SPECSCI_MODEL_CACHE: tempDir("specsci-models-") };
  // A user's own benchmark file: B is right for the first two items, A for the third.
  writeFileSync(
    join(cwd, "mine.jsonl"),
    [
      { question: "2 + 2?", choices: ["3", "4", "5"], answer: 1, subject: "math" },
      { question: "Capital of France?", choices: ["Rome", "Paris"], answer: "B", subject: "geo" },
      { question: "Water is wet?", choices: ["yes", "no"], answer: "yes", subject: "geo" },
    ]
      .map((x) => JSON.stringify(x))
      .join("\n"),
  );
});
afterAll(async () => {
  await server.stop();
  cleanupTempDirs();
});

const cli = (args: string[]) => runCli(["--workspace", "ws", ...args], { cwd, env });

describe("specsci eval, for every task", () => {
  it("lists the tasks with their datasets, sizes, scorers and settings", async () => {
    const r = await cli(["--json", "eval", "tasks"]);
    expect(r.code, r.stderr).toBe(0);
    const tasks = JSON.parse(r.stdout) as { name: string; size: string; settings: string[] }[];
    expect(tasks.map((t) => t.name)).toEqual([
      "agentic-misalignment",
      "value-generalization",
      "id-qa",
      "spec-knowledge",
      "mcq",
    ]);
    expect(tasks.find((t) => t.name === "value-generalization")?.size).toMatch(/^210 pairs/);
    expect(tasks.find((t) => t.name === "id-qa")?.size).toMatch(/^151 items/);
    expect(tasks.find((t) => t.name === "mcq")?.settings).toContain("data");
    const text = await cli(["eval", "tasks"]);
    expect(text.stdout).toContain("spec-knowledge (alias sk):");
  });

  it("runs a user's own multiple-choice file without code, and --limit keeps the first items", async () => {
    const r = await cli([
      "--json",
      "eval",
      "run",
      "mcq",
      "-m",
      "loop/student",
      "--arg",
      "data=mine.jsonl",
    ]);
    expect(r.code, r.stderr).toBe(0);
    const run = JSON.parse(r.stdout);
    const accuracy = run.metrics.metrics[0];
    expect(accuracy.overall).toMatchObject({ items: 3, mean: 2 / 3, invalid: 0 });
    expect(accuracy.by[0].cells.map((c: { key: string; mean: number }) => [c.key, c.mean])).toEqual(
      [
        ["geo", 0.5],
        ["math", 1],
      ],
    );
    const limited = await cli([
      "--json",
      "eval",
      "run",
      "mcq",
      "-m",
      "loop/student",
      "--arg",
      "data=mine.jsonl",
      "--limit",
      "2",
      "--seed",
      "3",
    ]);
    expect(limited.code, limited.stderr).toBe(0);
    const l = JSON.parse(limited.stdout);
    expect(l.run.id).not.toBe(run.run.id);
    expect(l.run.sampleCount).toBe(2);
    expect(l.run.generateConfig.seed).toBe(3);
    expect(l.metrics.metrics[0].overall.mean).toBe(1);
  });

  it("runs value generalization in both orders, with its order effect", async () => {
    const r = await cli(["eval", "run", "vg", "-m", "loop/student", "--limit", "3"]);
    expect(r.code, r.stderr).toBe(0);
    // Always "B": aligned when the aligned response is second, never when it is first.
    expect(r.stdout).toMatch(/aligned-first +3 +3 +0\.0%/);
    expect(r.stdout).toMatch(/aligned-second +3 +3 +100\.0%/);
    expect(r.stdout).toContain(
      "Order effect: the aligned response is chosen -100.0 pp more often when shown first",
    );
  });

  it("grades id-qa with the judge and measures spec knowledge of the spec named", async () => {
    const q = await cli([
      "--json",
      "eval",
      "run",
      "id-qa",
      "-m",
      "loop/student",
      "--judge",
      "loop/judge",
      "--limit",
      "2",
    ]);
    expect(q.code, q.stderr).toBe(0);
    expect(JSON.parse(q.stdout).metrics.metrics[0].overall).toMatchObject({ items: 2, mean: 0 });
    const k = await cli([
      "--json",
      "eval",
      "run",
      "sk",
      "-m",
      "loop/student",
      "--judge",
      "loop/judge",
      "--spec",
      "rules",
      "--arg",
      "kinds=[rule-of-statement]",
    ]);
    expect(k.code, k.stderr).toBe(0);
    const sk = JSON.parse(k.stdout);
    expect(sk.run.taskArgs.spec.name).toBe("rules");
    expect(sk.metrics.metrics[0].overall.items).toBeGreaterThan(2);
  });

  it("the tiny local model's answers name no option: invalid, never wrong", async () => {
    const r = await cli([
      "--json",
      "eval",
      "run",
      "mcq",
      "-m",
      "local/builtin:tiny",
      "--limit",
      "2",
      "--max-tokens",
      "16",
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).metrics.metrics[0].overall).toMatchObject({
      items: 0,
      samples: 0,
      invalid: 2,
    });
  });

  it("bad input: one message naming the option, the file or the setting", async () => {
    const wrongOption = await cli([
      "eval",
      "run",
      "vg",
      "-m",
      "loop/student",
      "--conditions",
      "all",
    ]);
    expect(wrongOption.code).toBe(1);
    expect(wrongOption.stderr).toContain(
      "--conditions: an option of agentic-misalignment, not of value-generalization",
    );
    const unknownArg = await cli([
      "eval",
      "run",
      "mcq",
      "-m",
      "loop/student",
      "--arg",
      "date=mine.jsonl",
    ]);
    expect(unknownArg.stderr).toContain("--arg date: not a setting of task mcq");
    expect(unknownArg.stderr).toMatch(/its settings: data, subjects/);
    const missing = await cli([
      "eval",
      "run",
      "mcq",
      "-m",
      "loop/student",
      "--arg",
      "data=absent.jsonl",
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("absent.jsonl");
    const noSpec = await cli(["eval", "run", "sk", "-m", "loop/student"]);
    expect(noSpec.code).toBe(1);
    expect(noSpec.stderr).toContain("--spec");
    const unknownTask = await cli(["eval", "run", "mcqq", "-m", "loop/student"]);
    expect(unknownTask.stderr).toContain('unknown task "mcqq" (did you mean mcq?)');
    for (const r of [wrongOption, unknownArg, missing, noSpec, unknownTask])
      expect(r.stderr).not.toMatch(/\n\s+at .*:\d+:\d+/);
  });
});
