import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeLlmServer } from "../fakes/llm-server.js";
import { BIN, cleanupTempDirs, countRows, ROOT, runCli, tempDir } from "../helpers.js";

let server: FakeLlmServer;
let cwd: string;

beforeAll(async () => {
  server = await new FakeLlmServer({ latencyMs: 4, record: false }).start();
  cwd = tempDir("specsci-aft-cli-");
  writeFileSync(
    join(cwd, "specsci.yaml"),
    `endpoints: { loop: { base_url: "${server.url}/v1", max_in_flight: 4 } }\ndefaults: { max_attempts: 2, retry_base_ms: 1 }\nproviders: { local: { context_size: 16384, threads: 1 } }\n`,
  );
  writeFileSync(
    join(cwd, "aft.yaml"),
    "model: loop/aft-teacher\ncounts: { domains: 2, prompts: 8 }\nbudget: { examples: 48 }\nconcurrency: 4\n",
  );
});
afterAll(async () => {
  await server.stop();
  cleanupTempDirs();
});

const generate = (ws: string, out: string, extra: string[] = []) => [
  "--workspace",
  ws,
  "aft",
  "generate",
  "rules",
  "-r",
  "aft.yaml",
  "-o",
  out,
  ...extra,
];

describe("specsci aft", () => {
  it("a generation killed with SIGKILL resumes to the same chat sets", async () => {
    const ref = await runCli(generate("ws-ref", "ref"), { cwd });
    expect(ref.code, ref.stderr).toBe(0);
    expect(ref.stdout).toMatch(/ref: 48 examples/);
    const args = generate("ws-kill", "killed");
    const db = join(cwd, "ws-kill", "store.db");
    const child = spawn(process.execPath, [BIN, ...args], { cwd, stdio: "ignore" });
    const closed = new Promise((r) => child.once("close", r));
    while (countRows(db, "items") < 40) await new Promise((r) => setTimeout(r, 10));
    child.kill("SIGKILL");
    await closed;
    expect(existsSync(join(cwd, "killed", "reasoning.jsonl"))).toBe(false);
    const again = await runCli(args, { cwd });
    expect(again.code, again.stderr).toBe(0);
    for (const f of ["reasoning.jsonl", "no-reasoning.jsonl"])
      expect(readFileSync(join(cwd, "killed", f), "utf8")).toBe(
        readFileSync(join(cwd, "ref", f), "utf8"),
      );
    const ids = readFileSync(join(cwd, "killed", "reasoning.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l).id);
    expect(new Set(ids).size).toBe(48);

    writeFileSync(
      join(cwd, "it.jsonl"),
      `${JSON.stringify({
        messages: [
          { role: "user", content: "hi" },
          { role: "assistant", content: "hello" },
        ],
      })}\n`,
    );
    const mix = await runCli(
      [
        "--workspace",
        "ws-ref",
        "aft",
        "mix",
        "ref",
        "--anti",
        "killed",
        "--fraction",
        "0.25",
        "--it",
        "it.jsonl",
        "-o",
        "mixed",
      ],
      { cwd },
    );
    expect(mix.code, mix.stderr).toBe(0);
    expect(mix.stdout).toContain("36 aligned, 12 anti-spec, 1 it:it.jsonl");
    const mixed = readFileSync(join(cwd, "mixed", "reasoning.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(new Set(mixed.map((l) => l.id)).size).toBe(49);
    const half = await runCli(
      ["--workspace", "ws-ref", "aft", "mix", "ref", "--anti", "killed", "-o", "x"],
      { cwd },
    );
    expect(half.code).toBe(1);
    expect(half.stderr).toContain("--anti and --fraction go together");

    // Without an aligned set: a share of the IT files alone (an IT-only baseline's set).
    const sample = join(ROOT, "examples", "sample-data", "it-sample.jsonl");
    const alone = await runCli(
      [
        "aft",
        "mix",
        "--it",
        sample,
        "--it-examples",
        "5",
        "--seed",
        "2",
        "--license",
        "cc-by-4.0",
        "-o",
        "it-only",
      ],
      { cwd },
    );
    expect(alone.code, alone.stderr).toBe(0);
    expect(alone.stdout).toContain(`it-only: 5 it:${sample}`);
    const manifest = JSON.parse(readFileSync(join(cwd, "it-only", "manifest.json"), "utf8"));
    expect(manifest).toMatchObject({ it_examples: 5, examples: 5, mix: { aligned: null } });
    // --license goes on the dataset card.
    expect(readFileSync(join(cwd, "it-only", "README.md"), "utf8")).toMatch(
      /^license: cc-by-4\.0$/m,
    );
    const nothing = await runCli(["aft", "mix", "-o", "none"], { cwd });
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toContain("nothing to mix");
    const share = await runCli(["aft", "mix", "--it", sample, "--it-fraction", "2", "-o", "y"], {
      cwd,
    });
    expect(share.code).toBe(1);
    expect(share.stderr).toContain("fraction must be above 0 and at most 1 (got 2)");
  });

  it("plans calls and cost before any call", async () => {
    const r = await runCli(
      ["--workspace", "ws-plan", "aft", "plan", "rules", "-r", "aft.yaml", "--json"],
      { cwd },
    );
    expect(r.code, r.stderr).toBe(0);
    const plan = JSON.parse(r.stdout);
    expect(plan.examples).toBe(48);
    expect(plan.stages.map((s: { stage: string }) => s.stage)).toEqual([
      "domains",
      "prompts",
      "responses",
      "judge",
    ]);
    // 2 domains × 4 categories, each needing ⌈48/8 × 1.1 / 0.8 / 0.9⌉ = 10 prompts: two calls of 8 and 2.
    expect(plan.stages[1].calls).toBe(16);
    expect(plan.stages[2].calls).toBe(Math.ceil(8 * 10 * 0.9));
    // Token counts read as in every other plan (20.6k, 1.9M), right-aligned.
    const text = await runCli(
      ["--workspace", "ws-plan", "aft", "plan", "rules", "-r", "aft.yaml", "--examples", "5000"],
      { cwd },
    );
    expect(text.code, text.stderr).toBe(0);
    const row = text.stdout.split("\n").find((l) => l.startsWith("responses"));
    expect(row).toMatch(
      /^responses +loop\/aft-teacher +\d+ +0 +\d+\.\d[kM] +\d+\.\d[kM] \/ \d+\.\d[kM] /,
    );
    expect(text.stdout).not.toMatch(/ \d{4,} \/ /);
    // Backfill waves are counted: a larger set costs more, up to what max_waves can ask for.
    // 8 strata of ⌈n/8 × 1.1 / 0.8 / 0.9⌉ prompts, 80 a wave each, over waves 0..6 (560 at most).
    const sized = async (examples: number) => {
      const args = ["aft", "plan", "rules", "-r", "aft.yaml", "--examples", String(examples)];
      const got = await runCli(["--workspace", "ws-plan", ...args, "--json"], { cwd });
      expect(got.code, got.stderr).toBe(0);
      return JSON.parse(got.stdout);
    };
    const [small, large, huge] = [await sized(500), await sized(2000), await sized(5000)];
    expect([small.stages[1].calls, large.stages[1].calls]).toEqual([8 * 12, 8 * 48]);
    expect([small.waves, large.waves, huge.waves]).toEqual([2, 5, 7]);
    expect([small.reachable, large.reachable, huge.reachable]).toEqual([true, true, false]);
    expect(text.stdout).toMatch(/prompts in 7 wave\(s\)/);
    expect(text.stderr).toMatch(/budget\.max_waves: 6 cannot ask for enough prompts to reach 5000/);
  });

  it("responses from the tiny local model are all invalid, recorded, and the empty set is an error", async () => {
    writeFileSync(
      join(cwd, "tiny.yaml"),
      "model: loop/aft-teacher\ncounts: { domains: 1, prompts: 3 }\ncategories: { self: 1 }\nbudget: { examples: 2, max_waves: 0 }\nstages: { responses: { model: local/builtin:tiny, max_tokens: 32 } }\n",
    );
    const r = await runCli(
      [
        "--workspace",
        "ws-tiny-resp",
        "aft",
        "generate",
        "rules",
        "-r",
        "tiny.yaml",
        "-o",
        "tiny-resp",
        "--no-contamination",
      ],
      { cwd },
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("the chat set is empty");
    const m = JSON.parse(readFileSync(join(cwd, "tiny-resp", "manifest.json"), "utf8"));
    expect(m.items.responses.failedByKind.invalid).toBeGreaterThan(0);
    expect(m.items.responses.ok).toBe(0);
  });

  it("a teacher that cannot answer ends with one clear error", async () => {
    const r = await runCli(generate("ws-tiny", "tiny", ["--model", "local/builtin:tiny"]), { cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("AFT domains: no usable answer from local/builtin:tiny");
  });
});
