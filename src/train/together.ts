/**
 * Hosted training on Together: upload each stage's data (generic text for midtraining, messages
 * for AFT), create the job (LoRA with the plan's rank and alpha, or full), poll its status and
 * events, and record the output model name. The uploaded file and the job are stored before
 * waiting, so a restarted run polls the same job instead of paying for a second one. AFT starts
 * from the midtraining job's checkpoint (`from_checkpoint`). Written on fetch rather than the
 * Together SDK: the REST surface used is five calls, and the SDK would be one more dependency.
 */
import { openAsBlob } from "node:fs";
import { basename } from "node:path";
import { envVar } from "../core/env.js";
import { SpecsciError } from "../core/errors.js";
import { hashValue } from "../core/hash.js";
import { codeVersion } from "../core/provenance.js";
import { readSecret, redact, registerSecret } from "../core/secrets.js";
import { sleep } from "../core/time.js";
import type { Store } from "../store/index.js";
import { resolveData, type StageData } from "./data.js";
import { trainRunId } from "./launcher.js";
import { type ModelArtifact, modelKey, registerModel } from "./models.js";
import { parentPlan } from "./parent.js";
import {
  type Hyperparameters,
  type LoadedPlan,
  type StageSpec,
  stageHyperparameters,
} from "./plan.js";

export const TOGETHER_BASE_URL = "https://api.together.ai/v1";
export const TOGETHER_KEY_ENV = "TOGETHER_API_KEY";

interface Job {
  id: string;
  status: string;
  model_output_name?: string;
  token_count?: number;
  total_price?: number;
}

const DONE = new Set(["completed"]);
const FAILED = new Set(["error", "cancelled", "user_error"]);

export class TogetherClient {
  constructor(
    private readonly baseUrl: string,
    private readonly apiKey: string,
  ) {}

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const r = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.apiKey}`,
        ...(body instanceof FormData || body === undefined
          ? {}
          : { "content-type": "application/json" }),
      },
      ...(body === undefined
        ? {}
        : { body: body instanceof FormData ? body : JSON.stringify(body) }),
    });
    // Scrubbed before anything reads it: an error body or a job record that echoes the key would
    // otherwise reach the store (job state, failure reasons) and the terminal.
    const text = redact(await r.text());
    if (!r.ok) {
      const hint =
        r.status === 401 || r.status === 403
          ? "check TOGETHER_API_KEY"
          : "see the message; the request is recorded in the training run";
      throw new SpecsciError(
        `Together ${method} ${path}: HTTP ${r.status}: ${text.slice(0, 300)}`,
        { hint },
      );
    }
    return JSON.parse(text) as T;
  }

  async uploadFile(path: string): Promise<string> {
    const form = new FormData();
    form.set("purpose", "fine-tune");
    form.set("file_name", basename(path));
    form.set("file_type", "jsonl");
    form.set("file", await openAsBlob(path), basename(path));
    return (await this.call<{ id: string }>("POST", "/files/upload", form)).id;
  }

  createFineTune(body: Record<string, unknown>): Promise<Job> {
    return this.call<Job>("POST", "/fine-tunes", body);
  }

  getFineTune(id: string): Promise<Job> {
    return this.call<Job>("GET", `/fine-tunes/${id}`);
  }

  async events(id: string): Promise<{ message: string; type: string; step?: number }[]> {
    return (
      await this.call<{ data: { message: string; type: string; step?: number }[] }>(
        "GET",
        `/fine-tunes/${id}/events`,
      )
    ).data;
  }

  cancel(id: string): Promise<Job> {
    return this.call<Job>("POST", `/fine-tunes/${id}/cancel`);
  }
}

/** A client from the options, else TOGETHER_API_KEY and TOGETHER_BASE_URL from the environment. */
function togetherClient(o: { apiKey?: string; baseUrl?: string }): TogetherClient {
  if (o.apiKey) registerSecret(o.apiKey);
  const apiKey = o.apiKey ?? readSecret(TOGETHER_KEY_ENV);
  if (!apiKey)
    throw new SpecsciError("TOGETHER_API_KEY is not set", {
      hint: "export TOGETHER_API_KEY=... or put it in a .env file",
    });
  return new TogetherClient(o.baseUrl ?? envVar("TOGETHER_BASE_URL") ?? TOGETHER_BASE_URL, apiKey);
}

export interface TogetherOptions {
  apiKey?: string;
  baseUrl?: string;
  pollMs?: number;
  seeds?: number[];
  signal?: AbortSignal;
  log?: (line: string) => void;
}

const stateKey = (runId: string, stage: string) => `together:${runId}:${stage}`;

/** What is stored of a stage's upload and job before waiting, so that a restarted run resumes. */
interface JobState {
  file?: string;
  job?: string;
  data?: string;
  /** Hash of the request the job was made from (all but the file). */
  request?: string;
}

interface StoredJob {
  state: JobState;
  save: () => void;
}

/** What the stages of one seed's training run share. */
interface SeedRun {
  loaded: LoadedPlan;
  store: Store;
  client: TogetherClient;
  data: Map<string, StageData>;
  seed: number;
  runId: string;
  o: TogetherOptions;
}

/** The Together job that trained a model (the checkpoint a later stage continues). */
const togetherJobOf = (a: ModelArtifact | undefined) =>
  (a?.hyperparameters as { together_job?: string } | undefined)?.together_job;

/** Trains each seed of the plan on Together (its parent's stage first); registers the models. */
export async function runTogether(
  loaded: LoadedPlan,
  store: Store,
  o: TogetherOptions = {},
): Promise<ModelArtifact[]> {
  const client = togetherClient(o);
  const data = await resolveData(loaded);
  const out: ModelArtifact[] = [];
  for (const seed of o.seeds ?? loaded.plan.seeds) {
    const run: SeedRun = { loaded, store, client, data, seed, runId: trainRunId(loaded, seed), o };
    store.runs.ensure({
      id: run.runId,
      kind: "train",
      name: loaded.plan.name,
      config: { plan: loaded.plan, seed },
    });
    const parent = await trainParent(run);
    out.push(...parent.trained);
    let previousJob = togetherJobOf(parent.inherited);
    for (const [i, stage] of loaded.plan.stages.entries()) {
      const artifact = await trainStage(run, i, stage, previousJob, parent.inherited);
      previousJob = togetherJobOf(artifact);
      out.push(artifact);
    }
  }
  return out;
}

/** A plan that continues another's stage trains (or finds) that one first, with the same seed. */
async function trainParent(
  run: SeedRun,
): Promise<{ trained: ModelArtifact[]; inherited: ModelArtifact | undefined }> {
  const from = run.loaded.plan.start_from;
  const parent = parentPlan(run.loaded);
  if (!parent || !from) return { trained: [], inherited: undefined };
  const trained = await runTogether(parent, run.store, { ...run.o, seeds: [run.seed] });
  return { trained, inherited: trained.find((a) => a.stage === from.stage) };
}

/** One stage: data uploaded, job created or resumed and waited for, model registered. */
async function trainStage(
  run: SeedRun,
  index: number,
  stage: StageSpec,
  previousJob: string | undefined,
  inherited: ModelArtifact | undefined,
): Promise<ModelArtifact> {
  const h = stageHyperparameters(run.loaded.plan, stage);
  const d = run.data.get(stage.name);
  if (!d) throw new Error(`no data for stage ${stage.name}`);
  const stored = storedJob(run, stage.name);
  if (stored.state.data !== d.sha256) await uploadData(run, d, stored);
  const jobId = await createOrResumeJob(run, stage, h, stored, previousJob);
  const job = await awaitJob(run, stage.name, jobId, stored);
  return registerStageModel(run, index, h, jobId, job, inherited);
}

function storedJob(run: SeedRun, stage: string): StoredJob {
  const key = stateKey(run.runId, stage);
  const saved = run.store.artifacts.get(key);
  const state = (saved ? JSON.parse(saved.content) : {}) as JobState;
  const save = () =>
    run.store.artifacts.put(key, "together-job", JSON.stringify(state), { seed: run.seed });
  return { state, save };
}

/** New or changed data: a new upload and a new job. */
async function uploadData(run: SeedRun, d: StageData, { state, save }: StoredJob): Promise<void> {
  state.file = await run.client.uploadFile(d.file);
  state.data = d.sha256;
  delete state.job;
  save();
}

/** The fine-tuning request for a stage, all but the training file. */
function jobRequest(
  run: SeedRun,
  stage: StageSpec,
  h: Hyperparameters,
  previousJob: string | undefined,
): Record<string, unknown> {
  const { plan } = run.loaded;
  return {
    // AFT continues the midtraining job: a checkpoint replaces the base model.
    ...(previousJob ? { from_checkpoint: previousJob } : { model: plan.base_model }),
    random_seed: run.seed,
    batch_size: h.micro_batch_size * h.gradient_accumulation_steps,
    n_epochs: h.epochs,
    learning_rate: h.learning_rate,
    // The shape of Together's API reference: cosine takes the share of a cycle (0.5 decays
    // once from the peak to the floor, as the Hugging Face trainer's cosine does).
    lr_scheduler:
      h.lr_scheduler === "cosine"
        ? {
            lr_scheduler_type: "cosine",
            lr_scheduler_args: { min_lr_ratio: 0, num_cycles: 0.5 },
          }
        : { lr_scheduler_type: "linear", lr_scheduler_args: { min_lr_ratio: 0 } },
    warmup_ratio: h.warmup_ratio,
    weight_decay: h.weight_decay,
    max_seq_length: h.sequence_len,
    suffix: `${plan.name}-s${run.seed}-${stage.name}`.slice(0, 40),
    training_method: {
      method: "sft",
      train_on_inputs: stage.kind === "midtraining",
    },
    training_type: h.full_finetune
      ? { type: "Full" }
      : {
          type: "Lora",
          lora_r: h.lora_r,
          lora_alpha: h.lora_alpha,
          lora_dropout: h.lora_dropout,
          lora_trainable_modules: "all-linear",
        },
  };
}

/** The stored job when it was made from this exact request, else a new one; returns its id. */
async function createOrResumeJob(
  run: SeedRun,
  stage: StageSpec,
  h: Hyperparameters,
  { state, save }: StoredJob,
  previousJob: string | undefined,
): Promise<string> {
  const request = jobRequest(run, stage, h, previousJob);
  // The job is for this exact request (parent job, hyperparameters, base, seed): any change,
  // a retrained parent included, makes a new one.
  const requestHash = hashValue(request);
  if (state.job && state.request !== requestHash) {
    run.o.log?.(
      `${run.runId} ${stage.name}: the stage before it or its settings changed; a new job`,
    );
    delete state.job;
  }
  if (state.job) {
    run.o.log?.(`${run.runId} ${stage.name}: polling Together job ${state.job}`);
    return state.job;
  }
  checkTogetherSettings(stage.name, h);
  const job = (await run.client.createFineTune({ training_file: state.file, ...request })).id;
  state.job = job;
  state.request = requestHash;
  save();
  run.o.log?.(`${run.runId} ${stage.name}: Together job ${job}`);
  return job;
}

/** Settings Together cannot train with (checked before paying for a job). */
function checkTogetherSettings(stage: string, h: Hyperparameters): void {
  if (!Number.isInteger(h.epochs))
    throw new SpecsciError(`stage ${stage}: Together trains whole epochs; epochs is ${h.epochs}`);
  if (h.lr_scheduler === "constant")
    throw new SpecsciError(`stage ${stage}: lr_scheduler constant is not offered by Together`, {
      hint: "use cosine or linear for engine: together",
    });
}

/** Polls the job to its end and records the stage's outcome; a job that did not complete throws. */
async function awaitJob(
  run: SeedRun,
  stage: string,
  jobId: string,
  { state, save }: StoredJob,
): Promise<Job> {
  const { store, runId } = run;
  store.train.start({ runId, stage, configPath: `together:${jobId}`, outputDir: "" });
  let job: Job;
  try {
    job = await poll(run.client, jobId, run.o);
  } catch (e) {
    // Interrupted (the job runs on) or the API failed: a rerun polls the same job.
    store.train.finish(runId, stage, "interrupted", (e as Error).message);
    throw e;
  }
  if (!DONE.has(job.status)) {
    const events = await run.client.events(jobId).catch(() => []);
    const why = events.at(-1)?.message ?? job.status;
    store.train.finish(runId, stage, "failed", why);
    // Forget the failed job, so that the next run creates a new one.
    delete state.job;
    save();
    throw new SpecsciError(
      `Together job ${jobId} (${runId} ${stage}) ended ${job.status}: ${why}`,
      {
        hint: "fix the cause and run again: a failed job is not resumed, a new one is created",
      },
    );
  }
  store.train.finish(runId, stage, "completed");
  return job;
}

/** The model artifact of stage `index`, stored under its model key. */
function registerStageModel(
  run: SeedRun,
  index: number,
  h: Hyperparameters,
  jobId: string,
  job: Job,
  inherited: ModelArtifact | undefined,
): ModelArtifact {
  const { loaded, runId, seed } = run;
  const stage = loaded.plan.stages[index] as StageSpec;
  const artifact: ModelArtifact = {
    id: `${runId}/${stage.name}`,
    run: runId,
    plan: loaded.file,
    base_model: loaded.plan.base_model,
    stage: stage.name,
    stages: [...(inherited?.stages ?? []), ...stagesUpTo(run, index)],
    seed,
    engine: "together",
    hyperparameters: {
      ...h,
      together_job: jobId,
      token_count: job.token_count ?? null,
      total_price: job.total_price ?? null,
    },
    output_dir: job.model_output_name ?? "",
    adapter: !h.full_finetune,
    configs: {},
    specsci: codeVersion(),
    ...(loaded.plan.origin ? { origin: loaded.plan.origin } : {}),
  };
  registerModel(run.store, modelKey(runId, stage.name), artifact, {
    base_model: artifact.base_model,
    seed,
  });
  return artifact;
}

/** The plan's stages through `index`, with the data each was trained on. */
function stagesUpTo(run: SeedRun, index: number): ModelArtifact["stages"] {
  return run.loaded.plan.stages.slice(0, index + 1).map((s) => {
    const sd = run.data.get(s.name);
    return {
      name: s.name,
      kind: s.kind,
      data: sd?.file ?? "",
      data_sha256: sd?.sha256 ?? "",
      tokens: sd?.tokens ?? 0,
    };
  });
}

async function poll(client: TogetherClient, id: string, o: TogetherOptions): Promise<Job> {
  for (;;) {
    const job = await client.getFineTune(id);
    if (DONE.has(job.status) || FAILED.has(job.status)) return job;
    if (o.signal?.aborted) {
      // Stopping specsci does not stop the job; a rerun polls it again.
      throw o.signal.reason;
    }
    await sleep(o.pollMs ?? 30_000, o.signal);
  }
}

/** Cancels the plan's Together jobs that have not ended; returns what was cancelled. */
export async function cancelTogether(
  loaded: LoadedPlan,
  store: Store,
  o: Pick<TogetherOptions, "apiKey" | "baseUrl" | "seeds"> = {},
): Promise<{ run: string; stage: string; job: string; status: string }[]> {
  const client = togetherClient(o);
  const out: { run: string; stage: string; job: string; status: string }[] = [];
  for (const seed of o.seeds ?? loaded.plan.seeds) {
    const runId = trainRunId(loaded, seed);
    for (const stage of loaded.plan.stages) {
      const saved = store.artifacts.get(stateKey(runId, stage.name));
      const job = saved ? (JSON.parse(saved.content) as { job?: string }).job : undefined;
      if (!job) continue;
      const now = await client.getFineTune(job);
      if (DONE.has(now.status) || FAILED.has(now.status)) continue;
      const after = await client.cancel(job);
      store.train.finish(runId, stage.name, "interrupted", "cancelled by specsci train cancel");
      out.push({ run: runId, stage: stage.name, job, status: after.status });
    }
  }
  return out;
}
