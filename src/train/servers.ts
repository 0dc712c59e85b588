/**
 * Starting the servers of a serving plan, waiting until each lists its models, registering every
 * served model in the store (so `<endpoint>/<name>` is callable at once), and stopping them again.
 * Several servers on one machine start one after another, each with a share of GPU memory: vLLM
 * and SGLang each claim most of the GPU by default, and a second server started beside the first
 * would find none left.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, mkdirSync, type WriteStream } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { trackGroup, untrackGroup } from "../core/children.js";
import { registerServed, type ServedModel, unregisterServed } from "../llm/served.js";
import type { Store } from "../store/index.js";
import { type ServerPlan, type ServingEngine, servedIds, waitForModels } from "./serve.js";

export interface StartOptions {
  engine: ServingEngine;
  host: string;
  /** The endpoint name the served models are registered under. */
  endpoint: string;
  timeoutMs: number;
  store: Store;
  signal?: AbortSignal;
  /** Server output goes to `server-<port>.log` here; to this process's output without it. */
  logDir?: string;
  log?: (line: string) => void;
}

export interface RunningServers {
  plans: ServerPlan[];
  models: ServedModel[];
  /** Resolves with a reason when any server exits on its own. */
  exited: Promise<string>;
  /** Stops every server (SIGTERM, then SIGKILL) and removes their registrations. */
  stop(): Promise<void>;
}

/** The address to reach a server bound to `host` from this machine. */
const reachable = (host: string) => (host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host);

export const baseUrlOf = (host: string, port: number) => `http://${reachable(host)}:${port}/v1`;

/**
 * GPU memory share per server when several share the GPUs (vLLM's default is 0.9 for one);
 * servers given GPUs of their own (serve.ts) keep the default.
 */
export function memoryShares(plans: ServerPlan[], engine: ServingEngine): ServerPlan[] {
  const sharing = plans.filter((p) => !p.gpus).length;
  if (sharing < 2) return plans;
  const share = (Math.floor((0.9 / sharing) * 100) / 100).toFixed(2);
  const flag = engine === "vllm" ? "--gpu-memory-utilization" : "--mem-fraction-static";
  return plans.map((p) =>
    p.gpus || p.command.includes(flag) ? p : { ...p, command: [...p.command, flag, share] },
  );
}

export async function startServers(plans: ServerPlan[], o: StartOptions): Promise<RunningServers> {
  const children: ChildProcess[] = [];
  const logs: WriteStream[] = [];
  const registered: ServedModel[] = [];
  let onExit: (why: string) => void = () => {};
  const exited = new Promise<string>((resolve) => {
    onExit = resolve;
  });
  let stopping = false;
  const stop = async () => {
    stopping = true;
    for (const m of registered) unregisterServed(o.store, m.id);
    await Promise.all(children.map(stopChild));
    for (const l of logs) l.end();
  };
  try {
    for (const p of memoryShares(plans, o.engine)) {
      const [exe, ...args] = p.command as [string, ...string[]];
      let log: WriteStream | undefined;
      if (o.logDir) {
        mkdirSync(o.logDir, { recursive: true });
        log = createWriteStream(join(o.logDir, `server-${p.port}.log`), { flags: "a" });
        logs.push(log);
      }
      const visible = p.gpus ? `CUDA_VISIBLE_DEVICES=${p.gpus.join(",")} ` : "";
      o.log?.(`starting ${visible}${p.command.join(" ")}`);
      if (p.parallel.why) o.log?.(`  ${p.parallel.why}`);
      // Its own process group: a server's workers go when it is stopped.
      const child = spawn(exe, args, {
        stdio: ["ignore", log ? "pipe" : "inherit", log ? "pipe" : "inherit"],
        detached: true,
        ...(p.gpus ? { env: { ...process.env, CUDA_VISIBLE_DEVICES: p.gpus.join(",") } } : {}),
      });
      if (log) {
        child.stdout?.pipe(log, { end: false });
        child.stderr?.pipe(log, { end: false });
      }
      children.push(child);
      if (child.pid) trackGroup(child.pid);
      let gone: string | undefined;
      child.on("error", (e: NodeJS.ErrnoException) => {
        gone = `cannot start ${exe}: ${e.code ?? e.message}`;
      });
      child.on("exit", (code, sig) => {
        gone ??= `exit ${code ?? sig}`;
        if (!stopping) onExit(`the server on port ${p.port} stopped (${gone})`);
      });
      const url = baseUrlOf(o.host, p.port);
      await waitForModels(
        url,
        servedIds(p, o.engine).listed,
        o.timeoutMs,
        o.signal,
        () =>
          gone &&
          `${gone}${o.logDir ? `; its output is in ${join(o.logDir, `server-${p.port}.log`)}` : ""}`,
      );
      const ids = servedIds(p, o.engine).call;
      p.models.forEach((m, i) => {
        const served: ServedModel = {
          id: `${o.endpoint}/${m.name}`,
          base_url: url,
          model: ids[i] as string,
          artifact: m.artifact,
          weights: m.weights,
          ...(child.pid ? { pid: child.pid } : {}),
        };
        registerServed(o.store, served);
        registered.push(served);
      });
    }
  } catch (e) {
    await stop();
    throw e;
  }
  return { plans, models: registered, exited, stop };
}

/** Stops a server's whole process group: its workers may outlive the process that started them. */
function stopChild(child: ChildProcess): Promise<void> {
  if (!child.pid) return Promise.resolve();
  const group = (sig: NodeJS.Signals) => {
    try {
      process.kill(-(child.pid as number), sig);
      return true;
    } catch {
      return false; // The group is gone.
    }
  };
  untrackGroup(child.pid);
  if (!group("SIGTERM")) return Promise.resolve();
  return new Promise((resolve) => {
    // Until the group is empty (SIGKILL after 30 s): the leader's exit alone does not say so.
    const started = Date.now();
    const poll = setInterval(() => {
      if (!group(0 as unknown as NodeJS.Signals)) {
        clearInterval(poll);
        resolve();
      } else if (Date.now() - started > 30_000) group("SIGKILL");
    }, 100);
  });
}

/** Whether nothing listens on the port (so a server can bind it). */
function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", () => resolve(false));
    probe.listen(port, host, () => probe.close(() => resolve(true)));
  });
}

/** The plans with every port that is taken moved to the next free one. */
export async function withFreePorts(plans: ServerPlan[], host: string): Promise<ServerPlan[]> {
  const used = new Set<number>();
  const out: ServerPlan[] = [];
  for (const p of plans) {
    let port = p.port;
    while (used.has(port) || !(await portFree(host, port))) port++;
    used.add(port);
    const command = [...p.command];
    const i = command.indexOf("--port");
    if (i >= 0) command[i + 1] = String(port);
    out.push({ ...p, port, command });
  }
  return out;
}

/** Whether a registered model's server is up and lists it. */
export async function servedAlive(m: ServedModel): Promise<boolean> {
  try {
    const r = await fetch(`${m.base_url}/models`, { signal: AbortSignal.timeout(3000) });
    if (!r.ok) return false;
    const ids = new Set(((await r.json()) as { data?: { id: string }[] }).data?.map((x) => x.id));
    // SGLang lists the base only and selects the adapter as `<base>:<adapter>`.
    const colon = m.model.lastIndexOf(":");
    return ids.has(m.model) || (colon > 0 && ids.has(m.model.slice(0, colon)));
  } catch {
    return false;
  }
}
