import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeLlmServer } from "../fakes/llm-server.js";
import { cleanupTempDirs, runCli, tempDir } from "../helpers.js";

let server: FakeLlmServer;
beforeAll(async () => {
  server = await new FakeLlmServer({ record: false }).start();
});
afterAll(async () => {
  await server.stop();
  cleanupTempDirs();
});

const experiment = (extra: string) => `name: cut-off
arms:
  - { name: baseline, kind: baseline }
models: [loop/agent]
evals:
  - { name: am, task: agentic-misalignment, conditions: [leaking_none-none_replacement], epochs: 2, max_tokens: 8${extra} }
judge: { model: loop/judge }
`;

describe("an experiment whose answers are cut off", () => {
  it("exits 3 naming retry_max_tokens, shows them apart in status, and finishes once given room", async () => {
    const cwd = tempDir("specsci-exp-cutoff-");
    const env = { SPECSCI_MODEL_CACHE: tempDir("specsci-models-") };
    writeFileSync(
      join(cwd, "specsci.yaml"),
      `endpoints: { loop: { base_url: "${server.url}/v1" } }\n`,
    );
    writeFileSync(join(cwd, "experiment.yaml"), experiment(""));
    const run = await runCli(["run", "experiment.yaml"], { cwd, env });
    expect(run.code, run.stderr).toBe(3);
    expect(run.stderr).toMatch(
      /2 answer\(s\) were cut off at their output budget \(max_tokens 8\).*retry_max_tokens/,
    );
    expect(run.stdout).toMatch(/eval\/baseline\/loop\/agent\/am\/seed-0 +\S+ +0 +0 +0 +2/);
    const status = await runCli(["status", "experiment.yaml"], { cwd, env });
    expect(status.stdout).toMatch(/ +truncated +samples/);
    expect(status.stdout).toMatch(/seed-0 +done with errors +0 +0 +2 +2 /);
    const report = await runCli(["report", "experiment.yaml", "-o", "report.html"], { cwd, env });
    expect(report.code, report.stderr).toBe(0);
    const html = readFileSync(join(cwd, "report.html"), "utf8");
    expect(html).toMatch(/0\/0; 95% CI[^<]*\), 2 cut off at max_tokens sample\(s\) excluded/);
    expect(html).toContain("baseline · loop/agent: cut off at max_tokens 2");
    const csv = readFileSync(join(cwd, "report-rates.csv"), "utf8").split("\n");
    const col = (name: string) => csv[1]?.split(",")[csv[0]?.split(",").indexOf(name) ?? -1];
    expect([col("n"), col("errors"), col("truncated"), col("refused")]).toEqual([
      "0",
      "0",
      "2",
      "0",
    ]);
    const plan = await runCli(["--json", "plan", "experiment.yaml"], { cwd, env });
    expect(JSON.parse(plan.stdout).stages[0]).toMatchObject({ remaining: 0 });

    writeFileSync(join(cwd, "experiment.yaml"), experiment(", retry_max_tokens: 100000"));
    const replan = await runCli(["--json", "plan", "experiment.yaml"], { cwd, env });
    expect(JSON.parse(replan.stdout).stages[0]).toMatchObject({ remaining: 2 });
    const again = await runCli(["run", "experiment.yaml"], { cwd, env });
    expect(again.code, again.stderr).toBe(0);
    const done = await runCli(["status", "experiment.yaml"], { cwd, env });
    expect(done.stdout).toMatch(/seed-0 +done +2 +0 +2 /);
    expect(done.stdout).not.toMatch(/truncated/);

    writeFileSync(join(cwd, "experiment.yaml"), experiment(", retry_max_tokens: 8"));
    const bad = await runCli(["plan", "experiment.yaml"], { cwd, env });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/retry_max_tokens.*must be larger than max_tokens/);
  });
});
