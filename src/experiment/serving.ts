/**
 * Starting servers for an experiment's trained models when `run` needs them: on this machine
 * (with the GPUs it finds), or as Slurm jobs (`training.serve.slurm`), each server laid out over
 * GPUs as `train serve` does. A failure to start is returned as a reason, so that only the
 * stages those models serve are held up.
 */
import { join } from "node:path";
import { SpecsciError } from "../core/errors.js";
import { findExecutable } from "../core/executable.js";
import type { LlmClient } from "../llm/client.js";
import type { ModelArtifact } from "../train/models.js";
import { gpuInventory } from "../train/parallel.js";
import { SERVER_EXECUTABLE_ENV, serverExecutable, servingPlan } from "../train/serve.js";
import { startSlurmServers } from "../train/serve-slurm.js";
import { type RunningServers, startServers, withFreePorts } from "../train/servers.js";
import type { LoadedExperiment } from "./config.js";
import type { ChainOptions } from "./trained.js";
import { trainingDir } from "./training.js";

type Started = { servers: RunningServers } | { reason: string; hint: string };

const LOOPBACK = ["127.0.0.1", "localhost", "::1"];

export async function startTrainedServers(
  loaded: LoadedExperiment,
  client: LlmClient,
  artifacts: ModelArtifact[],
  o: ChainOptions,
): Promise<Started> {
  const t = loaded.experiment.training;
  if (!t) throw new Error("startTrainedServers: the experiment has no training section");
  const { serve } = t;
  const exe = serverExecutable(serve.engine);
  // A job's server runs on a cluster node, with that node's installation.
  if (!serve.slurm && !findExecutable(exe))
    return {
      reason: `the trained models are served with ${serve.engine}, and ${exe} is not installed here`,
      hint: `run this on the GPU machine with ${serve.engine} (${SERVER_EXECUTABLE_ENV[serve.engine]} names another path), serve them as Slurm jobs (training.serve.slurm: true), or serve them there with \`specsci train serve --host 0.0.0.0\` and add endpoint ${t.endpoint} to specsci.yaml`,
    };
  const serving = client.config.serving;
  // A cluster's GPUs are not this machine's: only specsci.yaml describes them.
  const gpus = gpuInventory(serving, serve.slurm ? () => undefined : undefined);
  // A job's server is called from this machine, so it listens on its node's addresses.
  const host = serve.slurm && LOOPBACK.includes(serve.host) ? "0.0.0.0" : serve.host;
  const planned = servingPlan(artifacts, {
    engine: serve.engine,
    host,
    ...(serve.port !== undefined ? { port: serve.port } : {}),
    executable: exe,
    serving,
    ...(gpus ? { gpus } : {}),
    ...(serve.slurm ? { jobs: true } : {}),
  });
  // Ports another server (or anything else) holds here are skipped; a node's are its own.
  const plans = serve.slurm ? planned : await withFreePorts(planned, host);
  if (!LOOPBACK.includes(host))
    o.log?.(
      `warning: the servers will accept connections on ${host} without authentication; keep them on a private network`,
    );
  o.log?.(
    `serving ${artifacts.length} trained model(s) on ${plans.length} ${serve.engine} server(s)${serve.slurm ? " as Slurm jobs" : ""}`,
  );
  const logDir = join(trainingDir(loaded), "serve");
  const common = {
    engine: serve.engine,
    endpoint: t.endpoint,
    timeoutMs: serve.timeout_s * 1000,
    store: client.store,
    ...(o.signal ? { signal: o.signal } : {}),
    ...(o.log ? { log: o.log } : {}),
  };
  try {
    const servers = serve.slurm
      ? await startSlurmServers(plans, { ...common, slurm: serving.slurm, dir: logDir })
      : await startServers(plans, { ...common, host, logDir });
    return { servers };
  } catch (e) {
    // A server that does not come up holds up its stages only; the others still run.
    if (o.signal?.aborted || !(e instanceof SpecsciError)) throw e;
    return { reason: e.message, hint: e.hint ?? `its output is in ${logDir}` };
  }
}
