/**
 * Runs a plan's stages with axolotl as a subprocess: writes each config, resumes from the newest
 * checkpoint a killed run left, streams the trainer's output to a log file, records its loss and
 * progress in the store, tells a failure from a finished stage by the exit code and the saved
 * model, and registers every finished stage as a model artifact with its whole recipe.
 */
import { spawn } from "node:child_process";
import {
  createWriteStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
} from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { trackGroup, untrackGroup } from "../core/children.js";
import { envSetting } from "../core/env.js";
import { SpecsciError } from "../core/errors.js";
import { writeFileAtomic } from "../core/fs.js";
import { sha256Hex } from "../core/hash.js";
import { codeVersion } from "../core/provenance.js";
import type { Store } from "../store/index.js";
import {
  axolotlConfigs,
  configText,
  forInstalledAxolotl,
  launchCommand,
  runDirOf,
  type StageConfig,
  slurmScript,
  ZERO3,
  zero3Path,
} from "./axolotl.js";
import type { StageData } from "./data.js";
import { resolveData } from "./data.js";
import { grpoProcesses } from "./grpo.js";
import {
  type ModelArtifact,
  modelKey,
  registerModel,
  trainedModel,
  trainRunIdOf,
  weightsOf,
} from "./models.js";
import { parentPlan, parentStage } from "./parent.js";
import { type LoadedPlan, stageHyperparameters } from "./plan.js";
import { type EngineVersions, engineVersions } from "./versions.js";

export interface TrainOptions {
  /** The axolotl executable (env SPECSCI_AXOLOTL, default `axolotl` on PATH). */
  axolotl?: string;
  seeds?: number[];
  signal?: AbortSignal;
  log?: (line: string) => void;
  onProgress?: (stage: string, step: number, total: number) => void;
}

/** The axolotl executable training runs (SPECSCI_AXOLOTL; its default is in core/env.ts). */
export const axolotlExecutable = () => envSetting("SPECSCI_AXOLOTL");

export const trainRunId = (loaded: LoadedPlan, seed: number) =>
  trainRunIdOf(loaded.plan.name, seed);

/** Files the configs point at (the DeepSpeed settings), written beside them. */
export function writeSupportFiles(configs: StageConfig[], runDir: string): void {
  if (configs.some((c) => c.config.deepspeed))
    writeFileAtomic(zero3Path(runDir), `${JSON.stringify(ZERO3, null, 2)}\n`);
}

/**
 * One trainer per run directory: a second `train run` of the same run would write into the same
 * checkpoints. The lock names its specsci process and the trainer's process group. A lock whose
 * specsci is gone (a kill -9) is taken over, unless the trainer it started is still running.
 */
interface RunLock {
  release(): void;
  /** Records the running trainer's process group (null once it ended). */
  trainer(pgid: number | null): void;
}

function lockRun(runDir: string, runId: string): RunLock {
  const file = join(runDir, ".specsci-lock");
  let held: { pid?: number; trainer?: number | null } = {};
  try {
    const text = readFileSync(file, "utf8");
    held = /^\d+$/.test(text.trim()) ? { pid: Number(text) } : JSON.parse(text);
  } catch {
    // No lock, or an unreadable one: free.
  }
  if (held.pid && held.pid !== process.pid && alive(held.pid))
    throw new SpecsciError(`${runId} is being trained by another specsci (process ${held.pid})`, {
      hint: `wait for it, or stop it; ${file} is its lock`,
    });
  if (held.trainer && groupAlive(held.trainer))
    throw new SpecsciError(
      `${runId}: a trainer started by an earlier specsci is still running (process group ${held.trainer})`,
      { hint: `wait for it to finish, or stop it (kill -TERM -${held.trainer}), then run again` },
    );
  const write = (trainer: number | null) =>
    writeFileAtomic(file, JSON.stringify({ pid: process.pid, trainer }));
  write(null);
  return { release: () => rmSync(file, { force: true }), trainer: write };
}

const groupAlive = (pgid: number) => {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
};

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
};

/** The newest `checkpoint-N` a stage's output directory holds. */
export function latestCheckpoint(outputDir: string): string | undefined {
  if (!existsSync(outputDir)) return undefined;
  const steps = readdirSync(outputDir)
    .map((d) => /^checkpoint-(\d+)$/.exec(d)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number)
    .sort((a, b) => b - a);
  return steps.length ? join(outputDir, `checkpoint-${steps[0]}`) : undefined;
}

/**
 * Saved weights, a LoRA adapter or full model files, not just configs (axolotl writes adapter_config.json and config.json into the
 * output directory before training starts).
 */
const WEIGHTS = {
  adapter: /^adapter_model\.(safetensors|bin)$/,
  full: /^(model(-\d+-of-\d+)?\.safetensors|model\.safetensors\.index\.json|pytorch_model(-\d+-of-\d+)?\.bin)$/,
};
const hasWeights = (outputDir: string, adapter: boolean) =>
  existsSync(outputDir) &&
  readdirSync(outputDir).some((f) => (adapter ? WEIGHTS.adapter : WEIGHTS.full).test(f));

/** What determines a stage's weights: its config (less the resume point), its data, its parent's. */
const FINGERPRINT_FILE = ".specsci-stage.json";
const readFingerprint = (outputDir: string): string | undefined => {
  try {
    return (
      JSON.parse(readFileSync(join(outputDir, FINGERPRINT_FILE), "utf8")) as {
        fingerprint?: string;
      }
    ).fingerprint;
  } catch {
    return undefined;
  }
};

/** `{'loss': 1.23, 'grad_norm': 0.5, 'learning_rate': 1e-4, 'epoch': 0.1}` as the HF trainer logs it. */
function parseMetrics(line: string): Record<string, number> | undefined {
  const m = /\{'[a-z_]+': [^}]*\}/.exec(line);
  if (!m) return undefined;
  try {
    const v = JSON.parse(m[0].replace(/'/g, '"').replace(/\bnan\b/gi, "null")) as Record<
      string,
      unknown
    >;
    const out: Record<string, number> = {};
    for (const [k, x] of Object.entries(v)) if (typeof x === "number") out[k] = x;
    return "loss" in out || "train_loss" in out ? out : undefined;
  } catch {
    return undefined;
  }
}

export async function runTraining(
  loaded: LoadedPlan,
  store: Store,
  o: TrainOptions = {},
): Promise<ModelArtifact[]> {
  const axolotl = o.axolotl ?? axolotlExecutable();
  if (loaded.plan.hardware.nodes > 1)
    throw new SpecsciError(
      `${loaded.file}: ${loaded.plan.hardware.nodes} nodes need a launcher on each of them`,
      {
        hint: "use `specsci train run --slurm` (one task per node), or set hardware.nodes: 1 to train here",
      },
    );
  const data = await resolveData(loaded);
  const versions = engineVersions(axolotl);
  if ("error" in versions) o.log?.(`package versions not recorded: ${versions.error}`);
  const artifacts: ModelArtifact[] = [];
  const from = loaded.plan.start_from;
  const parentLoaded = parentPlan(loaded);
  for (const seed of o.seeds ?? loaded.plan.seeds) {
    const runId = trainRunId(loaded, seed);
    // The plan this one continues is trained (or found trained) first, with the same seed.
    let inherited: ModelArtifact | undefined;
    if (parentLoaded && from) {
      const trained = await runTraining(parentLoaded, store, { ...o, seeds: [seed] });
      inherited = trained.find((a) => a.stage === from.stage);
      artifacts.push(...trained);
    }
    const configs = axolotlConfigs(loaded, seed, data, await parentStage(loaded, seed));
    const runDir = runDirOf(loaded, seed);
    mkdirSync(runDir, { recursive: true });
    store.runs.ensure({
      id: runId,
      kind: "train",
      name: loaded.plan.name,
      config: { plan: loaded.plan, seed, engine_versions: versions },
    });
    writeFileAtomic(join(runDir, "slurm.sh"), slurmScript(loaded, seed, configs));
    writeSupportFiles(configs, runDir);
    const fingerprints = stageFingerprints(configs, data, inherited);
    const lock = lockRun(runDir, runId);
    const run: SeedRun = {
      loaded,
      store,
      runId,
      seed,
      configs,
      data,
      fingerprints,
      axolotl,
      o: { ...o, versions, lock, ...(inherited ? { inherited } : {}) },
    };
    try {
      await store.runs.track(runId, o.signal, async () => {
        for (const c of configs) artifacts.push(await runStage(run, c));
      });
    } finally {
      lock.release();
    }
  }
  return artifacts;
}

/** Each stage's fingerprint includes its parent's: retraining a stage invalidates the ones after it. */
function stageFingerprints(
  configs: StageConfig[],
  data: Map<string, StageData>,
  inherited: ModelArtifact | undefined,
): Map<string, string> {
  const fingerprints = new Map<string, string>();
  let parent = inherited ? weightsOf(inherited) : "";
  for (const c of configs) {
    parent = sha256Hex(
      // A file the config imports (a GRPO reward module) is an input too.
      [
        parent,
        (data.get(c.stage.name) as StageData).sha256,
        configText(c),
        ...c.files.map((f) => f.text),
      ].join("\n"),
    );
    fingerprints.set(c.stage.name, parent);
  }
  return fingerprints;
}

/** What the stages of one seed's run share. */
interface SeedRun {
  loaded: LoadedPlan;
  store: Store;
  runId: string;
  seed: number;
  configs: StageConfig[];
  data: Map<string, StageData>;
  /** Each stage's inputs, its parent's included (see runTraining). */
  fingerprints: Map<string, string>;
  axolotl: string;
  o: TrainOptions & { versions: EngineVersions; inherited?: ModelArtifact; lock: RunLock };
}

/**
 * One stage: its record if it finished before with the same inputs, else trained (resumed from its
 * newest checkpoint), checked and registered.
 */
async function runStage(run: SeedRun, c: StageConfig): Promise<ModelArtifact> {
  const fingerprint = run.fingerprints.get(c.stage.name) as string;
  const same = readFingerprint(c.outputDir) === fingerprint;
  const finished = finishedBefore(run, c, same);
  if (finished) return finished;
  if (!same) setAsideOutput(run, c);
  await runBeforeCommands(run, c);
  const checkpoint = prepareStage(run, c, fingerprint);
  const logFile = join(runDirOf(run.loaded, run.seed), `${c.stage.name}.log`);
  const { result, summarized } = await launchTrainer(run, c, checkpoint, logFile);
  settleStage(run, c, result, summarized, logFile);
  run.store.train.finish(run.runId, c.stage.name, "completed");
  const a = stageArtifact(run, c);
  registerModel(run.store, modelKey(run.runId, c.stage.name), a, {
    base_model: a.base_model,
    seed: run.seed,
  });
  return a;
}

const isAdapter = (c: StageConfig) => c.config.adapter === "lora";

/**
 * A stage that completed with these inputs and still has its weights: its record, as made then
 * (code and package versions of that run).
 */
function finishedBefore(run: SeedRun, c: StageConfig, same: boolean): ModelArtifact | undefined {
  const row = run.store.train.stage(run.runId, c.stage.name);
  if (row?.status !== "completed" || !same || !hasWeights(c.outputDir, isAdapter(c)))
    return undefined;
  const key = modelKey(run.runId, c.stage.name);
  const a = trainedModel(run.store, key);
  if (!a) return stageArtifact(run, c);
  // The same weights, now claimed by a plan written from other inputs (a recipe comment, say).
  const origin = run.loaded.plan.origin;
  if (origin && a.origin?.fingerprint !== origin.fingerprint) {
    a.origin = origin;
    registerModel(run.store, key, a, { base_model: a.base_model, seed: run.seed });
  }
  return a;
}

/** Weights or checkpoints of another config or data: kept, but out of the way. */
function setAsideOutput(run: SeedRun, c: StageConfig): void {
  if (!existsSync(c.outputDir) || !readdirSync(c.outputDir).length) return;
  const aside = `${c.outputDir}.superseded-${Date.now()}`;
  renameSync(c.outputDir, aside);
  run.o.log?.(
    `${run.runId} ${c.stage.name}: the plan or data changed; the old output is in ${aside}`,
  );
}

/** The stage's commands before training (merging the previous stage's adapter). */
async function runBeforeCommands(run: SeedRun, c: StageConfig): Promise<void> {
  for (const cmd of c.before) {
    const r = await runCommand(
      cmd.map((a) => (a === "axolotl" ? run.axolotl : a)),
      null,
      run.o,
    );
    if (r.code !== 0)
      throw new SpecsciError(
        `training ${run.runId} stage ${c.stage.name}: \`${cmd.join(" ")}\` failed: ${r.tail.at(-1) ?? `exit ${r.code}`}`,
      );
  }
}

/**
 * Writes the stage's config (resuming from the newest checkpoint, when there is one) and its
 * fingerprint, and marks it started; returns that checkpoint.
 */
function prepareStage(run: SeedRun, c: StageConfig, fingerprint: string): string | undefined {
  const checkpoint = latestCheckpoint(c.outputDir);
  const resumed = checkpoint ? { ...c.config, resume_from_checkpoint: checkpoint } : c.config;
  const config = forInstalledAxolotl(resumed, installedAxolotl(run.o.versions));
  writeFileAtomic(c.path, configText({ ...c, config }));
  for (const f of c.files) writeFileAtomic(f.path, f.text);
  mkdirSync(c.outputDir, { recursive: true });
  writeFileAtomic(join(c.outputDir, FINGERPRINT_FILE), JSON.stringify({ fingerprint }));
  run.store.train.start({
    runId: run.runId,
    stage: c.stage.name,
    configPath: c.path,
    outputDir: c.outputDir,
  });
  run.o.log?.(
    `${run.runId} ${c.stage.name}: ${checkpoint ? `resuming from ${checkpoint}` : "starting"}`,
  );
  return checkpoint;
}

type CommandResult = Awaited<ReturnType<typeof runCommand>>;

/** Runs axolotl on the stage, recording its loss and progress as it logs them. */
async function launchTrainer(
  run: SeedRun,
  c: StageConfig,
  checkpoint: string | undefined,
  logFile: string,
): Promise<{ result: CommandResult; summarized: boolean }> {
  const { store, runId } = run;
  // Configs log every step (logging_steps: 1), so the n-th loss line after a resume from
  // checkpoint-k is step k + n. The progress bar is on the other stream and cannot be ordered
  // against it; it only feeds the progress display. The final summary is kept as step 0.
  let step = checkpoint ? Number(/checkpoint-(\d+)$/.exec(checkpoint)?.[1] ?? 0) : 0;
  // Rows past the resume point (and the last attempt's summary) belong to an attempt now undone.
  store.train.clearMetrics(runId, c.stage.name, step);
  let summarized = false;
  const grpo =
    c.stage.rl === "grpo"
      ? grpoProcesses(run.loaded.plan, c.path, run.axolotl, process.env.PYTHONPATH)
      : null;
  const server = grpo?.server ? startVllmServer(run, c, grpo.server) : null;
  const result = await runCommand(
    launchCommand(run.loaded, c, run.axolotl),
    logFile,
    { ...run.o, onSpawn: run.o.lock.trainer, ...(grpo ? { env: grpo.env } : {}) },
    (line) => {
      const p = /(\d+)\/(\d+) \[/.exec(line);
      if (p) run.o.onProgress?.(c.stage.name, Number(p[1]), Number(p[2]));
      const m = parseMetrics(line);
      if (!m) return;
      if (!("loss" in m)) summarized = true;
      store.train.recordMetrics(runId, c.stage.name, "loss" in m ? ++step : 0, m);
    },
  ).finally(() => server?.stop());
  return { result, summarized };
}

/**
 * A GRPO stage's vLLM server (`axolotl vllm-serve CONFIG` on its GPUs), logged beside the stage's
 * log; the trainer waits for it (trl.vllm_server_timeout). It is stopped once the trainer ends.
 */
function startVllmServer(
  run: SeedRun,
  c: StageConfig,
  server: { cmd: string[]; env: Record<string, string> },
): { stop(): Promise<void> } {
  const stopping = new AbortController();
  const signal = run.o.signal ? AbortSignal.any([run.o.signal, stopping.signal]) : stopping.signal;
  const logFile = join(runDirOf(run.loaded, run.seed), `${c.stage.name}-vllm.log`);
  run.o.log?.(`${run.runId} ${c.stage.name}: starting the vLLM server (${logFile})`);
  const done = runCommand(server.cmd, logFile, { signal, env: server.env }).catch((e: unknown) => {
    run.o.log?.(`${run.runId} ${c.stage.name}: the vLLM server did not start: ${String(e)}`);
  });
  return {
    stop: async () => {
      stopping.abort();
      await done;
    },
  };
}

/** An interrupted or failed trainer ends the stage's row and throws; a finished one returns. */
function settleStage(
  run: SeedRun,
  c: StageConfig,
  result: CommandResult,
  summarized: boolean,
  logFile: string,
): void {
  const { store, runId, o } = run;
  if (o.signal?.aborted) {
    store.train.finish(runId, c.stage.name, "interrupted");
    throw o.signal.reason;
  }
  const why = trainerFailure(c, result, summarized);
  if (!why) return;
  store.train.finish(runId, c.stage.name, "failed", `${why}\n${result.tail.join("\n")}`);
  const resumeFrom = latestCheckpoint(c.outputDir);
  throw new SpecsciError(`training ${runId} stage ${c.stage.name} failed: ${why}`, {
    hint: `the log is ${logFile}; run the same command again to ${resumeFrom ? `resume from ${resumeFrom}` : "retry the stage"}`,
    exitCode: 1,
  });
}

/** Why a stage did not train, or undefined when it did. */
function trainerFailure(
  c: StageConfig,
  result: CommandResult,
  summarized: boolean,
): string | undefined {
  if (result.code !== 0)
    return `axolotl exited with ${result.code ?? result.signal}: ${errorLine(result.tail)}`;
  // A clean exit without the trainer's final summary is an interrupted run that saved early.
  if (!summarized)
    return "axolotl stopped before training finished (no final summary in its output)";
  if (!hasWeights(c.outputDir, isAdapter(c)))
    return `axolotl exited cleanly but ${c.outputDir} holds no ${isAdapter(c) ? "adapter" : "model"} weights`;
  return undefined;
}

/** The model record of a stage: its whole recipe, the stages it continues included. */
function stageArtifact(run: SeedRun, c: StageConfig): ModelArtifact {
  const { loaded, runId, o } = run;
  const upto = run.configs.slice(0, run.configs.indexOf(c) + 1);
  return {
    id: `${runId}/${c.stage.name}`,
    run: runId,
    plan: loaded.file,
    base_model: loaded.plan.base_model,
    served_base: String(c.config.base_model),
    stage: c.stage.name,
    stages: [...(o.inherited?.stages ?? []), ...upto.map((s) => stageData(run, s))],
    seed: run.seed,
    engine: "axolotl",
    hyperparameters: stageHyperparameters(loaded.plan, c.stage),
    output_dir: c.outputDir,
    adapter: isAdapter(c),
    configs: { ...(o.inherited?.configs ?? {}), ...configsAsRead(run, upto) },
    specsci: codeVersion(),
    engine_versions: o.versions,
    ...(loaded.plan.origin ? { origin: loaded.plan.origin } : {}),
  };
}

/** A stage's data as its model record names it. */
function stageData(run: SeedRun, s: StageConfig): ModelArtifact["stages"][number] {
  const d = run.data.get(s.stage.name) as StageData;
  return {
    name: s.stage.name,
    kind: s.stage.kind,
    data: d.file,
    data_sha256: d.sha256,
    tokens: d.tokens,
  };
}

/** The configs as axolotl read them (the attention key depends on its version; see forInstalledAxolotl). */
function configsAsRead(run: SeedRun, stages: StageConfig[]): Record<string, string> {
  const installed = installedAxolotl(run.o.versions);
  return Object.fromEntries(
    stages.map((s) => [
      s.path,
      configText({ ...s, config: forInstalledAxolotl(s.config, installed) }),
    ]),
  );
}

/** The line that says what went wrong (stdout and stderr interleave, so not simply the last). */
const errorLine = (tail: string[]) =>
  [...tail].reverse().find((l) => /error|exception|killed|out of memory/i.test(l)) ??
  tail.at(-1) ??
  "no output";

/** Runs a command, copying its output to a log file line by line; keeps the last lines for errors. */
function runCommand(
  cmd: string[],
  logFile: string | null,
  o: TrainOptions & {
    onSpawn?: (pgid: number | null) => void;
    /** Added to this process's environment. */
    env?: Record<string, string>;
  },
  onLine?: (line: string) => void,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; tail: string[] }> {
  return new Promise((resolvePromise, reject) => {
    if (o.signal?.aborted) return reject(o.signal.reason);
    const [exe, ...args] = cmd as [string, ...string[]];
    // Its own process group, so that stopping it reaches torchrun and every worker under it.
    const child = spawn(exe, args, {
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
      ...(o.env ? { env: { ...process.env, ...o.env } } : {}),
    });
    if (child.pid) {
      trackGroup(child.pid);
      o.onSpawn?.(child.pid);
    }
    const log = logFile ? createWriteStream(logFile, { flags: "a" }) : null;
    log?.on("error", (e) => process.stderr.write(`cannot write ${logFile}: ${e.message}\n`));
    const tail: string[] = [];
    let kill: NodeJS.Timeout | undefined;
    const signalGroup = (sig: NodeJS.Signals) => {
      try {
        if (child.pid) process.kill(-child.pid, sig);
      } catch {
        // Already gone.
      }
    };
    const onAbort = () => {
      signalGroup("SIGTERM");
      // Trainers save on SIGTERM; one that does not stop within a minute is killed.
      kill = setTimeout(() => signalGroup("SIGKILL"), 60_000);
      kill.unref();
    };
    o.signal?.addEventListener("abort", onAbort, { once: true });
    for (const stream of [child.stdout, child.stderr])
      createInterface({ input: stream }).on("line", (line) => {
        log?.write(`${line}\n`);
        tail.push(line);
        if (tail.length > 20) tail.shift();
        onLine?.(line);
      });
    let finished = false;
    const done = () => {
      // Once: a failed spawn emits "error" and then "close", and the lock is released in between.
      if (finished) return;
      finished = true;
      if (child.pid) {
        untrackGroup(child.pid);
        o.onSpawn?.(null);
      }
      o.signal?.removeEventListener("abort", onAbort);
      if (kill) clearTimeout(kill);
      log?.end();
    };
    child.on("error", (e: NodeJS.ErrnoException) => {
      done();
      reject(
        new SpecsciError(`cannot run ${exe}: ${e.code ?? e.message}`, {
          hint: "install axolotl (pip install axolotl) on this machine, or set SPECSCI_AXOLOTL to its path",
        }),
      );
    });
    child.on("close", (code, signal) => {
      done();
      resolvePromise({ code, signal, tail });
    });
  });
}

/** The axolotl version the interpreter reported, when it could be asked. */
const installedAxolotl = (v: EngineVersions): string | null =>
  "packages" in v ? (v.packages.axolotl ?? null) : null;
