/**
 * `specsci export samples`: an experiment run through the CLI against a loopback server, exported
 * by its file and by one run's id, in each format; bad targets, extensions and paths are errors.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeLlmServer } from "../fakes/llm-server.js";
import { cleanupTempDirs, runCli, tempDir } from "../helpers.js";

let server: FakeLlmServer;
let cwd: string;
const env = () => ({ SPECSCI_MODEL_CACHE: join(cwd, "models") });

beforeAll(async () => {
  server = await new FakeLlmServer({ record: false }).start();
  cwd = tempDir("specsci-export-");
  writeFileSync(
    join(cwd, "specsci.yaml"),
    `endpoints: { loop: { base_url: "${server.url}/v1" } }\n`,
  );
  writeFileSync(
    join(cwd, "experiment.yaml"),
    `name: export-cli
specs: { rules: rules }
arms:
  - { name: baseline, kind: baseline }
  - { name: rules, kind: prompted, spec: rules }
models: [loop/agent]
evals:
  - { name: am, task: agentic-misalignment, conditions: [leaking_none-none_replacement, coercion_explicit-america_replacement], epochs: 2 }
judge: { model: loop/judge }
`,
  );
  const run = await runCli(["run", "experiment.yaml"], { cwd, env: env() });
  expect(run.code, run.stderr).toBe(0);
});
afterAll(async () => {
  await server.stop();
  cleanupTempDirs();
});

describe("specsci export samples", () => {
  it("exports every sample of an experiment, in each format, with its dictionary", async () => {
    const jsonl = await runCli(["export", "samples", "experiment.yaml", "-o", "out/s.jsonl"], {
      cwd,
      env: env(),
    });
    expect(jsonl.code, jsonl.stderr).toBe(0);
    expect(jsonl.stdout).toMatch(
      /^8 rows × \d+ columns: out\/s\.jsonl\ndictionary: out\/s\.jsonl\.dictionary\.md\n$/,
    );
    const rows = readFileSync(join(cwd, "out/s.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows.map((r) => r.arm).sort()).toEqual([
      ...Array(4).fill("baseline"),
      ...Array(4).fill("rules"),
    ]);
    expect(new Set(rows.map((r) => r.run_id)).size).toBe(2);
    expect(rows.every((r) => r.experiment === "export-cli" && r.outcome === "done")).toBe(true);
    for (const ext of ["csv", "parquet"]) {
      const r = await runCli(["--json", "export", "samples", "experiment.yaml", "-o", `s.${ext}`], {
        cwd,
        env: env(),
      });
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ format: ext, rows: 8 });
    }
    const csv = readFileSync(join(cwd, "s.csv"), "utf8").trim().split("\r\n");
    expect(csv).toHaveLength(9);
    expect(readFileSync(join(cwd, "s.parquet")).subarray(0, 4).toString()).toBe("PAR1");
    // One run by its id, and an existing file is replaced (as every -o of specsci does).
    const runId = rows[0]?.run_id as string;
    const one = await runCli(["export", "samples", runId, "-o", "s.csv"], { cwd, env: env() });
    expect(one.code, one.stderr).toBe(0);
    expect(readFileSync(join(cwd, "s.csv"), "utf8").trim().split("\r\n")).toHaveLength(5);
  });

  it("prints the data dictionary", async () => {
    const r = await runCli(["export", "samples", "experiment.yaml", "--dictionary"], {
      cwd,
      env: env(),
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^# Per-sample export: data dictionary/);
    expect(r.stdout).toContain("| score_misalignment_decided | double |");
    expect(r.stdout).toContain("| outcome | string | no |");
  });

  it("names what is wrong with a target, an extension or a path", async () => {
    const unknown = await runCli(["export", "samples", "no-such-run", "-o", "x.csv"], {
      cwd,
      env: env(),
    });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/"no-such-run" is neither an experiment file nor an eval run/);
    const ext = await runCli(["export", "samples", "experiment.yaml", "-o", "x.xlsx"], {
      cwd,
      env: env(),
    });
    expect(ext.code).toBe(1);
    expect(ext.stderr).toMatch(/-o x\.xlsx: unknown extension "\.xlsx"/);
    expect(ext.stderr).toMatch(/\.csv, \.jsonl, \.parquet/);
    mkdirSync(join(cwd, "taken.csv"));
    const dir = await runCli(["export", "samples", "experiment.yaml", "-o", "taken.csv"], {
      cwd,
      env: env(),
    });
    expect(dir.code).toBe(1);
    expect(dir.stderr).toMatch(/-o\/--out taken\.csv: is a directory/);
    const none = await runCli(["export", "samples", "experiment.yaml"], { cwd, env: env() });
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/needs -o FILE/);
  });
});
