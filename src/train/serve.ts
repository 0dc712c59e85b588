/**
 * Serving trained models so evaluations can call them: one vLLM (or SGLang) server per base model
 * with every LoRA adapter of it loaded as its own model name, plus one server per fully trained
 * model; each served name becomes an OpenAI-compatible model id under an endpoint
 * (`trained/<name>`). Servers bind to 127.0.0.1 unless told otherwise.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { envSetting } from "../core/env.js";
import { SpecsciError } from "../core/errors.js";
import type { ServingConfig } from "../llm/config.js";
import { closestName } from "../llm/models.js";
import { type ModelArtifact, weightsOf } from "./models.js";
import {
  chooseParallel,
  type GpuInventory,
  gpusOnNode,
  type ParallelChoice,
  parallelFlags,
} from "./parallel.js";

export type ServingEngine = "vllm" | "sglang";

/** The variable naming each engine's executable (defaults in core/env.ts). */
export const SERVER_EXECUTABLE_ENV = { vllm: "SPECSCI_VLLM", sglang: "SPECSCI_SGLANG" } as const;

/** The executable that starts an engine's server: the variable's value, else its default. */
export const serverExecutable = (engine: ServingEngine) =>
  envSetting(SERVER_EXECUTABLE_ENV[engine]);

export interface ServerPlan {
  base: string;
  port: number;
  command: string[];
  /** Served model name → the trained model it is. */
  models: { name: string; artifact: string; path: string; weights: string }[];
  /** How it is spread over GPUs, and why. */
  parallel: ParallelChoice;
  /** The GPUs it is given (CUDA_VISIBLE_DEVICES), when the plan's servers fit side by side. */
  gpus?: string[];
  /** The base model whose size sets the layout (a full model's output path names no size). */
  sizedAs: string;
}

/** A served name for a trained model: its run and stage, in the characters servers accept. */
export const servedName = (a: ModelArtifact) =>
  a.id.replace(/^train-/, "").replace(/[^A-Za-z0-9._-]+/g, "-");

export interface ServingOptions {
  engine: ServingEngine;
  host?: string;
  port?: number;
  executable?: string;
  /** specsci.yaml's serving: section (per-model layouts). */
  serving?: ServingConfig;
  /** The GPUs to plan for (train/parallel.ts gpuInventory); none known: one GPU per server. */
  gpus?: GpuInventory;
  /**
   * Each server a cluster job of its own (serve-slurm.ts): it asks for the GPUs its layout needs
   * (no replicas unless set) and is given them by the scheduler, not by CUDA_VISIBLE_DEVICES.
   */
  jobs?: boolean;
}

export function servingPlan(models: ModelArtifact[], o: ServingOptions): ServerPlan[] {
  if (!models.length)
    throw new SpecsciError("no trained models to serve", {
      hint: "run `specsci train run PLAN` first; `specsci train list` shows what exists",
    });
  const host = o.host ?? "127.0.0.1";
  let port = o.port ?? (o.engine === "vllm" ? 8000 : 30000);
  const plans: ServerPlan[] = [];
  const byBase = new Map<string, ModelArtifact[]>();
  // Together's models live on Together (callable as together/<output name>), not on a local server.
  const local = models.filter((m) => m.engine !== "together");
  for (const m of local.filter((x) => x.adapter)) {
    const base = m.served_base ?? m.base_model;
    byBase.set(base, [...(byBase.get(base) ?? []), m]);
  }
  for (const [base, adapters] of byBase) {
    const rank = loraRank(adapters);
    const pairs = adapters.map((a) => ({
      name: servedName(a),
      artifact: a.id,
      path: a.output_dir,
      weights: weightsOf(a),
    }));
    const modules = pairs.map((p) => `${p.name}=${p.path}`);
    const lora =
      o.engine === "vllm"
        ? [
            "--enable-lora",
            "--max-lora-rank",
            String(rank),
            "--max-loras",
            String(Math.min(pairs.length, 8)),
            "--lora-modules",
            ...modules,
          ]
        : ["--enable-lora", "--max-lora-rank", String(rank), "--lora-paths", ...modules];
    const command = [...serverCommand(o.engine, base, host, port, o.executable), ...lora];
    const sizedAs = (adapters[0] as ModelArtifact).base_model;
    plans.push({ base, port, command, models: pairs, parallel: NOT_CHOSEN, sizedAs });
    port++;
  }
  for (const m of local.filter((x) => !x.adapter)) {
    const name = servedName(m);
    const command = [
      ...serverCommand(o.engine, m.output_dir, host, port, o.executable),
      "--served-model-name",
      name,
    ];
    plans.push({
      base: m.output_dir,
      port,
      command,
      models: [{ name, artifact: m.id, path: m.output_dir, weights: weightsOf(m) }],
      parallel: NOT_CHOSEN,
      sizedAs: m.base_model,
    });
    port++;
  }
  return withParallel(plans, o);
}

const NOT_CHOSEN: ParallelChoice = { tensor: 1, pipeline: 1, data: 1, nodes: 1, why: "" };

/**
 * Each server's layout (chosen for its base model's size, or set in specsci.yaml) and its flags;
 * when every server fits on the node side by side, each is given its own GPUs, so none has to
 * share memory with another.
 */
function withParallel(plans: ServerPlan[], o: ServingOptions): ServerPlan[] {
  const chosen = plans.map((p) => {
    // Set by the served name first (a local copy), else by the base it was trained from.
    const key = [p.base, p.sizedAs].find((k) => o.serving?.models[k]);
    const parallel = chooseParallel(p.sizedAs, o.gpus, {
      servers: o.jobs ? 1 : plans.length,
      replicas: !o.jobs,
      ...(key
        ? {
            override: o.serving?.models[key],
            overrideFrom: `serving.models["${key}"] in specsci.yaml`,
          }
        : {}),
    });
    return {
      ...p,
      parallel,
      command: [...p.command, ...parallelFlags(o.engine, parallel, p.base)],
    };
  });
  const gpus = o.gpus;
  if (!gpus || o.jobs || chosen.some((p) => p.parallel.nodes > 1)) return chosen;
  const wanted = chosen.map((p) => gpusOnNode(p.parallel, gpus.perNode));
  if (wanted.reduce((a, b) => a + b, 0) > gpus.perNode) return chosen;
  let next = 0;
  return chosen.map((p, i) => {
    const ids = gpus.indices.slice(next, next + (wanted[i] as number));
    next += wanted[i] as number;
    return { ...p, gpus: ids };
  });
}

/** vLLM accepts only these maximum LoRA ranks; the largest adapter's rank is rounded up. */
const RANKS = [8, 16, 32, 64, 128, 256, 320, 512];
function loraRank(adapters: ModelArtifact[]): number {
  const r = Math.max(
    ...adapters.map((a) => {
      const declared = (a.hyperparameters as { lora_r?: unknown } | null)?.lora_r;
      return typeof declared === "number" ? declared : adapterRank(a.output_dir);
    }),
  );
  return RANKS.find((x) => x >= r) ?? 512;
}

/** `r` from a local adapter's own adapter_config.json; 64 (the recipe's) when it cannot be read. */
function adapterRank(dir: string): number {
  try {
    const r = (
      JSON.parse(readFileSync(join(dir, "adapter_config.json"), "utf8")) as { r?: unknown }
    ).r;
    return typeof r === "number" ? r : 64;
  } catch {
    return 64;
  }
}

/** Starting a server for one model path (the engines name their options differently). */
function serverCommand(
  engine: ServingEngine,
  model: string,
  host: string,
  port: number,
  executable?: string,
): string[] {
  const at = ["--host", host, "--port", String(port)];
  const exe = executable ?? serverExecutable(engine);
  return engine === "vllm"
    ? [exe, "serve", model, ...at]
    : [exe, "-m", "sglang.launch_server", "--model-path", model, ...at];
}

/** The specsci.yaml endpoints that make the served names callable as `<endpoint>/<name>`. */
/**
 * The model ids a server answers to: vLLM serves each adapter under its own name; SGLang selects
 * an adapter with `<base>:<adapter>` and lists only the base.
 */
export function servedIds(
  p: ServerPlan,
  engine: ServingEngine,
): { call: string[]; listed: string[] } {
  const adapters = p.command.includes("--lora-paths");
  if (engine === "sglang" && adapters)
    return { call: p.models.map((m) => `${p.base}:${m.name}`), listed: [p.base] };
  return { call: p.models.map((m) => m.name), listed: p.models.map((m) => m.name) };
}

export function endpointsYaml(
  plans: ServerPlan[],
  endpoint: string,
  host = "127.0.0.1",
  engine: ServingEngine = "vllm",
): string {
  const lines = ["endpoints:"];
  plans.forEach((p, i) => {
    const name = plans.length === 1 ? endpoint : `${endpoint}${i + 1}`;
    lines.push(
      `  ${name}: { base_url: "http://${host}:${p.port}/v1" }   # ${servedIds(p, engine)
        .call.map((id) => `${name}/${id}`)
        .join(", ")}`,
    );
  });
  return `${lines.join("\n")}\n`;
}

/** A name the server does not list, with the closest one it does, if that looks like a typo. */
function withGuess(name: string, listed: string[]): string {
  const guess = closestName(name, listed);
  return guess ? `${name} (did you mean ${guess}?)` : name;
}

/** Polls the server's model list until every served name is there, or the time is up. */
export async function waitForModels(
  baseUrl: string,
  names: string[],
  timeoutMs: number,
  signal?: AbortSignal,
  exited?: () => string | undefined,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last = "no answer yet";
  while (Date.now() < until) {
    if (signal?.aborted) throw signal.reason;
    const gone = exited?.();
    if (gone)
      throw new SpecsciError(`the server for ${baseUrl} stopped before it was ready (${gone})`, {
        hint: "look at its output above",
      });
    try {
      const r = await fetch(`${baseUrl}/models`, { signal: AbortSignal.timeout(5000) });
      if (r.ok) {
        const body = (await r.json()) as { data?: { id: string }[] };
        const have = new Set((body.data ?? []).map((m) => m.id));
        const missing = names.filter((n) => !have.has(n));
        if (!missing.length) return;
        last = `it does not list ${missing.map((n) => withGuess(n, [...have])).join(", ")}`;
      } else last = `HTTP ${r.status}`;
    } catch (e) {
      last = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new SpecsciError(
    `the server at ${baseUrl} was not ready in ${Math.round(timeoutMs / 1000)} s: ${last}`,
    {
      hint: "look at the server's output above; large models take minutes to load (raise --timeout)",
    },
  );
}
