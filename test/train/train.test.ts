import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { findExecutable } from "../../src/core/executable.js";
import { AftConfigSchema } from "../../src/data/aft/config.js";
import { writeAftSet } from "../../src/data/aft/output.js";
import { buildAftSet } from "../../src/data/aft/pipeline.js";
import { MsmConfigSchema } from "../../src/data/msm/config.js";
import { writeCorpus } from "../../src/data/msm/output.js";
import { buildCorpus } from "../../src/data/msm/pipeline.js";
import { registerFakeModel } from "../../src/llm/providers/fake.js";
import type { ChatRequest } from "../../src/llm/types.js";
import { specHash } from "../../src/spec/hash.js";
import { checkSpecFile } from "../../src/spec/io.js";
import { resolveSpecRef } from "../../src/spec/library.js";
import {
  axolotlConfigs,
  configText,
  forInstalledAxolotl,
  launchCommand,
  slurmScript,
} from "../../src/train/axolotl.js";
import { resolveData } from "../../src/train/data.js";
import { estimateTraining } from "../../src/train/estimate.js";
import { latestCheckpoint, runTraining, trainRunId } from "../../src/train/launcher.js";
import type { ModelArtifact } from "../../src/train/models.js";
import { parentPlan } from "../../src/train/parent.js";
import { parseTrainPlan } from "../../src/train/plan.js";
import { endpointsYaml, servedIds, servingPlan } from "../../src/train/serve.js";
import { writeRunFiles } from "../../src/train/slurm.js";
import { cancelTogether, runTogether } from "../../src/train/together.js";
import { engineVersions, PACKAGES } from "../../src/train/versions.js";
import {
  AFT_TEACHER_MARK,
  AFT_WRITER_PREFIX,
  aftTeacherAnswer,
  aftWriterAnswer,
} from "../fakes/aft-teacher.js";
import { msmAnswer } from "../fakes/msm-writer.js";
import { FakeTogetherServer } from "../fakes/together-server.js";
import { BIN, cleanupTempDirs, makeClient, ROOT, runCli } from "../helpers.js";

const STANDIN = join(ROOT, "test", "fakes", "axolotl-standin.mjs");
const GOLDEN = join(ROOT, "test", "fixtures", "train");
const lastUser = (req: ChatRequest) =>
  [...req.messages].reverse().find((m) => m.role === "user")?.content ?? "";

let dir: string;
const env = { client: undefined as unknown as ReturnType<typeof makeClient> };

const PLAN = (extra = "") => `name: rules-msm-aft
base_model: Qwen/Qwen3-8B
seeds: [1, 2]
stages:
  - { name: msm, kind: midtraining, data: corpus }
  - { name: aft, kind: aft, data: chatset, set: no-reasoning }
${extra}`;

beforeAll(async () => {
  registerFakeModel("train-data", (req) => {
    const system = req.messages.find((m) => m.role === "system")?.content ?? "";
    if (system.startsWith(AFT_WRITER_PREFIX))
      return aftWriterAnswer(lastUser(req), req.params.seed, { faults: false });
    if (system.includes(AFT_TEACHER_MARK)) return aftTeacherAnswer(system, lastUser(req));
    return msmAnswer(lastUser(req), req.params.seed, { faults: false });
  });
  env.client = makeClient();
  dir = env.client.dir;
  const spec = checkSpecFile(resolveSpecRef("rules")).spec;
  const s = { spec, specHash: specHash(spec), specName: "rules", client: env.client.client };
  const corpus = await buildCorpus({
    ...s,
    config: MsmConfigSchema.parse({
      model: "fake/train-data",
      counts: { domains: 2, subdomains: 1, assertions: 2, doc_types: 1, ideas: 2 },
    }),
  });
  await writeCorpus(corpus, join(dir, "corpus"), env.client.store, { spec: "rules" });
  const chat = await buildAftSet({
    ...s,
    config: AftConfigSchema.parse({
      model: "fake/train-data",
      counts: { domains: 1, prompts: 4 },
      budget: { examples: 8 },
    }),
  });
  await writeAftSet(chat, join(dir, "chatset"), env.client.store, { spec: "rules" });
});
afterAll(cleanupTempDirs);

// Paths of this run's temporary directory, and the data hash in the prepared-data path.
const normalize = (text: string) =>
  text.replaceAll(dir, "<DIR>").replace(/(prepared\/\w+)-[0-9a-f]{12}/g, "$1-<SHA>");
mkdirSync(GOLDEN, { recursive: true });

describe("axolotl configs", () => {
  it("match the golden files: completion data for midtraining, assistant-only chat_template for AFT, the paper's LoRA recipe", async () => {
    const loaded = parseTrainPlan(PLAN(), join(dir, "train.yaml"));
    const configs = axolotlConfigs(loaded, 1, await resolveData(loaded));
    for (const c of configs) {
      const golden = join(GOLDEN, `${c.stage.name}.yaml`);
      // UPDATE_GOLDEN=1 rewrites them after an intended change; review the diff before committing.
      if (process.env.UPDATE_GOLDEN) writeFileSync(golden, normalize(configText(c)));
      expect(normalize(configText(c))).toBe(readFileSync(golden, "utf8"));
    }
    const [msm, aft] = configs.map((c) => parse(configText(c)));
    expect(msm.datasets).toEqual([
      {
        path: join(dir, "corpus", "exports", "text.jsonl"),
        ds_type: "json",
        type: "completion",
        field: "text",
      },
    ]);
    expect(aft.datasets[0]).toMatchObject({
      type: "chat_template",
      field_messages: "messages",
      roles_to_train: ["assistant"],
    });
    expect(aft.lora_model_dir).toBe(msm.output_dir); // AFT continues the MSM adapter
    for (const c of [msm, aft])
      expect(c).toMatchObject({
        adapter: "lora",
        lora_r: 64,
        lora_alpha: 128,
        lora_target_linear: true,
        num_epochs: 1,
        learning_rate: 1e-4,
        lr_scheduler: "cosine",
        warmup_ratio: 0.05,
        weight_decay: 0.01,
        seed: 1,
      });
  });

  it("fresh adapters merge the previous stage first; several GPUs use FSDP2 and torchrun; nodes get a rendezvous and a Slurm script", async () => {
    const loaded = parseTrainPlan(
      PLAN("hardware: { gpus_per_node: 4, nodes: 2, slurm: { partition: gpu } }\n").replace(
        "set: no-reasoning }",
        "set: no-reasoning, from_previous: fresh-adapter }",
      ),
      join(dir, "train.yaml"),
    );
    const [msm, aft] = axolotlConfigs(loaded, 2, await resolveData(loaded));
    expect(aft?.before).toEqual([
      ["axolotl", "merge-lora", msm?.path, "--lora-model-dir", msm?.outputDir],
    ]);
    expect(aft?.config.base_model).toBe(join(msm?.outputDir as string, "merged"));
    expect(aft?.config.lora_model_dir).toBeUndefined();
    expect(msm?.config.fsdp_version).toBe(2);
    const cmd = launchCommand(loaded, msm as never);
    expect(cmd.slice(0, 5)).toEqual(["axolotl", "train", msm?.path, "--launcher", "torchrun"]);
    expect(cmd).toContain("--rdzv_backend");
    const script = slurmScript(loaded, 2, [msm, aft] as never);
    expect(script).toContain("#SBATCH --nodes=2");
    expect(script).toContain("#SBATCH --partition=gpu");
    expect(script).toContain("#SBATCH --gres=gpu:4");
    expect(script.indexOf("merge-lora")).toBeLessThan(script.lastIndexOf("srun"));
  });

  it("follow the base's family: its written chat template, end-of-turn and LoRA targets; a chat set in another format is refused", async () => {
    const llama = PLAN().replace("Qwen/Qwen3-8B", "meta-llama/Llama-3.1-8B");
    // The shared chat set was formatted and counted with Qwen3's template.
    const mixed = parseTrainPlan(llama, join(dir, "train.yaml"));
    await expect(async () => axolotlConfigs(mixed, 1, await resolveData(mixed))).rejects.toThrow(
      /stage aft: .*chatset was formatted and counted with the qwen3 chat template, and base_model meta-llama\/Llama-3.1-8B is llama3/,
    );
    const spec = checkSpecFile(resolveSpecRef("rules")).spec;
    const set = await buildAftSet({
      spec,
      specHash: specHash(spec),
      specName: "rules",
      client: env.client.client,
      config: AftConfigSchema.parse({
        model: "fake/train-data",
        counts: { domains: 1, prompts: 4 },
        budget: { examples: 8 },
        chat_template: "llama3",
      }),
    });
    await writeAftSet(set, join(dir, "chatset-llama"), env.client.store, { spec: "rules" });
    const loaded = parseTrainPlan(
      llama.replace("data: chatset,", "data: chatset-llama,"),
      join(dir, "train.yaml"),
    );
    const [msm, aft] = axolotlConfigs(loaded, 1, await resolveData(loaded)).map((c) => c.config);
    expect(aft).toMatchObject({
      chat_template: "jinja",
      eot_tokens: ["<|eot_id|>"],
      lora_target_modules: [
        "q_proj",
        "k_proj",
        "v_proj",
        "o_proj",
        "gate_proj",
        "up_proj",
        "down_proj",
      ],
    });
    expect(aft?.chat_template_jinja).toContain("<|start_header_id|>");
    expect(msm?.chat_template).toBeUndefined();
    for (const c of [msm, aft]) expect(c?.lora_target_linear).toBeUndefined();
  });

  it("an unknown base names the setting and the known families; base_family names it", async () => {
    const local = PLAN().replace("Qwen/Qwen3-8B", "./my-checkpoint");
    const unknown = parseTrainPlan(local, join(dir, "train.yaml"));
    const data = await resolveData(unknown);
    expect(() => axolotlConfigs(unknown, 1, data)).toThrow(
      /train\.yaml: base_model: "\.\/my-checkpoint" is not a known base-model family/,
    );
    const named = parseTrainPlan(`${local}base_family: qwen3\n`, join(dir, "train.yaml"));
    const [, aft] = axolotlConfigs(named, 1, data);
    expect(aft?.config).toMatchObject({
      chat_template: "tokenizer_default",
      lora_target_linear: true,
    });
    const wrong = parseTrainPlan(`${local}base_family: gpt\n`, join(dir, "train.yaml"));
    expect(() => axolotlConfigs(wrong, 1, data)).toThrow(/base_family: unknown base family "gpt"/);
  });

  it("a stage's own hyperparameters override only what they name", async () => {
    const loaded = parseTrainPlan(
      PLAN("hyperparameters: { learning_rate: 2.0e-4, lora_r: 32 }\n").replace(
        "set: no-reasoning }",
        "set: no-reasoning, hyperparameters: { sequence_len: 8192 } }",
      ),
      join(dir, "train.yaml"),
    );
    const [, aft] = axolotlConfigs(loaded, 1, await resolveData(loaded));
    expect(aft?.config).toMatchObject({ sequence_len: 8192, learning_rate: 2e-4, lora_r: 32 });
  });

  it("several nodes need Slurm; ZeRO-3 settings are written beside the configs", async () => {
    const loaded = parseTrainPlan(
      PLAN("hardware: { nodes: 2, gpus_per_node: 2, distributed: deepspeed-zero3 }\n"),
      join(dir, "train.yaml"),
    );
    await expect(runTraining(loaded, env.client.store, { axolotl: STANDIN })).rejects.toThrow(
      /2 nodes need a launcher on each of them/,
    );
    const script = await writeRunFiles(loaded, 1);
    const msm = parse(
      readFileSync(join(dir, "runs", "rules-msm-aft", "seed-1", "msm.yaml"), "utf8"),
    );
    expect(JSON.parse(readFileSync(msm.deepspeed, "utf8")).zero_optimization.stage).toBe(3);
    expect(readFileSync(script, "utf8")).toContain("srun axolotl train");
    expect(() =>
      parseTrainPlan(PLAN('hardware: { slurm: { partition: "gpu\\nrm -rf ~" } }\n'), "t.yaml"),
    ).toThrow(/partition/);
  });

  it("serving groups adapters by what they were trained on; SGLang names adapters base:name", () => {
    const art = (
      id: string,
      servedBase: string,
      extra: Partial<ModelArtifact> = {},
    ): ModelArtifact =>
      ({
        id,
        base_model: "Qwen/Qwen3-8B",
        served_base: servedBase,
        adapter: true,
        engine: "axolotl",
        output_dir: `/out/${id}`,
        hyperparameters: { lora_r: 48 },
        ...extra,
      }) as ModelArtifact;
    const models = [
      art("train-a/msm", "Qwen/Qwen3-8B"),
      art("train-a/aft", "/out/train-a/msm/merged"),
      art("external/x", "Qwen/Qwen3-8B", { hyperparameters: null }),
      art("train-t/aft", "Qwen/Qwen3-8B", { engine: "together", output_dir: "ns/model" }),
    ];
    const vllm = servingPlan(models, { engine: "vllm" });
    expect(vllm.map((p) => [p.base, p.models.map((m) => m.name)])).toEqual([
      ["Qwen/Qwen3-8B", ["a-msm", "external-x"]],
      ["/out/train-a/msm/merged", ["a-aft"]],
    ]);
    expect(vllm[0]?.command).toContain("64"); // rank 48 rounds up to vLLM's 64
    const sglang = servingPlan(models, { engine: "sglang" });
    expect(servedIds(sglang[0] as never, "sglang")).toEqual({
      call: ["Qwen/Qwen3-8B:a-msm", "Qwen/Qwen3-8B:external-x"],
      listed: ["Qwen/Qwen3-8B"],
    });
    expect(endpointsYaml(sglang, "trained", "127.0.0.1", "sglang")).toContain(
      "trained1/Qwen/Qwen3-8B:a-msm",
    );
  });

  it("plans tokens and GPU-hours from the data's own counts", async () => {
    const loaded = parseTrainPlan(PLAN(), join(dir, "train.yaml"));
    const est = await estimateTraining(loaded);
    expect(est.stages).toHaveLength(4);
    const corpus = JSON.parse(readFileSync(join(dir, "corpus", "manifest.json"), "utf8"));
    expect(est.stages[0]?.tokens).toBe(corpus.tokens.total);
    expect(est.gpuHours).toBeCloseTo(
      est.stages.reduce((a, s) => a + s.tokens / 2500 / 3600, 0),
      9,
    );
  });

  it("the example plan parses; a plan mistake names its line", () => {
    const loaded = parseTrainPlan(
      readFileSync(join(ROOT, "examples", "recipes", "train.yaml"), "utf8"),
      "train.yaml",
    );
    expect(loaded.plan.seeds).toEqual([1, 2, 3]);
    expect(() => parseTrainPlan("name: x\nbase_model: b\nstages: []\n", "t.yaml")).toThrow(
      /t\.yaml:3:\d+: stages/,
    );
    expect(() => parseTrainPlan(PLAN().replace("name: aft", "name: msm"), "t.yaml")).toThrow(
      /two stages are named "msm"/,
    );
  });

  it("refuses data of the wrong kind, naming the stage", async () => {
    const loaded = parseTrainPlan(
      PLAN().replace("kind: midtraining, data: corpus", "kind: midtraining, data: chatset"),
      join(dir, "train.yaml"),
    );
    await expect(resolveData(loaded)).rejects.toThrow(
      /stage msm \(midtraining\) needs an MSM corpus/,
    );
  });
});

describe("the launcher (with a stand-in for axolotl)", () => {
  it("records the package versions of the Python that axolotl runs on", () => {
    const python = findExecutable("python3");
    const script = join(dir, "axolotl-console-script");
    writeFileSync(script, `#!${python ?? "/nonexistent/python3"}\nimport sys\n`, { mode: 0o755 });
    const v = engineVersions(script);
    if (python) {
      // Packages that are not installed are null, never left out.
      expect(v).toMatchObject({ python });
      expect(Object.keys((v as { packages: object }).packages)).toEqual(PACKAGES);
    } else
      expect(v).toMatchObject({
        python: null,
        error: expect.stringContaining("could not be asked"),
      });
    expect(engineVersions(STANDIN)).toMatchObject({
      python: null,
      error: expect.stringContaining("not a Python console script"),
    });
  });

  it("writes the attention setting the installed axolotl wants, without changing the run's identity", async () => {
    const attention = (c: Record<string, unknown>) =>
      [c.flash_attention ?? null, c.attn_implementation ?? null] as const;
    const base = { flash_attention: true, lora_r: 8 };
    expect(attention(forInstalledAxolotl(base, "0.18.1"))).toEqual([null, "flash_attention_2"]);
    expect(attention(forInstalledAxolotl(base, "0.17.0.dev2"))).toEqual([
      null,
      "flash_attention_2",
    ]);
    expect(attention(forInstalledAxolotl(base, "0.16.1"))).toEqual([true, null]);
    expect(attention(forInstalledAxolotl(base, null))).toEqual([true, null]);
    // A Python that says axolotl 0.18.0 is installed: the file axolotl reads has the new key.
    const python = join(dir, "python-axolotl-0.18");
    writeFileSync(
      python,
      `#!/bin/sh\necho '{"axolotl": "0.18.0", "transformers": "4.57.0", "peft": null, "torch": null, "accelerate": null, "deepspeed": null}'\n`,
      { mode: 0o755 },
    );
    const loaded = parseTrainPlan(PLAN(), join(dir, "train.yaml"));
    const store = env.client.store;
    process.env.SPECSCI_PYTHON = python;
    try {
      const first = await runTraining(loaded, store, { axolotl: STANDIN, seeds: [7] });
      const written = parse(
        readFileSync(join(dir, "runs", "rules-msm-aft", "seed-7", "msm.yaml"), "utf8"),
      );
      expect(attention(written)).toEqual([null, "flash_attention_2"]);
      // The model's record says what axolotl read; the fingerprint keeps the form every version
      // reads, so a run made before (or with another version) is not retrained for it.
      expect(Object.values(first[0]?.configs ?? {})[0]).toContain(
        "attn_implementation: flash_attention_2",
      );
      const runId = trainRunId(loaded, 7);
      await runTraining(loaded, store, { axolotl: STANDIN, seeds: [7] });
      expect(store.train.stage(runId, "msm")?.attempts).toBe(1);
    } finally {
      delete process.env.SPECSCI_PYTHON;
    }
  });

  it("runs every stage, records loss, registers models; a crash resumes from the last checkpoint", async () => {
    const loaded = parseTrainPlan(PLAN(), join(dir, "train.yaml"));
    const store = env.client.store;
    process.env.STANDIN_CRASH_AT = "5";
    try {
      await expect(runTraining(loaded, store, { axolotl: STANDIN, seeds: [1] })).rejects.toThrow(
        /stage msm failed: axolotl exited with 1: torch.OutOfMemoryError/,
      );
    } finally {
      delete process.env.STANDIN_CRASH_AT;
    }
    const runId = trainRunId(loaded, 1);
    expect(store.train.stage(runId, "msm")?.status).toBe("failed");
    const out = join(dir, "runs", "rules-msm-aft", "seed-1", "msm");
    expect(latestCheckpoint(out)).toBe(join(out, "checkpoint-3"));
    const lines: string[] = [];
    const models = await runTraining(loaded, store, {
      axolotl: STANDIN,
      seeds: [1],
      log: (l) => lines.push(l),
    });
    // The stand-in is a node script: which Python packages trained it cannot be known, and is said.
    expect(lines[0]).toMatch(/package versions not recorded: .* set SPECSCI_PYTHON/);
    expect(lines[1]).toContain(`resuming from ${join(out, "checkpoint-3")}`);
    expect(
      parse(readFileSync(join(dir, "runs", "rules-msm-aft", "seed-1", "msm.yaml"), "utf8"))
        .resume_from_checkpoint,
    ).toBe(join(out, "checkpoint-3"));
    expect(models.map((m) => m.id)).toEqual([`${runId}/msm`, `${runId}/aft`]);
    expect(store.train.stage(runId, "msm")).toMatchObject({ status: "completed", attempts: 2 });
    const steps = store.train
      .metrics(runId, "msm")
      .filter((m) => "loss" in m.metrics)
      .map((m) => m.step);
    // Steps 1–4 from the crashed run, 4–10 from the resumed one (step 4 logged again after checkpoint-3).
    expect(steps).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(store.train.metrics(runId, "msm").find((m) => m.step === 0)?.metrics.train_loss).toBe(2);
    expect(store.train.metrics(runId, "aft")).toHaveLength(11);
    const aft = models[1];
    expect(aft?.stages.map((s) => s.name)).toEqual(["msm", "aft"]);
    expect(aft?.stages[1]?.data_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(Object.keys(aft?.configs ?? {})).toHaveLength(2);
    expect(existsSync(join(dir, "runs", "rules-msm-aft", "seed-1", "msm.log"))).toBe(true);
    // Finished stages are not run again.
    const again = await runTraining(loaded, store, {
      axolotl: STANDIN,
      seeds: [1],
      log: (l) => lines.push(l),
    });
    expect(again).toHaveLength(2);
    expect(store.train.stage(runId, "msm")?.attempts).toBe(2);
    // A changed plan retrains: the old weights are moved aside, and the AFT stage after it retrains too.
    const changed = parseTrainPlan(
      PLAN("hyperparameters: { learning_rate: 5.0e-5 }\n"),
      join(dir, "train.yaml"),
    );
    const moved: string[] = [];
    await runTraining(changed, store, { axolotl: STANDIN, seeds: [1], log: (l) => moved.push(l) });
    expect(moved.filter((l) => l.includes("the plan or data changed"))).toHaveLength(2);
    expect(store.train.stage(runId, "msm")?.attempts).toBe(3);
  });

  it("one trainer per run: a live lock refuses a second, a dead one is taken over", async () => {
    const loaded = parseTrainPlan(PLAN(), join(dir, "train.yaml"));
    const lock = join(dir, "runs", "rules-msm-aft", "seed-2", ".specsci-lock");
    mkdirSync(join(dir, "runs", "rules-msm-aft", "seed-2"), { recursive: true });
    writeFileSync(lock, String(process.ppid)); // a live process other than this one
    await expect(
      runTraining(loaded, env.client.store, { axolotl: STANDIN, seeds: [2] }),
    ).rejects.toThrow(
      /train-rules-msm-aft-seed2 is being trained by another specsci \(process \d+\)/,
    );
    writeFileSync(lock, "999999999"); // no such process
    await expect(
      runTraining(loaded, env.client.store, { axolotl: join(dir, "no-axolotl"), seeds: [2] }),
    ).rejects.toThrow(/ENOENT/);
    expect(existsSync(lock)).toBe(false); // released even when the run fails
    // A trainer whose specsci was killed is still running: its run is not started twice.
    const orphan = spawn("sleep", ["30"], { detached: true, stdio: "ignore" });
    try {
      writeFileSync(lock, JSON.stringify({ pid: 999999999, trainer: orphan.pid }));
      await expect(
        runTraining(loaded, env.client.store, { axolotl: STANDIN, seeds: [2] }),
      ).rejects.toThrow(
        /a trainer started by an earlier specsci is still running \(process group \d+\)/,
      );
    } finally {
      process.kill(-(orphan.pid as number), "SIGKILL");
    }
    writeFileSync(lock, "999999999");
  });

  it("a missing engine is one clear error", async () => {
    const loaded = parseTrainPlan(PLAN(), join(dir, "train.yaml"));
    await expect(
      runTraining(loaded, env.client.store, { axolotl: join(dir, "no-axolotl"), seeds: [2] }),
    ).rejects.toThrow(/cannot run .*no-axolotl: ENOENT/);
  });

  it("the CLI plans, runs and lists models", async () => {
    writeFileSync(join(dir, "train.yaml"), PLAN());
    const ws = join(dir, "ws-cli");
    const plan = await runCli(["--workspace", ws, "train", "plan", "train.yaml"], { cwd: dir });
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toContain("GPU-hours");
    const run = await runCli(["--workspace", ws, "train", "run", "train.yaml", "--seed", "2"], {
      cwd: dir,
      env: { SPECSCI_AXOLOTL: STANDIN },
    });
    expect(run.code, run.stderr).toBe(0);
    const list = await runCli(["--workspace", ws, "--json", "train", "list"], { cwd: dir });
    expect(JSON.parse(list.stdout).map((m: { id: string }) => m.id)).toEqual([
      "train-rules-msm-aft-seed2/msm",
      "train-rules-msm-aft-seed2/aft",
    ]);
    const show = await runCli(
      ["--workspace", ws, "models", "show", "train-rules-msm-aft-seed2/aft"],
      { cwd: dir },
    );
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toContain("base_model: Qwen/Qwen3-8B");
    expect(show.stdout).toMatch(/data_sha256: [0-9a-f]{64}/);
    expect(show.stdout).toContain("learning_rate: 0.0001");
    const unknown = await runCli(["--workspace", ws, "models", "show", "nope/x"], { cwd: dir });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('unknown provider "nope"');
    writeFileSync(join(dir, "prov.yaml"), "data: a private corpus\nlora_r: 32\n");
    const reg = await runCli(
      [
        "--workspace",
        ws,
        "train",
        "register",
        "--name",
        "theirs",
        "--base",
        "Qwen/Qwen3-8B",
        "--path",
        "hf:someone/adapter",
        "--provenance",
        "prov.yaml",
      ],
      { cwd: dir },
    );
    expect(reg.code, reg.stderr).toBe(0);
    const badPath = await runCli(
      ["--workspace", ws, "train", "register", "--name", "x", "--base", "b", "--path", "nowhere"],
      { cwd: dir },
    );
    expect(badPath.code).toBe(1);
    expect(badPath.stderr).toContain("--path nowhere does not exist");
    // Serving: the commands and endpoints, then a started server (a stand-in vllm) answering as each adapter.
    const serve = await runCli(["--workspace", ws, "train", "serve"], { cwd: dir });
    expect(serve.code, serve.stderr).toBe(0);
    expect(serve.stdout).toContain(
      "vllm serve Qwen/Qwen3-8B --host 127.0.0.1 --port 8000 --enable-lora --max-lora-rank 64",
    );
    expect(serve.stdout).toContain(
      `rules-msm-aft-seed2-aft=${join(dir, "runs", "rules-msm-aft", "seed-2", "aft")}`,
    );
    expect(serve.stdout).toContain('trained: { base_url: "http://127.0.0.1:8000/v1" }');
    expect(serve.stdout).toContain("theirs=someone/adapter"); // the registered adapter, on the same base
    expect(serve.stdout).toContain("--max-lora-rank 64");
    expect(serve.stdout).toMatch(/^# no GPUs known, so one GPU \(Qwen\/Qwen3-8B needs ~19 GiB; /m);
    // On a machine with 4 GPUs (a stand-in nvidia-smi), the one server takes them all as replicas.
    const smi = join(dir, "nvidia-smi");
    writeFileSync(smi, "#!/bin/sh\nprintf '0, 81559\\n1, 81559\\n2, 81559\\n3, 81559\\n'\n");
    chmodSync(smi, 0o755);
    const onGpus = await runCli(["--workspace", ws, "train", "serve"], {
      cwd: dir,
      env: { SPECSCI_NVIDIA_SMI: smi },
    });
    expect(onGpus.stdout).toContain(
      `# Qwen/Qwen3-8B needs ~19 GiB; 4 GPU(s) found by ${smi}, 80 GiB each: tensor 1, 4 replicas on the GPUs left\nCUDA_VISIBLE_DEVICES=0,1,2,3 vllm serve Qwen/Qwen3-8B`,
    );
    expect(onGpus.stdout).toMatch(/--data-parallel-size 4\n/);
    const port = 20000 + Math.floor(Math.random() * 20000);
    const child = spawn(
      process.execPath,
      [BIN, "--workspace", ws, "train", "serve", "--start", "--port", String(port)],
      {
        cwd: dir,
        env: {
          ...process.env,
          SPECSCI_VLLM: join(ROOT, "test", "fakes", "vllm-standin.mjs"),
          SPECSCI_NVIDIA_SMI: smi,
        },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    const exited = new Promise((r) => child.once("close", r));
    while (!out.includes("ready, and registered")) await new Promise((r) => setTimeout(r, 50));
    expect(out).toContain(
      "trained/rules-msm-aft-seed2-msm, trained/rules-msm-aft-seed2-aft, trained/external-theirs",
    );
    const answer = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
      method: "POST",
      body: JSON.stringify({
        model: "rules-msm-aft-seed2-aft",
        messages: [{ role: "user", content: "hi" }],
      }),
    }).then((r) => r.json() as Promise<{ choices: { message: { content: string } }[] }>);
    expect(answer.choices[0]?.message.content).toBe("served by rules-msm-aft-seed2-aft");
    // Started on its GPUs, with the layout's flags.
    const launched = (await fetch(`http://127.0.0.1:${port}/standin`).then((r) => r.json())) as {
      args: string[];
      cuda_visible_devices?: string;
    };
    expect(launched.cuda_visible_devices).toBe("0,1,2,3");
    expect(launched.args.slice(-2)).toEqual(["--data-parallel-size", "4"]);
    const listed = await runCli(["--workspace", ws, "models", "list"], { cwd: dir });
    expect(listed.stdout).toMatch(
      new RegExp(
        `trained/rules-msm-aft-seed2-aft\\s+http://127\\.0\\.0\\.1:${port}/v1\\s+train-rules-msm-aft-seed2/aft`,
      ),
    );
    // Registered in the workspace: callable by id with no endpoint in specsci.yaml.
    const viaRegistry = await runCli(
      ["--workspace", ws, "models", "test", "trained/rules-msm-aft-seed2-aft"],
      { cwd: dir },
    );
    expect(viaRegistry.code, viaRegistry.stderr).toBe(0);
    expect(viaRegistry.stdout).toContain("served by rules-msm-aft-seed2-aft");
    child.kill("SIGINT");
    await exited;
    // Stopped servers are unregistered.
    const gone = await runCli(
      ["--workspace", ws, "models", "test", "trained/rules-msm-aft-seed2-aft"],
      { cwd: dir },
    );
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('unknown provider "trained"');
    await expect(fetch(`http://127.0.0.1:${port}/v1/models`)).rejects.toThrow(); // the server was stopped

    const bad = await runCli(["--workspace", ws, "train", "run", "train.yaml", "--seed", "7"], {
      cwd: dir,
    });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("seed 7 is not in the plan");
  });
});

describe("Together fine-tuning (loopback fake of its REST API)", () => {
  const KEY = "tgp-test-PLANTED-0123456789";
  let server: FakeTogetherServer;
  beforeAll(async () => {
    server = await new FakeTogetherServer(KEY).start();
  });
  afterAll(() => server.stop());

  it("uploads each stage's data, creates LoRA jobs (AFT from the MSM job), polls them and registers the models", async () => {
    const loaded = parseTrainPlan(
      PLAN("engine: together\n").replace("seeds: [1, 2]", "seeds: [3]"),
      join(dir, "train.yaml"),
    );
    const { store } = makeClient();
    const models = await runTogether(loaded, store, {
      apiKey: KEY,
      baseUrl: server.url,
      pollMs: 1,
    });
    expect(server.uploads.map((u) => [u.fileName, u.purpose])).toEqual([
      ["text.jsonl", "fine-tune"],
      ["together-no-reasoning.jsonl", "fine-tune"],
    ]);
    const [msm, aft] = [...server.jobs.values()];
    expect(msm?.body).toMatchObject({
      model: "Qwen/Qwen3-8B",
      n_epochs: 1,
      learning_rate: 1e-4,
      training_type: { type: "Lora", lora_r: 64, lora_alpha: 128 },
      training_method: { method: "sft", train_on_inputs: true },
      lr_scheduler: {
        lr_scheduler_type: "cosine",
        lr_scheduler_args: { min_lr_ratio: 0, num_cycles: 0.5 },
      },
    });
    expect(aft?.body).toMatchObject({
      from_checkpoint: msm?.id,
      random_seed: 3,
      training_method: { method: "sft", train_on_inputs: false },
    });
    expect(aft?.body.from_checkpoint).toBe(msm?.id); // a checkpoint replaces the base model
    expect(models.map((m) => m.output_dir)).toEqual([
      "ns/Qwen/Qwen3-8B-rules-msm-aft-s3-msm",
      "ns/Qwen/Qwen3-8B-rules-msm-aft-s3-aft",
    ]);
    expect(models[1]?.engine).toBe("together");
    // A rerun finds the finished jobs and creates nothing new.
    await runTogether(loaded, store, { apiKey: KEY, baseUrl: server.url, pollMs: 1 });
    expect(server.jobs.size).toBe(2);
    expect(server.uploads).toHaveLength(2);
  });

  it("a plan that starts from another's stage continues that job, and a new one when it is retrained", async () => {
    writeFileSync(
      join(dir, "shared-msm.yaml"),
      "name: shared-msm\nbase_model: Qwen/Qwen3-8B\nengine: together\nseeds: [6]\nstages:\n  - { name: msm, kind: midtraining, data: corpus }\n",
    );
    const cell = (name: string) =>
      parseTrainPlan(
        `name: ${name}\nbase_model: Qwen/Qwen3-8B\nengine: together\nseeds: [6]\nstart_from: { plan: shared-msm.yaml, stage: msm }\nstages:\n  - { name: aft, kind: aft, data: chatset }\n`,
        join(dir, `${name}.yaml`),
      );
    const { store } = makeClient();
    const o = { apiKey: KEY, baseUrl: server.url, pollMs: 1 };
    const jobs = () =>
      [...server.jobs.values()].filter((j) => /^(shared|cell)/.test(String(j.body.suffix)));
    const a = await runTogether(cell("cell-a"), store, o);
    const b = await runTogether(cell("cell-b"), store, o);
    // One MSM job, continued by both cells.
    const [msm, aftA, aftB] = jobs();
    expect(jobs()).toHaveLength(3);
    expect(aftA?.body.from_checkpoint).toBe(msm?.id);
    expect(aftB?.body.from_checkpoint).toBe(msm?.id);
    expect(a.map((m) => m.id)).toEqual(["train-shared-msm-seed6/msm", "train-cell-a-seed6/aft"]);
    expect(b[1]?.stages.map((s) => s.name)).toEqual(["msm", "aft"]);
    // The MSM job is redone (its stored job forgotten, as after a failure): the cell's job was
    // made from the old one, so the cell trains again on the new one.
    const key = "together:train-shared-msm-seed6:msm";
    const state = JSON.parse(store.artifacts.get(key)?.content ?? "{}");
    delete state.job;
    store.artifacts.put(key, "together-job", JSON.stringify(state), {});
    await runTogether(cell("cell-a"), store, o);
    const after = jobs();
    expect(after).toHaveLength(5);
    expect(after[4]?.body.from_checkpoint).toBe(after[3]?.id);
  });

  it("start_from names a plan of the same base and engine, and one of its stages", () => {
    const child = (from: string, base = "Qwen/Qwen3-8B") =>
      parseTrainPlan(
        `name: c\nbase_model: ${base}\nengine: together\nstart_from: ${from}\nstages:\n  - { name: aft, kind: aft, data: chatset }\n`,
        join(dir, "c.yaml"),
      );
    expect(() => parentPlan(child("{ plan: shared-msm.yaml, stage: sft }"))).toThrow(
      /c\.yaml: start_from: .*shared-msm\.yaml has no stage "sft"/,
    );
    expect(() => parentPlan(child("{ plan: shared-msm.yaml, stage: msm }", "other/base"))).toThrow(
      /trains Qwen\/Qwen3-8B, this plan other\/base/,
    );
    expect(() => parentPlan(child("{ plan: nowhere.yaml, stage: msm }"))).toThrow(
      /training plan .*nowhere\.yaml \(start_from\.plan in .*c\.yaml\) does not exist/,
    );
  });

  it("cancels the jobs still running", async () => {
    const loaded = parseTrainPlan(
      PLAN("engine: together\n")
        .replace("name: rules-msm-aft", "name: to-cancel")
        .replace("seeds: [1, 2]", "seeds: [5]"),
      join(dir, "train.yaml"),
    );
    const { store } = makeClient();
    const controller = new AbortController();
    // Started, then interrupted while its first job is still pending (the job keeps running on Together).
    const started = runTogether(loaded, store, {
      apiKey: KEY,
      baseUrl: server.url,
      pollMs: 10_000,
      signal: controller.signal,
    });
    while (![...server.jobs.values()].some((j) => String(j.body.suffix).startsWith("to-cancel")))
      await new Promise((r) => setTimeout(r, 5));
    controller.abort(new Error("stop"));
    await expect(started).rejects.toThrow("stop");
    const cancelled = await cancelTogether(loaded, store, { apiKey: KEY, baseUrl: server.url });
    expect(cancelled).toEqual([
      {
        run: "train-to-cancel-seed5",
        stage: "msm",
        job: expect.stringMatching(/^ft-/),
        status: "cancelled",
      },
    ]);
    expect(await cancelTogether(loaded, store, { apiKey: KEY, baseUrl: server.url })).toEqual([]);
  });

  it("a failed job is one clear error with Together's reason; a bad key names the variable", async () => {
    const loaded = parseTrainPlan(
      PLAN("engine: together\n")
        .replace("name: rules-msm-aft", "name: will-fail")
        .replace("seeds: [1, 2]", "seeds: [4]"),
      join(dir, "train.yaml"),
    );
    const { store } = makeClient();
    await expect(
      runTogether(loaded, store, { apiKey: KEY, baseUrl: server.url, pollMs: 1 }),
    ).rejects.toThrow(/ended error: the training file has no valid lines/);
    // The fake's 401 echoes the key it was sent: the message must not.
    const wrong = "tgp-wrong-key-0123456789";
    const bad = runTogether(loaded, store, { apiKey: wrong, baseUrl: server.url, pollMs: 1 });
    await expect(bad).rejects.toThrow(/HTTP 401/);
    await expect(bad).rejects.not.toThrow(/wrong-key/);
  });
});
