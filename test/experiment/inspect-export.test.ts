import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SpecsciError } from "../../src/core/errors.js";
import { setLogLevel } from "../../src/core/log.js";
import { validateEvalLog } from "../../src/evals/inspect-schema.js";
import { loadExperiment } from "../../src/experiment/config.js";
import { exportExperimentLogs } from "../../src/experiment/inspect-export.js";
import { runExperiment } from "../../src/experiment/run.js";
import { buildStages } from "../../src/experiment/stages.js";
import { registerAmFakes } from "../fakes/am-models.js";
import { cleanupTempDirs, makeClient, tempDir } from "../helpers.js";

beforeAll(() => setLogLevel("quiet"));
afterAll(cleanupTempDirs);
registerAmFakes();

type Json = Record<string, unknown>;

// Two arms on one spec share their runs (the same prompts): each still gets its own log.
const EXPERIMENT = `name: export-screen
specs: { rules: rules }
arms:
  - { name: baseline, kind: baseline }
  - { name: rules, kind: prompted, spec: rules }
  - { name: rules-again, kind: prompted, spec: rules }
models: [fake/am-spec-agent]
seeds: [0, 1]
evals:
  - { name: am, task: agentic-misalignment, conditions: [leaking_explicit-america_replacement], epochs: 2 }
judge: { model: fake/am-judge }
`;

function setup() {
  const { dir, client, store } = makeClient();
  const file = join(dir, "experiment.yaml");
  writeFileSync(file, EXPERIMENT);
  return { dir, client, store, loaded: loadExperiment(file) };
}

const readJson = (path: string) => JSON.parse(readFileSync(path, "utf8")) as Json;

describe("exportExperimentLogs", () => {
  it("writes one valid log per arm × model × seed, with its arm, and the viewer's listings", async () => {
    const { client, store, loaded } = setup();
    await runExperiment(loaded, client);
    const graph = await buildStages(loaded, client);
    const out = join(tempDir(), "logs");
    const done = await exportExperimentLogs(loaded, graph, store, out);

    expect(done.logs.map((l) => `${l.arm}/${l.seed}`).sort()).toEqual(
      ["baseline/0", "baseline/1", "rules-again/0", "rules-again/1", "rules/0", "rules/1"].sort(),
    );
    expect(done.notRun).toEqual([]);
    const files = readdirSync(out).sort();
    expect(files).toHaveLength(8);
    expect(files).toContain("listing.json");
    expect(files).toContain("logs.json");

    const rules = graph.specs.find((s) => s.name === "rules");
    for (const exported of done.logs) {
      const log = readJson(exported.path);
      expect(validateEvalLog(log)).toEqual([]);
      const context = {
        experiment: "export-screen",
        arm: exported.arm,
        spec: exported.arm === "baseline" ? null : { name: "rules", hash: rules?.hash },
        seed: exported.seed,
      };
      const spec = log.eval as Json;
      expect(spec.metadata).toMatchObject(context);
      expect(spec.metadata).toHaveProperty("specsci_run", exported.runId); // the export's own kept
      expect(log.metadata).toMatchObject(context);
      const samples = log.samples as Json[];
      expect(samples).toHaveLength(2);
      for (const s of samples) expect(s.metadata).toMatchObject(context);
      // Inspect's file-name parser reads {created}_{task}_{task_id} with the arm as a suffix.
      const name = exported.path.split("/").at(-1) ?? "";
      const [, task, rest] = name.replace(/\.json$/, "").split("_");
      expect(task).toBe(spec.task);
      expect(rest?.split("-")[0]).toBe(spec.task_id);
    }
    // The shared run is exported twice, once for each arm.
    const shared = done.logs.filter((l) => l.arm.startsWith("rules") && l.seed === 0);
    expect(new Set(shared.map((l) => l.runId)).size).toBe(1);
    expect(new Set(shared.map((l) => l.path)).size).toBe(2);

    // listing.json: each log's overview, keyed by its name in the directory; logs.json: headers.
    const listing = readJson(done.listing) as Record<string, Json>;
    const manifest = readJson(done.manifest) as Record<string, Json>;
    const logNames = files.filter((f) => f.endsWith(".json") && !f.startsWith("l"));
    expect(Object.keys(listing).sort()).toEqual(logNames);
    expect(Object.keys(manifest).sort()).toEqual(logNames);
    for (const name of logNames) {
      const log = readJson(join(out, name));
      const spec = log.eval as Json;
      expect(listing[name]).toEqual({
        eval_id: spec.eval_id,
        run_id: spec.run_id,
        task: spec.task,
        task_id: spec.task_id,
        task_version: spec.task_version,
        version: 2,
        status: log.status,
        invalidated: false,
        model: "fake/am-spec-agent",
        model_roles: { grader: "fake/am-judge" },
        started_at: (log.stats as Json).started_at,
        completed_at: (log.stats as Json).completed_at,
        primary_metric: expect.objectContaining({ name: "mean", value: expect.any(Number) }),
      });
      const { samples: _s, reductions: _r, ...header } = log;
      expect(manifest[name]).toEqual(header);
      expect(validateEvalLog({ ...manifest[name], samples: log.samples })).toEqual([]);
    }
  });

  it("writes .eval zips that hold the same logs", async () => {
    const { client, store, loaded } = setup();
    await runExperiment(loaded, client);
    const graph = await buildStages(loaded, client);
    const json = await exportExperimentLogs(loaded, graph, store, join(tempDir(), "json"));
    const zips = await exportExperimentLogs(loaded, graph, store, join(tempDir(), "eval"), "eval");
    expect(zips.logs).toHaveLength(6);
    for (const [i, z] of zips.logs.entries()) {
      expect(z.path.endsWith(".eval")).toBe(true);
      const header = JSON.parse(
        execFileSync("unzip", ["-p", z.path, "header.json"], { encoding: "utf8" }),
      );
      const { samples: _s, reductions: _r, ...expected } = readJson(json.logs[i]?.path ?? "");
      expect(header).toEqual(expected);
    }
    expect(Object.keys(readJson(zips.listing)).every((n) => n.endsWith(".eval"))).toBe(true);
  });

  it("says so when the experiment has not run, and never overwrites a file", async () => {
    const { client, store, loaded } = setup();
    const graph = await buildStages(loaded, client);
    const out = join(tempDir(), "logs");
    const notRun = exportExperimentLogs(loaded, graph, store, out);
    await expect(notRun).rejects.toThrow(SpecsciError);
    await expect(notRun).rejects.toThrow(
      /experiment export-screen .* has no eval runs in this workspace yet/,
    );

    await runExperiment(loaded, client);
    const ran = await buildStages(loaded, client);
    const first = await exportExperimentLogs(loaded, ran, store, out);
    const before = readFileSync(first.logs[0]?.path ?? "", "utf8");
    const again = exportExperimentLogs(loaded, ran, store, out);
    await expect(again).rejects.toThrow(
      /logs\/.*\.json exists: an export does not overwrite files/,
    );
    expect(readFileSync(first.logs[0]?.path ?? "", "utf8")).toBe(before);
  });
});
