import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { SpecsciError } from "../../src/core/errors.js";
import { Store } from "../../src/store/db.js";
import { modelKey, trainedModel, trainRunIdOf } from "../../src/train/models.js";
import { loadTrainPlan } from "../../src/train/plan.js";
import { externalModel, registerExternalModel } from "../../src/train/register.js";
import { submitToSlurm } from "../../src/train/submit.js";
import { cleanupTempDirs, ROOT, tempDir } from "../helpers.js";

afterAll(cleanupTempDirs);

const SAMPLE = join(ROOT, "examples", "sample-data");

/** A plan training MSM on the shipped sample, and one continuing its msm stage with AFT. */
function plans(dir: string): { parent: string; cell: string } {
  const parent = join(dir, "shared-msm.yaml");
  writeFileSync(
    parent,
    `name: shared-msm\nbase_model: Qwen/Qwen3-8B\nseeds: [1, 2]\nstages:\n  - { name: msm, kind: midtraining, data: ${SAMPLE}/msm-value-augmented }\n`,
  );
  const cell = join(dir, "cell.yaml");
  writeFileSync(
    cell,
    `name: cell\nbase_model: Qwen/Qwen3-8B\nseeds: [1, 2]\nstart_from: { plan: shared-msm.yaml, stage: msm }\nstages:\n  - { name: aft, kind: aft, data: ${SAMPLE}/aft-value-augmented, set: reasoning }\n`,
  );
  return { parent, cell };
}

/**
 * A stand-in `sbatch` on PATH: it logs its arguments and answers `--parsable` as Slurm does
 * (`id;cluster`), numbering jobs from 101; FAIL_ON makes it refuse a script whose path has that.
 */
let log: string;
let savedPath: string | undefined;
beforeEach(() => {
  const bin = join(tempDir(), "bin");
  mkdirSync(bin);
  log = join(bin, "sbatch.log");
  writeFileSync(
    join(bin, "sbatch"),
    `#!/bin/sh
last=""; for a in "$@"; do last="$a"; done
case "$last" in *"$FAIL_ON"*) if [ -n "$FAIL_ON" ]; then echo "Batch job submission failed: Invalid partition" >&2; exit 1; fi;; esac
n=$(( $(wc -l < "${log}" 2>/dev/null || echo 0) + 101 ))
echo "$*" >> "${log}"
echo "$n;cluster"
`,
  );
  chmodSync(join(bin, "sbatch"), 0o755);
  savedPath = process.env.PATH;
  process.env.PATH = `${bin}:${savedPath}`;
});
afterEach(() => {
  process.env.PATH = savedPath;
  delete process.env.FAIL_ON;
});

const submissions = () => readFileSync(log, "utf8").trim().split("\n");

describe("submitToSlurm", () => {
  it("submits a chain of plans (MSM, its AFT, a stage on that) in order, each after the one before", async () => {
    const dir = tempDir();
    const { cell } = plans(dir);
    writeFileSync(
      join(dir, "dpo.yaml"),
      `name: dpo\nbase_model: Qwen/Qwen3-8B\nseeds: [1]\nstart_from: { plan: cell.yaml, stage: aft }\nstages:\n  - { name: more, kind: aft, data: ${SAMPLE}/aft-value-augmented }\n`,
    );
    const jobs = await submitToSlurm(loadTrainPlan(join(dir, "dpo.yaml")), [1], () =>
      Store.open(join(dir, "ws")),
    );
    expect(jobs.map((j) => [j.plan, j.parent, j.job, j.after ?? null])).toEqual([
      ["shared-msm", true, "101", null],
      ["cell", true, "102", "101"],
      ["dpo", false, "103", "102"],
    ]);
    expect(submissions()[1]).toContain("--dependency=afterok:101");
    // A chain that comes back to a plan is refused before anything is submitted.
    writeFileSync(
      cell,
      readFileSync(cell, "utf8").replace("shared-msm.yaml, stage: msm", "dpo.yaml, stage: more"),
    );
    await expect(
      submitToSlurm(loadTrainPlan(join(dir, "dpo.yaml")), [1], () => Store.open(join(dir, "ws"))),
    ).rejects.toThrow(/dpo\.yaml: start_from: the chain comes back to .*dpo\.yaml/);
    expect(submissions()).toHaveLength(3);
  });

  it("submits the continued plan's job of each seed first and chains this plan's job after it", async () => {
    const dir = tempDir();
    const { cell } = plans(dir);
    const heard: unknown[] = [];
    const jobs = await submitToSlurm(
      loadTrainPlan(cell),
      [1, 2],
      () => Store.open(join(dir, "ws")),
      (j) => heard.push(j),
    );
    const script = (plan: string, seed: number) =>
      join(dir, "runs", plan, `seed-${seed}`, "slurm.sh");
    expect(jobs).toEqual([
      { seed: 1, plan: "shared-msm", parent: true, job: "101", script: script("shared-msm", 1) },
      { seed: 1, plan: "cell", parent: false, job: "102", script: script("cell", 1), after: "101" },
      { seed: 2, plan: "shared-msm", parent: true, job: "103", script: script("shared-msm", 2) },
      { seed: 2, plan: "cell", parent: false, job: "104", script: script("cell", 2), after: "103" },
    ]);
    expect(heard).toEqual(jobs);
    expect(submissions()).toEqual([
      `--parsable ${script("shared-msm", 1)}`,
      `--parsable --dependency=afterok:101 ${script("cell", 1)}`,
      `--parsable ${script("shared-msm", 2)}`,
      `--parsable --dependency=afterok:103 ${script("cell", 2)}`,
    ]);
    expect(readFileSync(script("cell", 1), "utf8")).toContain("#SBATCH");
  });

  it("does not train again a continued stage that is trained already", async () => {
    const dir = tempDir();
    const { cell } = plans(dir);
    const store = Store.open(join(dir, "ws"));
    registerExternalModel(
      store,
      "stand-in",
      externalModel({ name: "stand-in", base: "Qwen/Qwen3-8B", path: dir }),
    );
    // The record of seed 2's msm stage, under the key the launcher writes it to.
    const record = trainedModel(store, "model:external:stand-in");
    store.artifacts.put(
      modelKey(trainRunIdOf("shared-msm", 2), "msm"),
      "model",
      JSON.stringify(record),
      {},
    );
    const jobs = await submitToSlurm(loadTrainPlan(cell), [2], () => store);
    expect(jobs.map((j) => [j.plan, j.job, j.after])).toEqual([["cell", "101", undefined]]);
  });

  it("needs no workspace for a plan that continues none", async () => {
    const dir = tempDir();
    const { parent } = plans(dir);
    const jobs = await submitToSlurm(loadTrainPlan(parent), [2], () => {
      throw new Error("the store was opened");
    });
    expect(jobs.map((j) => j.job)).toEqual(["101"]);
  });

  it("reports the jobs submitted before a submission fails, and says why it failed", async () => {
    const dir = tempDir();
    const { cell } = plans(dir);
    process.env.FAIL_ON = join("cell", "seed-1");
    const heard: string[] = [];
    const e = await submitToSlurm(
      loadTrainPlan(cell),
      [1],
      () => Store.open(join(dir, "ws")),
      (j) => heard.push(j.plan),
    ).catch((x) => x);
    expect(heard).toEqual(["shared-msm"]);
    expect(e).toBeInstanceOf(SpecsciError);
    expect(e.message).toBe(
      `sbatch ${join(dir, "runs", "cell", "seed-1", "slurm.sh")} failed: Batch job submission failed: Invalid partition`,
    );
  });

  it("without sbatch, says to submit on the login node", async () => {
    const dir = tempDir();
    const { parent } = plans(dir);
    process.env.PATH = "/nonexistent";
    const e = await submitToSlurm(loadTrainPlan(parent), [1], () => {
      throw new Error("unused");
    }).catch((x) => x);
    expect(e.message).toBe("cannot run sbatch: ENOENT");
    expect(e.hint).toBe(
      `submit ${join(dir, "runs", "shared-msm", "seed-1", "slurm.sh")} on the cluster's login node, or run without --slurm`,
    );
  });
});

describe("externalModel", () => {
  it("records a model trained elsewhere with its declared provenance, and registers it", () => {
    const dir = tempDir();
    const store = Store.open(join(dir, "ws"));
    const provenance = join(dir, "prov.yaml");
    writeFileSync(provenance, "data: a private corpus\nlora_r: 32\n");
    const a = externalModel({
      name: "theirs",
      base: "Qwen/Qwen3-8B",
      path: "hf:someone/adapter",
      provenance,
      seed: 3,
    });
    expect(a).toMatchObject({
      id: "external/theirs",
      run: "external-theirs",
      plan: provenance,
      base_model: "Qwen/Qwen3-8B",
      stage: "external",
      seed: 3,
      engine: "external",
      hyperparameters: { data: "a private corpus", lora_r: 32 },
      output_dir: "someone/adapter",
      adapter: true,
    });
    registerExternalModel(store, "theirs", a);
    expect(trainedModel(store, "model:external:theirs")).toEqual(a);
    expect(store.artifacts.list("model")[0]?.meta).toEqual({
      base_model: "Qwen/Qwen3-8B",
      declared: true,
    });
    const local = externalModel({ name: "mine", base: "b", path: dir, full: true });
    expect(local).toMatchObject({ output_dir: dir, adapter: false, seed: -1, plan: "" });
    expect(local.hyperparameters).toBeNull();
  });

  it("refuses a name that is no id, and a local path that does not exist", () => {
    expect(() => externalModel({ name: "a b", base: "b", path: "hf:x/y" })).toThrow(
      "--name a b: use letters, digits, '.', '_' or '-'",
    );
    expect(() => externalModel({ name: "x", base: "b", path: "nowhere" })).toThrow(
      "--path nowhere does not exist",
    );
  });
});
