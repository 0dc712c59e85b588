import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeLlmServer } from "../fakes/llm-server.js";
import { cleanupTempDirs, runCli, tempDir } from "../helpers.js";

let server: FakeLlmServer;
let models: string;

beforeAll(async () => {
  server = await new FakeLlmServer({ record: false }).start();
  models = tempDir("specsci-models-");
});
afterAll(async () => {
  await server.stop();
  cleanupTempDirs();
});

const EXPERIMENT = `name: cli-export
specs: { rules: rules }
arms:
  - { name: baseline, kind: baseline }
  - { name: rules, kind: prompted, spec: rules }
models: [loop/agent]
evals:
  - { name: am, task: agentic-misalignment, conditions: [leaking_none-none_replacement], epochs: 2 }
judge: { model: loop/judge }
`;

describe("specsci eval export EXPERIMENT", () => {
  it("exports every run of an experiment, refuses what it cannot, and writes .eval zips", async () => {
    const cwd = tempDir("specsci-export-cli-");
    const env = { SPECSCI_MODEL_CACHE: models };
    writeFileSync(
      join(cwd, "specsci.yaml"),
      `endpoints: { loop: { base_url: "${server.url}/v1" } }\n`,
    );
    writeFileSync(join(cwd, "experiment.yaml"), EXPERIMENT);

    const early = await runCli(["eval", "export", "experiment.yaml", "-o", "logs"], { cwd, env });
    expect(early.code).toBe(1);
    expect(early.stderr).toMatch(
      /error: experiment cli-export \(\S*experiment\.yaml\) has no eval runs in this workspace yet/,
    );
    expect(early.stderr).toMatch(/hint: run it first/);

    const run = await runCli(["run", "experiment.yaml"], { cwd, env });
    expect(run.code, run.stderr).toBe(0);

    const done = await runCli(["eval", "export", "experiment.yaml", "-o", "logs"], { cwd, env });
    expect(done.code, done.stderr).toBe(0);
    const files = readdirSync(join(cwd, "logs")).sort();
    expect(files).toHaveLength(4);
    expect(files.filter((f) => /-baselines0\.json$/.test(f))).toHaveLength(1);
    expect(files.filter((f) => /-ruless0\.json$/.test(f))).toHaveLength(1);
    expect(done.stdout.trim().split("\n")).toHaveLength(4);
    expect(done.stderr).toMatch(/inspect view --log-dir \S*logs/);
    const listing = JSON.parse(readFileSync(join(cwd, "logs", "listing.json"), "utf8"));
    expect(Object.keys(listing)).toHaveLength(2);

    const again = await runCli(["eval", "export", "experiment.yaml", "-o", "logs"], { cwd, env });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/error: \S+\.json exists: an export does not overwrite files/);

    const missing = await runCli(["eval", "export", "nope.yaml", "-o", "x"], { cwd, env });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/error: no experiment file nope\.yaml/);
    const neither = await runCli(["eval", "export", "no-such-run", "-o", "x"], { cwd, env });
    expect(neither.code).toBe(1);
    expect(neither.stderr).toMatch(/"no-such-run" is neither an experiment file nor an eval run/);
    const badFormat = await runCli(
      ["eval", "export", "experiment.yaml", "-o", "z", "--format", "zip"],
      {
        cwd,
        env,
      },
    );
    expect(badFormat.code).not.toBe(0);
    expect(badFormat.stderr).toMatch(/--format.*zip.*json, eval/);

    const zips = await runCli(
      ["--json", "eval", "export", "experiment.yaml", "-o", "zips", "--format", "eval"],
      {
        cwd,
        env,
      },
    );
    expect(zips.code, zips.stderr).toBe(0);
    const exported = JSON.parse(zips.stdout) as { logs: { path: string; runId: string }[] };
    expect(exported.logs).toHaveLength(2);
    for (const l of exported.logs) {
      const names = execFileSync("unzip", ["-Z1", l.path], { encoding: "utf8" });
      expect(names).toMatch(/^header\.json$/m);
      expect(names).toMatch(/^samples\/.+_epoch_2\.json$/m);
    }

    // One run, as an .eval zip.
    const runId = exported.logs[0]?.runId ?? "";
    const one = await runCli(["eval", "export", runId, "-o", "one", "--format", "eval"], {
      cwd,
      env,
    });
    expect(one.code, one.stderr).toBe(0);
    const path = one.stdout.trim();
    expect(path).toMatch(/one\/\S+\.eval$/);
    const header = JSON.parse(
      execFileSync("unzip", ["-p", path, "header.json"], { encoding: "utf8" }),
    );
    expect(header.eval.run_id).toBe(runId);
  });
});
