/** Errors a user can cause end in one clear message and a non-zero exit, never an internal error. */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { EXIT_USER_ERROR } from "../../src/cli/exit-codes.js";
import { FakeLlmServer } from "../fakes/llm-server.js";
import { BIN, cleanupTempDirs, countRows, runCli, tempDir } from "../helpers.js";

afterAll(cleanupTempDirs);

/** A fresh workspace's store with `bytes` random bytes written at `offset`. */
async function damagedStore(offset: number, bytes: number): Promise<{ cwd: string; db: string }> {
  const cwd = tempDir("specsci-damaged-");
  expect((await runCli(["store", "info"], { cwd })).code).toBe(0);
  const db = join(cwd, ".specsci", "store.db");
  const fd = openSync(db, "r+");
  writeSync(fd, randomBytes(bytes), 0, bytes, offset);
  closeSync(fd);
  return { cwd, db };
}

describe("a damaged run store", () => {
  it("is reported as damaged, with SQLite's message and how to recover, and left untouched", async () => {
    // Every page after the header page: the schema is readable, the tables are not.
    const { cwd, db } = await damagedStore(4096, 64 * 1024);
    const before = readFileSync(db);
    for (const args of [["store", "check"], ["store", "info"], ["usage"], ["eval", "list"]]) {
      const r = await runCli(args, { cwd });
      expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(EXIT_USER_ERROR);
      expect(r.stderr).toContain(`the run store ${db} is damaged:`);
      expect(r.stderr).toMatch(/malformed|corrupt|not a database/i);
      expect(r.stderr).toContain(`sqlite3 '${db}' .recover | sqlite3 '${db}.recovered'`);
      expect(r.stderr).not.toMatch(/internal error|this is a bug/);
    }
    expect(readFileSync(db).equals(before)).toBe(true);
  });

  it("is reported as damaged when its header is garbage too", async () => {
    const { cwd, db } = await damagedStore(0, 100);
    const before = readFileSync(db);
    const r = await runCli(["store", "check"], { cwd });
    expect(r.code).toBe(EXIT_USER_ERROR);
    expect(r.stderr).toContain(`the run store ${db} is damaged: file is not a database`);
    expect(readFileSync(db).equals(before)).toBe(true);
  });
});

describe("an output path that cannot be written", () => {
  it("is refused before any work, naming the option", async () => {
    const cwd = tempDir("specsci-out-");
    writeFileSync(join(cwd, "afile"), "");
    writeFileSync(join(cwd, "reqs.jsonl"), '{"id": 1, "prompt": "hi"}\n');
    const llm = await runCli(
      ["llm", "run", "reqs.jsonl", "-m", "fake/echo", "-o", "afile/out.jsonl"],
      {
        cwd,
      },
    );
    expect(llm.code).toBe(EXIT_USER_ERROR);
    expect(llm.stderr).toContain(
      `-o/--out afile/out.jsonl: ${join(cwd, "afile")} is a file, not a directory`,
    );
    expect(countRows(join(cwd, ".specsci", "store.db"), "llm_calls")).toBe(0);
    for (const [args, message] of [
      [["msm", "generate", "rules", "-o", "afile"], "-o/--out afile: is a file, not a directory"],
      [["aft", "generate", "rules", "-o", "afile/x"], "-o/--out afile/x: "],
      [["eval", "export", "r1", "-o", "afile"], "-o/--out afile: is a file"],
      [["eval", "run", "am", "-m", "fake/echo", "--export", "afile"], "--export afile: is a file"],
      [["report", "r1", "-o", "."], "-o/--out .: is a directory"],
      [["report", "r1", "--figures", "afile"], "--figures afile: is a file, not a directory"],
      [
        ["analyze", "reasoning", "r1", "--labeller", "fake/echo", "-o", "afile/a.json"],
        "-o/--out afile/a.json: ",
      ],
      [["spec", "derive", "rules", "-t", "renumber", "-o", "afile/s.md"], "-o/--out afile/s.md: "],
    ] as const) {
      const r = await runCli([...args], { cwd });
      expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(EXIT_USER_ERROR);
      expect(r.stderr).toContain(message);
    }
    // A directory that does not exist yet is made.
    const fresh = await runCli(
      ["llm", "run", "reqs.jsonl", "-m", "fake/echo", "-o", "new/sub/out.jsonl"],
      { cwd },
    );
    expect(fresh.code, fresh.stderr).toBe(0);
    expect(readFileSync(join(cwd, "new", "sub", "out.jsonl"), "utf8")).toContain("echo: hi");
  }, 120_000);
});

describe("eval export", () => {
  it("says in its help that -o is required", async () => {
    const help = await runCli(["eval", "export", "--help"]);
    expect(help.stdout).toMatch(/Usage: specsci eval export <run\|experiment\.yaml> -o <dir>/);
    expect(help.stdout).toMatch(/-o, --out <dir> +directory for the log files \(required\)/);
  });
});

/** Runs the CLI as `specsci … | head -1` would: its stdout is closed once the first line came. */
function runIntoClosedPipe(
  args: string[],
  cwd: string,
): Promise<{ code: number | null; firstLine: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let firstLine = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      firstLine ||= d.toString().split("\n")[0] ?? "";
      child.stdout.destroy();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    child.on("close", (code) => resolve({ code, firstLine, stderr }));
  });
}

describe("output into a pipe that closes (| head)", () => {
  it("ends quietly, with no EPIPE stack trace", async () => {
    const cwd = tempDir("specsci-pipe-");
    // Results far beyond a pipe's buffer, so the write is still going when the reader leaves.
    writeFileSync(
      join(cwd, "reqs.jsonl"),
      Array.from({ length: 3000 }, (_, i) => JSON.stringify({ id: i, prompt: `p${i}` })).join("\n"),
    );
    for (const args of [
      ["llm", "run", "reqs.jsonl", "-m", "fake/echo"],
      ["usage"],
      ["eval", "scenarios"],
    ]) {
      const r = await runIntoClosedPipe(args, cwd);
      expect(r.firstLine, args.join(" ")).not.toBe("");
      expect(r.stderr, args.join(" ")).not.toMatch(/EPIPE|Unhandled|node:events/);
      expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(0);
    }
  });
});

describe("-v", () => {
  it("shows every retry: model, failure, attempt and wait", async () => {
    const server = await new FakeLlmServer({ openaiKey: "sk-retries-0123456789" }).start();
    try {
      const cwd = tempDir("specsci-retries-");
      writeFileSync(
        join(cwd, "specsci.yaml"),
        `defaults: { max_attempts: 4, retry_base_ms: 1, retry_max_ms: 5 }\nendpoints: { loop: { base_url: "${server.url}/v1", api_key_env: LOOP_KEY } }\n`,
      );
      // The fake counts faults per prompt: each run gets prompts of its own.
      const requests = (run: string) =>
        ["[[fault=429 times=2 retry_after=0.01]]", "[[fault=500 times=1]]", "fine"]
          .map((p, i) => JSON.stringify({ id: i, prompt: `${run} ${p}` }))
          .join("\n");
      writeFileSync(join(cwd, "quiet.jsonl"), requests("quiet"));
      writeFileSync(join(cwd, "verbose.jsonl"), requests("verbose"));
      const env = { LOOP_KEY: "sk-retries-0123456789" };
      const run = (file: string, ...flags: string[]) =>
        runCli([...flags, "llm", "run", file, "-m", "loop/m", "-o", "out.jsonl"], { cwd, env });
      const quiet = await run("quiet.jsonl");
      expect(quiet.code, quiet.stderr).toBe(0);
      expect(quiet.stderr).not.toMatch(/retry/);
      const verbose = await run("verbose.jsonl", "-v");
      expect(verbose.code, verbose.stderr).toBe(0);
      const retries = verbose.stderr.split("\n").filter((l) => l.includes("retry loop/m"));
      expect(retries).toHaveLength(3);
      expect(
        retries.filter((l) =>
          /rate_limit \(HTTP 429\) on attempt [12] of 4; waiting 0\.01s/.test(l),
        ),
      ).toHaveLength(2);
      expect(
        retries.filter((l) => /server \(HTTP 500\) on attempt 1 of 4; waiting \d+\.\d\ds/.test(l)),
      ).toHaveLength(1);
    } finally {
      await server.stop();
    }
  });
});

describe("a missing file", () => {
  it("is named with the argument or setting it came from, never as a raw ENOENT", async () => {
    const cwd = tempDir("specsci-missing-");
    const base = [
      "name: t",
      "specs: { rules: rules }",
      "arms: [{ name: base, kind: baseline }]",
      "models: [fake/m]",
      "evals: [{ task: agentic-misalignment, conditions: [leaking_explicit-america_replacement] }]",
      "judge: { model: fake/j }",
    ].join("\n");
    const experiments: Record<string, string> = {
      "spec.yaml": base.replace("rules: rules", "rules: { file: nope.md }"),
      "taxonomy.yaml": `${base}\nanalysis: { reasoning: { labellers: [fake/l], taxonomy: nope-tax.yaml } }`,
      "human.yaml": `${base}\nanalysis: { reasoning: { labellers: [fake/l], human: nope.jsonl } }`,
      "recipe.yaml": `${base.replace("{ name: base, kind: baseline }", "{ name: m, kind: msm, msm_spec: rules }")}\ntraining: { base_models: { fake/m: Qwen/Qwen3-8B }, data: { msm: nope-msm.yaml } }`,
    };
    for (const [name, text] of Object.entries(experiments)) writeFileSync(join(cwd, name), text);
    mkdirSync(join(cwd, "adir.md"));
    const cases: [string[], string][] = [
      [
        ["llm", "run", "nope.jsonl", "-m", "fake/m"],
        `request file ${join(cwd, "nope.jsonl")} (the <requests.jsonl> argument) does not exist`,
      ],
      [
        ["msm", "plan", "rules", "-r", "nope.yaml"],
        "MSM recipe nope.yaml (-r/--recipe) does not exist",
      ],
      [
        ["aft", "plan", "rules", "-r", "nope.yaml"],
        "AFT recipe nope.yaml (-r/--recipe) does not exist",
      ],
      [
        ["-c", "nope.yaml", "models", "list"],
        `config file ${join(cwd, "nope.yaml")} (--config) does not exist`,
      ],
      [
        ["eval", "run", "am", "-m", "fake/m", "--judge", "fake/j", "--upstream", "nope"],
        "agentic-misalignment checkout nope (--upstream) does not exist",
      ],
      [["msm", "stats", "nope"], "corpus nope/dataset.jsonl does not exist"],
      [["spec", "lint", "adir.md"], `spec ${join(cwd, "adir.md")} is a directory, not a file`],
      [
        ["plan", "spec.yaml"],
        `spec file ${join(cwd, "nope.md")} (specs.rules.file in ${join(cwd, "spec.yaml")}) does not exist`,
      ],
      [
        ["plan", "recipe.yaml"],
        `MSM recipe ${join(cwd, "nope-msm.yaml")} (training.data.msm in ${join(cwd, "recipe.yaml")}) does not exist`,
      ],
      [
        ["run", "taxonomy.yaml"],
        `taxonomy file ${join(cwd, "nope-tax.yaml")} (analysis.reasoning.taxonomy in ${join(cwd, "taxonomy.yaml")}) does not exist`,
      ],
      [
        ["run", "human.yaml"],
        `human label file ${join(cwd, "nope.jsonl")} (analysis.reasoning.human in ${join(cwd, "human.yaml")}) does not exist`,
      ],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(args, { cwd });
      expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(EXIT_USER_ERROR);
      expect(r.stderr).toContain(`specsci: error: ${message}`);
      expect(r.stderr).not.toContain("ENOENT");
    }
  }, 120_000);
});

describe("--json", () => {
  it("adds one JSON error object on stdout to the message on stderr", async () => {
    const cwd = tempDir("specsci-json-");
    const cases: [string[], string, RegExp][] = [
      [
        ["--json", "llm", "run", "nope.jsonl", "-m", "fake/m"],
        "user_error",
        /nope\.jsonl .*does not exist/,
      ],
      [["eval", "show", "nope", "--json"], "user_error", /no eval run nope/],
      [["--json", "eval", "show"], "usage", /missing required argument 'run'/],
    ];
    for (const [args, code, message] of cases) {
      const r = await runCli(args, { cwd });
      expect(r.code, args.join(" ")).toBe(EXIT_USER_ERROR);
      expect(r.stderr).toMatch(message);
      const lines = r.stdout.trim().split("\n");
      expect(lines, r.stdout).toHaveLength(1);
      const { error } = JSON.parse(lines[0] as string);
      expect(error).toMatchObject({ code, exit_code: EXIT_USER_ERROR });
      expect(error.message).toMatch(message);
      expect(Object.keys(error).sort()).toEqual(["code", "exit_code", "hint", "message"]);
    }
    // Without --json, stdout stays empty.
    const plain = await runCli(["eval", "show", "nope"], { cwd });
    expect(plain.code).toBe(EXIT_USER_ERROR);
    expect(plain.stdout).toBe("");
  });
});
