import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { type Command, CommanderError } from "commander";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildProgram } from "../../src/cli/main.js";
import { SCHEMA_VERSION } from "../../src/store/migrations.js";
import { answerFor, FakeLlmServer } from "../fakes/llm-server.js";
import { cleanupTempDirs, ROOT, runCli, tempDir } from "../helpers.js";

let server: FakeLlmServer;
let cwd: string;
let env: Record<string, string>;

beforeAll(async () => {
  server = await new FakeLlmServer({ openaiKey: "sk-cli-test-0123456789" }).start();
  cwd = tempDir("specsci-cli-");
  writeFileSync(
    join(cwd, "specsci.yaml"),
    [
      "defaults:",
      "  max_attempts: 2",
      "  retry_base_ms: 1",
      "endpoints:",
      "  compat:",
      `    base_url: ${server.url}/v1`,
      "    api_key_env: COMPAT_KEY",
      "    batch: true",
      "batch:",
      "  poll_interval_s: 0.01",
    ].join("\n"),
  );
  env = { COMPAT_KEY: "sk-cli-test-0123456789", SPECSCI_MODEL_CACHE: tempDir("specsci-models-") };
});
afterAll(async () => {
  await server.stop();
  cleanupTempDirs();
});

function allCommands(cmd: Command, path: string[] = []): string[][] {
  const out: string[][] = [];
  for (const sub of cmd.commands) {
    if (sub.name() === "help") continue;
    out.push([...path, sub.name()]);
    out.push(...allCommands(sub, [...path, sub.name()]));
  }
  return out;
}

/**
 * `specsci ...path --help` run in this process: what it prints on stdout, as the binary prints it
 * into a pipe (80 columns, no colour), and the exit code it ends with.
 */
async function helpOf(path: string[]): Promise<{ code: number | undefined; stdout: string }> {
  const { program } = buildProgram();
  let stdout = "";
  const capture = (cmd: Command) => {
    cmd.configureOutput({
      writeOut: (text) => {
        stdout += text;
      },
      getOutHelpWidth: () => 80,
      getOutHasColors: () => false,
    });
    for (const sub of cmd.commands) capture(sub);
  };
  capture(program);
  try {
    await program.parseAsync([...path, "--help"], { from: "user" });
    return { code: undefined, stdout };
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
    return { code: e.exitCode, stdout };
  }
}

describe("specsci CLI", () => {
  // In process: the binary's own start is checked once below, not once per command.
  it("has --help on every command, each as recorded in test/fixtures/cli-help.txt", async () => {
    const commands = allCommands(buildProgram().program);
    expect(commands.length).toBeGreaterThan(8);
    let recorded = "";
    for (const c of [[], ...commands]) {
      const r = await helpOf(c);
      expect(r.code, `specsci ${c.join(" ")} --help`).toBe(0);
      expect(r.stdout).toContain(`Usage: specsci${c.length ? ` ${c.join(" ")}` : ""}`);
      recorded += `===== specsci ${[...c, "--help"].join(" ")}\n${r.stdout}`;
    }
    // A help text changed on purpose: `npx vitest run test/cli/cli.test.ts -u` records it anew.
    await expect(recorded).toMatchFileSnapshot("../fixtures/cli-help.txt");
  });

  it.each([[[]], [["eval", "run"]], [["spec", "derive"]]])(
    "the binary prints the same help for %j",
    async (path) => {
      const r = await runCli([...path, "--help"]);
      expect(r.code).toBe(0);
      expect(r.stderr).toBe("");
      expect(r.stdout).toBe((await helpOf(path)).stdout);
    },
  );

  it.each([[["--help"]], [["eval", "run", "--help"]], [["--version"]]])(
    "%j loads the command tree alone: no command's code, no store, model or chart library",
    async (args) => {
      const log = join(tempDir(), "loaded.txt");
      const hook = pathToFileURL(join(ROOT, "scripts", "loaded-modules.mjs")).href;
      const r = await runCli(args, {
        env: { NODE_OPTIONS: `--import ${hook}`, SPECSCI_LOADED_MODULES: log },
      });
      expect(r.code).toBe(0);
      const loaded = readFileSync(log, "utf8");
      expect(loaded).toContain("/dist/cli/tree/eval.js");
      for (const part of [
        "/dist/cli/commands/",
        "/dist/cli/context.js",
        "/dist/store/",
        "/node_modules/better-sqlite3/",
        "/node_modules/zod/",
        "/node_modules/ajv/",
        "/node_modules/@huggingface/tokenizers/",
        "/node_modules/hono/",
        "/node_modules/vega/",
        "/node_modules/node-llama-cpp/",
        "/node_modules/openai/",
        "/node_modules/@anthropic-ai/sdk/",
      ])
        expect(loaded, part).not.toContain(part);
    },
  );

  it("--version is package.json's version (the one provenance and the Inspect export record)", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };
    expect(buildProgram().program.version()).toBe(pkg.version);
  });

  it("runs models test on the built-in tiny model", async () => {
    const r = await runCli(["models", "test", "local/builtin:tiny"], { cwd, env });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Hello world!");
    expect(r.stdout).toMatch(/stop reason: end/);
    expect(r.stdout).toMatch(/usage: +\d+ input, 3 output tokens/);
    const j = await runCli(["--json", "models", "test", "local/builtin:tiny"], { cwd, env });
    expect(JSON.parse(j.stdout)).toMatchObject({
      ok: true,
      text: "Hello world!",
      stopReason: "end",
      model: "local/builtin:tiny",
    });
  });

  it.each([
    [["models", "test", "nosuch/model"], /^specsci: error: unknown provider "nosuch"/],
    [["models", "test", "anthropic/claude-haiku-4-5"], /ANTHROPIC_API_KEY is not set/],
    [["models", "test", "local/./missing.gguf"], /model file not found/],
    [
      ["llm", "run", "nope.jsonl", "-m", "compat/x"],
      /request file .*nope\.jsonl \(the <requests.jsonl> argument\) does not exist/,
    ],
    [["--cache-mode", "sideways", "usage"], /argument 'sideways' is invalid/],
  ])("fails cleanly: %j", async (args, message) => {
    const r = await runCli(args, { cwd, env: { ...env, ANTHROPIC_API_KEY: "" } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it("names file and line for a bad config and a bad request file", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "specsci.yaml"), "defaults:\n  timeout_s: -1\n");
    const r = await runCli(["models", "list"], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/specsci\.yaml:2:14: defaults\.timeout_s: .*>0/);

    writeFileSync(join(dir, "reqs.jsonl"), '{"id": "a", "prompt": "hi"}\n{"id": "b"}\n');
    const r2 = await runCli(["llm", "run", "reqs.jsonl", "-m", "fake/echo"], { cwd: dir });
    expect(r2.code).toBe(1);
    expect(r2.stderr).toMatch(/reqs\.jsonl:2: give exactly one of "messages" or "prompt"/);
  });

  it("runs a request file, accounts usage, and replays it from the cache", async () => {
    const lines = Array.from({ length: 20 }, (_, i) =>
      JSON.stringify({ id: `q${i}`, prompt: `cli question ${i}` }),
    );
    writeFileSync(join(cwd, "reqs.jsonl"), `${lines.join("\n")}\n`);
    const args = [
      "llm",
      "run",
      "reqs.jsonl",
      "-m",
      "compat/m",
      "-n",
      "2",
      "-o",
      "out.jsonl",
      "--run",
      "cli-run",
    ];
    const r = await runCli(args, { cwd, env });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/40\/40 ok, 0 failed, 0 from cache/);
    const usage = await runCli(["--json", "usage", "--run", "cli-run"], { cwd, env });
    const u = JSON.parse(usage.stdout);
    expect(u.total).toMatchObject({ calls: 40, ok: 40, failed: 0 });
    expect(u.total.inputTokens).toBeGreaterThan(0);
    const again = await runCli(args, { cwd, env });
    expect(again.stderr).toMatch(/40\/40 ok, 0 failed, 40 from cache/);
    const table = await runCli(["usage"], { cwd, env });
    expect(table.stdout).toMatch(/cli-run +llm-run +compat\/m +80 +80 +0 +40/);
  });

  it("exits 3 and writes failures as failures when some calls fail", async () => {
    writeFileSync(
      join(cwd, "mixed.jsonl"),
      `${JSON.stringify({ id: "good", prompt: "fine" })}\n${JSON.stringify({ id: "bad", prompt: "[[fault=400]]" })}\n`,
    );
    const r = await runCli(["llm", "run", "mixed.jsonl", "-m", "compat/m"], { cwd, env });
    expect(r.code).toBe(3);
    const rows = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(rows[0]).toMatchObject({
      id: "good",
      ok: true,
      text: answerFor([{ role: "user", content: "fine" }]),
    });
    expect(rows[1]).toMatchObject({
      id: "bad",
      ok: false,
      stop_reason: "error",
      error: { kind: "bad_request" },
    });
    expect(rows[1]).not.toHaveProperty("text");
    expect(r.stderr).toMatch(/1 calls failed \(bad_request: 1\)/);
  });

  it("runs a request file through a provider batch", async () => {
    const lines = Array.from({ length: 5 }, (_, i) =>
      JSON.stringify({ id: `b${i}`, prompt: `batched ${i}` }),
    );
    writeFileSync(join(cwd, "batch.jsonl"), `${lines.join("\n")}\n`);
    const r = await runCli(
      ["llm", "run", "batch.jsonl", "-m", "compat/m", "--batch", "-o", "batch-out.jsonl"],
      { cwd, env },
    );
    expect(r.code).toBe(0);
    const list = await runCli(["--json", "batch", "list"], { cwd, env });
    expect(JSON.parse(list.stdout)).toEqual([
      expect.objectContaining({ status: "collected", request_count: 5, model: "compat/m" }),
    ]);
  });

  it("reads keys from a .env file without overriding the environment", async () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, ".env"),
      "OPENAI_API_KEY=sk-from-dotenv-0123456789\nTOGETHER_API_KEY=tg-from-dotenv-0123456789\n",
    );
    const r = await runCli(["--json", "models", "list"], {
      cwd: dir,
      env: { OPENAI_API_KEY: "", TOGETHER_API_KEY: "" },
    });
    const rows = JSON.parse(r.stdout) as { provider: string; key: string }[];
    expect(rows.find((x) => x.provider === "openai")?.key).toBe("set");
    expect(rows.find((x) => x.provider === "together")?.key).toBe("set");
    expect(rows.find((x) => x.provider === "anthropic")?.key).toBe("missing");
    expect(r.stdout).not.toContain("from-dotenv");
  });

  it("plans sample sizes", async () => {
    const r = await runCli(["--json", "stats", "power", "--p1", "0.20", "--p2", "0.10"], {
      cwd,
      env,
    });
    expect(JSON.parse(r.stdout)).toMatchObject({ perArm: 195 });
    const same = await runCli(["stats", "power", "--p1", "0.2", "--p2", "0.2"], { cwd, env });
    expect(same.code).toBe(1);
    expect(same.stderr).toMatch(/^specsci: error: --p1 and --p2 must differ/);
  });

  it("reports on the store", async () => {
    const info = await runCli(["--json", "store", "info"], { cwd, env });
    expect(JSON.parse(info.stdout)).toMatchObject({ schema_version: SCHEMA_VERSION });
    const check = await runCli(["store", "check"], { cwd, env });
    expect(check.code).toBe(0);
    expect(check.stdout).toMatch(/^ok: /);
  });
});
