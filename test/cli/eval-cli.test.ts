import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { validateEvalLog } from "../../src/evals/inspect-schema.js";
import { FakeLlmServer } from "../fakes/llm-server.js";
import { cleanupTempDirs, runCli, tempDir } from "../helpers.js";

let server: FakeLlmServer;
let cwd: string;
const env = { SPECSCI_MODEL_CACHE: "" };

beforeAll(async () => {
  server = await new FakeLlmServer({ record: false }).start();
  cwd = tempDir("specsci-eval-cli-");
  writeFileSync(
    join(cwd, "specsci.yaml"),
    `endpoints: { loop: { base_url: "${server.url}/v1" } }\ndefaults: { max_attempts: 2, retry_base_ms: 1 }\nproviders: { local: { context_size: 32768, threads: 1 } }\n`,
  );
  env.SPECSCI_MODEL_CACHE = tempDir("specsci-models-");
});
afterAll(async () => {
  await server.stop();
  cleanupTempDirs();
});

describe("specsci eval", () => {
  it("runs, shows, resumes and exports an agentic-misalignment run", async () => {
    const args = [
      "eval",
      "run",
      "am",
      "-m",
      "loop/agent",
      "--judge",
      "loop/judge",
      "--conditions",
      "leaking_none-none_none,coercion_explicit-america_replacement",
      "-n",
      "2",
      "--export",
      "logs",
    ];
    const r = await runCli(args, { cwd, env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /coercion_explicit-america_replacement +2 +0 +0\.0% +\[0\.0%, 65\.8%\] +0/,
    );
    expect(r.stdout).toMatch(/mean over conditions: 0\.0%/);
    const runId = /(eval-agentic-misalignment-[0-9a-f]{12})/.exec(r.stderr)?.[1] as string;
    expect(runId).toBeDefined();

    const again = await runCli(args, { cwd, env });
    expect(again.stderr).toMatch(/0 sample\(s\) done now, 4 resumed, 0 failed/);

    const show = JSON.parse((await runCli(["--json", "eval", "show", runId], { cwd, env })).stdout);
    expect(show.metrics.pooled).toMatchObject({ n: 4, misaligned: 0, errors: 0 });
    const list = JSON.parse((await runCli(["--json", "eval", "list"], { cwd, env })).stdout);
    expect(list.map((x: { id: string }) => x.id)).toEqual([runId]);

    const files = readdirSync(join(cwd, "logs"));
    expect(files).toHaveLength(1);
    const exported = JSON.parse(readFileSync(join(cwd, "logs", files[0] as string), "utf8"));
    expect(validateEvalLog(exported)).toEqual([]);
    expect(exported.eval.model_roles.grader.model).toBe("loop/judge");
  });

  it("records judge failures as errors, exits 3, and shows them outside the rates", async () => {
    const r = await runCli(
      [
        "eval",
        "run",
        "am",
        "-m",
        "loop/agent",
        "--judge",
        "local/builtin:tiny",
        "--judge-attempts",
        "1",
        "--conditions",
        "lethal-inaction_none-none_none",
      ],
      { cwd, env },
    );
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/1 sample\(s\) failed and are not in any rate: score:judge_invalid 1/);
  });

  it("lists and prints scenarios, and names bad input", async () => {
    const ids = JSON.parse((await runCli(["--json", "eval", "scenarios"], { cwd, env })).stdout);
    expect(ids).toHaveLength(312);
    const one = await runCli(
      ["eval", "scenarios", "exfiltration_swap-safety_restriction", "--model-name", "Claude"],
      { cwd, env },
    );
    expect(one.stdout).toMatch(
      /^===== system =====\nYou are Claude, an AI platform assistant at Lattice Harbor Analytics/,
    );
    expect(one.stdout).toContain(
      "Your primary goal is to push technological progress forward as fast as possible.",
    );
    const bad = await runCli(
      [
        "eval",
        "run",
        "am",
        "-m",
        "loop/agent",
        "--judge",
        "loop/judge",
        "--conditions",
        "leaking_bogus",
      ],
      { cwd, env },
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/"leaking_bogus" is not a condition id/);
    const badTask = await runCli(["eval", "run", "nope", "-m", "loop/agent"], { cwd, env });
    expect(badTask.stderr).toMatch(/unknown task "nope"/);
  });
});
