/**
 * Serving as Slurm jobs: one batch job per server of a serving plan, asking for the GPUs and
 * nodes its layout needs; specsci waits for each job to run, finds its node from the queue
 * (`squeue --format=%T|%B`: state and the host running the batch script), waits until the server
 * there lists its models, registers them, and cancels the jobs (`scancel`) when it is done or
 * interrupted. Every submitted job is recorded in the store first, so a driver killed before it
 * could cancel leaves a record the next start finds: a job still serving the same command is
 * reused, any other is cancelled.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { SpecsciError } from "../core/errors.js";
import { writeFileAtomic } from "../core/fs.js";
import { hashValue } from "../core/hash.js";
import type { SlurmServingConfig } from "../llm/config.js";
import { registerServed, type ServedModel, unregisterServed } from "../llm/served.js";
import type { Store } from "../store/index.js";
import { type ServerPlan, type ServingEngine, servedIds, waitForModels } from "./serve.js";
import type { RunningServers } from "./servers.js";

export interface SlurmServeOptions {
  engine: ServingEngine;
  /** The endpoint the served models are registered under. */
  endpoint: string;
  slurm: SlurmServingConfig;
  /** Where the job scripts and their output go (a directory the cluster's nodes share). */
  dir: string;
  timeoutMs: number;
  store: Store;
  signal?: AbortSignal;
  log?: (line: string) => void;
}

/** A submitted serving job, as recorded in the store. */
export interface ServeJob {
  job: string;
  endpoint: string;
  port: number;
  /** What it serves and how: a job is reused only for the same. */
  fingerprint: string;
  script: string;
}

const JOB_KIND = "serve-job";
const jobKey = (endpoint: string, port: number) => `serve-job:${endpoint}:${port}`;

/** Runs one Slurm client command; a missing one is an error saying where to run specsci. */
function slurm(command: string, args: string[]): { status: number | null; stdout: string } {
  const r = spawnSync(command, args, { encoding: "utf8", timeout: 60_000 });
  if (r.error)
    throw new SpecsciError(
      `cannot run ${command}: ${(r.error as NodeJS.ErrnoException).code ?? r.error.message}`,
      { hint: "serve with --slurm from a machine with the Slurm client tools (a login node)" },
    );
  if (r.status !== 0 && command === "sbatch")
    throw new SpecsciError(`sbatch failed: ${r.stderr.trim()}`, {
      hint: "check serving.slurm in specsci.yaml (partition, account, time, sbatch_options)",
    });
  return { status: r.status, stdout: r.stdout };
}

/** The job's state and batch host; undefined once it has left the queue. */
export function jobState(job: string): { state: string; host: string } | undefined {
  const r = slurm("squeue", ["--noheader", `--jobs=${job}`, "--format=%T|%B"]);
  const line = r.status === 0 ? r.stdout.trim().split("\n")[0] : undefined;
  if (!line) return undefined;
  const [state = "", host = ""] = line.split("|").map((x) => x.trim());
  return { state, host };
}

const ALIVE = new Set(["PENDING", "CONFIGURING", "RUNNING"]);

/** The job script of one server: its resources, the setup lines, then the server itself. */
export function serveJobScript(p: ServerPlan, o: SlurmServeOptions, fingerprint: string): string {
  const s = o.slurm;
  const { tensor, pipeline, data, nodes } = p.parallel;
  const gpus = Math.ceil((tensor * pipeline * data) / nodes);
  const sbatch = [
    `--job-name=specsci-serve-${o.endpoint}-${p.port}`,
    `--comment=specsci:${fingerprint}`,
    `--nodes=${nodes}`,
    "--ntasks-per-node=1",
    s.gpu_request === "gres" ? `--gres=gpu:${gpus}` : `--gpus-per-node=${gpus}`,
    `--time=${s.time}`,
    ...(s.partition ? [`--partition=${s.partition}`] : []),
    ...(s.account ? [`--account=${s.account}`] : []),
    `--output=${join(o.dir, `serve-${p.port}-%j.log`)}`,
    ...s.sbatch_options,
  ];
  // vLLM across nodes runs on a Ray cluster: its head on the batch host, a worker on each other.
  const ray =
    nodes > 1
      ? [
          'nodes=($(scontrol show hostnames "$SLURM_JOB_NODELIST"))',
          // biome-ignore lint/suspicious/noTemplateCurlyInString: a bash expansion, not a template
          'head="${nodes[0]}"',
          'srun --nodes=1 --ntasks=1 -w "$head" ray start --head --port=6379 --block &',
          "sleep 15",
          // biome-ignore lint/suspicious/noTemplateCurlyInString: a bash expansion, not a template
          'for n in "${nodes[@]:1}"; do srun --nodes=1 --ntasks=1 -w "$n" ray start --address="$head:6379" --block & done',
          "sleep 15",
        ]
      : [];
  return [
    "#!/bin/bash",
    `# written by specsci: serves ${p.models.map((m) => m.name).join(", ")} for endpoint ${o.endpoint}`,
    `# ${p.parallel.why}`,
    ...sbatch.map((x) => `#SBATCH ${x}`),
    "set -euo pipefail",
    ...s.setup,
    ...ray,
    `exec ${p.command.map(shellWord).join(" ")}`,
    "",
  ].join("\n");
}

const shellWord = (w: string) => (/^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`);

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(t);
        reject(signal.reason);
      },
      { once: true },
    );
  });

/** Waits until the job runs; its batch host, or an error once it leaves the queue or time is up. */
async function jobHost(j: ServeJob, o: SlurmServeOptions, until: number): Promise<string> {
  let last = "not queued yet";
  while (Date.now() < until) {
    if (o.signal?.aborted) throw o.signal.reason;
    const st = jobState(j.job);
    if (!st || !ALIVE.has(st.state))
      throw new SpecsciError(
        `Slurm job ${j.job} (server on port ${j.port}) ended ${st ? st.state : "(it left the queue)"} before serving`,
        { hint: `its output is in ${join(o.dir, `serve-${j.port}-${j.job}.log`)}` },
      );
    if (st.state === "RUNNING" && st.host && st.host !== "n/a") return st.host;
    last = st.state;
    await sleep(o.slurm.poll_s * 1000, o.signal);
  }
  throw new SpecsciError(`Slurm job ${j.job} is still ${last} after the wait for servers`, {
    hint: "raise --timeout (training.serve.timeout_s), or free GPUs in serving.slurm's partition",
  });
}

/**
 * Jobs recorded by an earlier start of this endpoint: those still serving one of these plans'
 * fingerprints are kept for reuse; the rest are cancelled, their records dropped.
 */
function reusableJobs(
  store: Store,
  endpoint: string,
  wanted: Set<string>,
  log?: (l: string) => void,
) {
  const keep = new Map<string, ServeJob>();
  for (const a of store.artifacts.list(JOB_KIND)) {
    const j = JSON.parse(a.content) as ServeJob;
    if (j.endpoint !== endpoint) continue;
    const st = jobState(j.job);
    const alive = st && ALIVE.has(st.state);
    if (alive && wanted.has(j.fingerprint) && !keep.has(j.fingerprint)) {
      keep.set(j.fingerprint, j);
      log?.(`reusing Slurm job ${j.job} (${st.state}), which serves the same models`);
      continue;
    }
    if (alive) {
      slurm("scancel", [j.job]);
      log?.(`cancelled Slurm job ${j.job}, left from an earlier run and serving something else`);
    }
    store.artifacts.delete(a.key);
  }
  return keep;
}

export async function startSlurmServers(
  plans: ServerPlan[],
  o: SlurmServeOptions,
): Promise<RunningServers> {
  const prints = plans.map((p) =>
    hashValue({ engine: o.engine, command: p.command, parallel: p.parallel, slurm: o.slurm }),
  );
  const reuse = reusableJobs(o.store, o.endpoint, new Set(prints), o.log);
  mkdirSync(o.dir, { recursive: true });
  const jobs: ServeJob[] = plans.map((p, i) => {
    const fingerprint = prints[i] as string;
    const old = reuse.get(fingerprint);
    if (old) return old;
    const script = join(o.dir, `serve-${p.port}.sh`);
    writeFileAtomic(script, serveJobScript(p, o, fingerprint));
    const job = slurm("sbatch", ["--parsable", script]).stdout.trim().split(";")[0] as string;
    const record: ServeJob = { job, endpoint: o.endpoint, port: p.port, fingerprint, script };
    o.store.artifacts.put(jobKey(o.endpoint, p.port), JOB_KIND, JSON.stringify(record), { job });
    o.log?.(`submitted Slurm job ${job} for the server on port ${p.port} (${script})`);
    return record;
  });
  const registered: ServedModel[] = [];
  let polling: ReturnType<typeof setInterval> | undefined;
  const stop = async () => {
    if (polling) clearInterval(polling);
    for (const m of registered) unregisterServed(o.store, m.id);
    for (const j of jobs) {
      slurm("scancel", [j.job]);
      o.store.artifacts.delete(jobKey(j.endpoint, j.port));
    }
    o.log?.(`cancelled Slurm job(s) ${jobs.map((j) => j.job).join(", ")}`);
  };
  try {
    const until = Date.now() + o.timeoutMs;
    for (const [i, p] of plans.entries()) {
      const j = jobs[i] as ServeJob;
      const host = await jobHost(j, o, until);
      const url = `http://${host}:${p.port}/v1`;
      o.log?.(`Slurm job ${j.job} runs on ${host}; waiting for ${url}`);
      await waitForModels(url, servedIds(p, o.engine).listed, until - Date.now(), o.signal, () => {
        const st = jobState(j.job);
        return st && ALIVE.has(st.state)
          ? undefined
          : `Slurm job ${j.job} ended; its output is in ${join(o.dir, `serve-${j.port}-${j.job}.log`)}`;
      });
      const ids = servedIds(p, o.engine).call;
      p.models.forEach((m, k) => {
        const served: ServedModel = {
          id: `${o.endpoint}/${m.name}`,
          base_url: url,
          model: ids[k] as string,
          artifact: m.artifact,
          weights: m.weights,
        };
        registerServed(o.store, served);
        registered.push(served);
      });
    }
  } catch (e) {
    await stop();
    throw e;
  }
  const exited = new Promise<string>((resolve) => {
    polling = setInterval(() => {
      const gone = jobs.find((j) => !ALIVE.has(jobState(j.job)?.state ?? ""));
      if (gone) {
        clearInterval(polling);
        resolve(`Slurm job ${gone.job} (server on port ${gone.port}) stopped`);
      }
    }, o.slurm.poll_s * 1000);
  });
  return { plans, models: registered, exited, stop };
}
