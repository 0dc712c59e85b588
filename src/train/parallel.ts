/**
 * How a served model is spread over GPUs: the engines' own tensor, pipeline and data parallelism
 * (vLLM `--tensor-parallel-size`/`--pipeline-parallel-size`/`--data-parallel-size`, SGLang
 * `--tp-size`/`--pp-size`/`--dp-size`), chosen from the base model's size (the registry's
 * shapes) and the GPUs found, or set per model in specsci.yaml's `serving:` section. Every
 * choice carries the reason `train serve` prints.
 */
import { spawnSync } from "node:child_process";
import { envSetting, envVar } from "../core/env.js";
import { SpecsciError } from "../core/errors.js";
import type { ServingConfig, ServingParallelConfig } from "../llm/config.js";
import { baseFamilyOf, baseSizeOf } from "./bases.js";
import type { ServingEngine } from "./serve.js";

export interface GpuInventory {
  /** GPUs on each node a server may use. */
  perNode: number;
  /** Their CUDA indices on this node (0.. when given in specsci.yaml). */
  indices: string[];
  /** Memory of the smallest of them, GiB. */
  memoryGiB: number;
  nodes: number;
  /** Where the figures came from, for the printed reason. */
  source: string;
}

export interface ParallelChoice {
  tensor: number;
  pipeline: number;
  data: number;
  /** Nodes one replica spans (tensor × pipeline GPUs over the GPUs of a node). */
  nodes: number;
  /** One line: what was chosen and why. */
  why: string;
}

const GiB = 1024 ** 3;
/** The share of a GPU the engines claim by default (vLLM 0.9, SGLang about the same). */
const UTILISATION = 0.9;
/**
 * Serving needs the bf16 weights and room for the KV cache: a quarter of the weights, at least
 * 4 GiB, is enough for the evals' few-thousand-token contexts at a useful batch. A rule of thumb,
 * not a measurement; specsci.yaml overrides it.
 */
export function servingMemoryGiB(paramsBillions: number): number {
  const weights = (paramsBillions * 1e9 * 2) / GiB;
  return weights + Math.max(4, weights / 4);
}

/**
 * The GPUs of this machine from `nvidia-smi` (SPECSCI_NVIDIA_SMI names another), narrowed to
 * CUDA_VISIBLE_DEVICES when set; undefined where there is none or it cannot be read.
 */
export function detectGpus(): Omit<GpuInventory, "nodes"> | undefined {
  const exe = envSetting("SPECSCI_NVIDIA_SMI");
  const r = spawnSync(exe, ["--query-gpu=index,memory.total", "--format=csv,noheader,nounits"], {
    encoding: "utf8",
    timeout: 10_000,
  });
  if (r.status !== 0 || !r.stdout) return undefined;
  let gpus = r.stdout
    .trim()
    .split("\n")
    .map((line) => line.split(",").map((x) => x.trim()))
    .filter((f) => f.length === 2 && /^\d+$/.test(f[0] as string) && Number(f[1]) > 0)
    .map(([index, mib]) => ({ index: index as string, mib: Number(mib) }));
  const visible = envVar("CUDA_VISIBLE_DEVICES");
  if (visible !== undefined) {
    const keep = new Set(visible.split(",").map((x) => x.trim()));
    gpus = gpus.filter((g) => keep.has(g.index));
  }
  if (!gpus.length) return undefined;
  return {
    perNode: gpus.length,
    indices: gpus.map((g) => g.index),
    memoryGiB: Math.min(...gpus.map((g) => g.mib)) / 1024,
    source: `${gpus.length} GPU(s) found by ${exe}${visible !== undefined ? " (CUDA_VISIBLE_DEVICES)" : ""}`,
  };
}

/** The GPUs to plan for: specsci.yaml's figures where given, else what this machine has. */
export function gpuInventory(
  config: ServingConfig,
  detect: typeof detectGpus = detectGpus,
): GpuInventory | undefined {
  const nodes = config.nodes;
  const first = (n: number) => Array.from({ length: n }, (_, i) => String(i));
  if (config.gpus_per_node !== undefined && config.gpu_memory_gib !== undefined)
    return {
      perNode: config.gpus_per_node,
      indices: first(config.gpus_per_node),
      memoryGiB: config.gpu_memory_gib,
      nodes,
      source: "serving.gpus_per_node and serving.gpu_memory_gib in specsci.yaml",
    };
  const found = detect();
  if (!found) return undefined;
  const perNode = config.gpus_per_node ?? found.perNode;
  return {
    perNode,
    indices: found.indices.slice(0, perNode).concat(first(perNode).slice(found.indices.length)),
    memoryGiB: config.gpu_memory_gib ?? found.memoryGiB,
    nodes,
    source: found.source,
  };
}

const pow2AtLeast = (n: number) => 2 ** Math.ceil(Math.log2(Math.max(1, n)));
const pow2AtMost = (n: number) => 2 ** Math.floor(Math.log2(Math.max(1, n)));

/**
 * Tensor parallelism within a node, in powers of two (they divide every registry model's
 * attention heads up to 4, and 8 for the 14B and larger ones that would need it); pipeline
 * stages when the largest such group cannot hold the model (across nodes, if one node's GPUs
 * are not enough); data parallelism (replicas inside one server) over the GPUs left, shared out
 * between the servers of the plan. Nodes are taken to have a power-of-two number of GPUs.
 */
export function chooseParallel(
  base: string,
  gpus: GpuInventory | undefined,
  o: {
    servers: number;
    /** Fill the GPUs left with replicas (false: a Slurm job asks only for what it needs). */
    replicas?: boolean;
    override?: ServingParallelConfig;
    overrideFrom?: string;
  },
): ParallelChoice {
  const auto = autoParallel(base, gpus, o.servers, o.replicas ?? true);
  const set = o.override;
  if (!set || (!set.tensor_parallel && !set.pipeline_parallel && !set.data_parallel)) return auto;
  const tensor = set.tensor_parallel ?? auto.tensor;
  const pipeline = set.pipeline_parallel ?? auto.pipeline;
  return {
    tensor,
    pipeline,
    data: set.data_parallel ?? auto.data,
    nodes: gpus ? Math.max(1, Math.ceil((tensor * pipeline) / gpus.perNode)) : pipeline,
    why: `set in ${o.overrideFrom ?? "specsci.yaml"} (the automatic choice: ${describeParallel(auto)})`,
  };
}

function autoParallel(
  base: string,
  gpus: GpuInventory | undefined,
  servers: number,
  replicas: boolean,
) {
  const one = (why: string): ParallelChoice => ({ tensor: 1, pipeline: 1, data: 1, nodes: 1, why });
  const family = baseFamilyOf(base);
  const size = family && baseSizeOf(family, base);
  if (!size)
    return one(
      `${base}: size unknown to the base registry, so one GPU; set serving.models in specsci.yaml for a larger one`,
    );
  const need = servingMemoryGiB(size.params);
  if (!gpus)
    return one(
      `no GPUs known, so one GPU (${base} needs ~${need.toFixed(0)} GiB; serving.gpus_per_node and serving.gpu_memory_gib in specsci.yaml describe GPUs not on this machine)`,
    );
  const perGpu = gpus.memoryGiB * UTILISATION;
  const gpusNeeded = Math.ceil(need / perGpu);
  const fits = `${base} needs ~${need.toFixed(0)} GiB; ${gpus.source}, ${gpus.memoryGiB.toFixed(0)} GiB each`;
  const tensor = Math.min(pow2AtLeast(gpusNeeded), pow2AtMost(gpus.perNode));
  const pipeline = Math.ceil(gpusNeeded / tensor);
  const nodes = Math.ceil((tensor * pipeline) / gpus.perNode);
  if (nodes > gpus.nodes)
    throw new SpecsciError(
      `${fits}: it needs ${gpusNeeded} GPUs, more than ${gpus.nodes} node(s) of ${gpus.perNode} hold`,
      {
        hint: "serve it on more nodes (serving.nodes in specsci.yaml, with a Ray cluster for vLLM), or set serving.models in specsci.yaml to force a layout",
      },
    );
  if (pipeline > 1)
    return {
      tensor,
      pipeline,
      data: 1,
      nodes,
      why: `${fits}: tensor ${tensor} × pipeline ${pipeline}${nodes > 1 ? ` over ${nodes} nodes` : ""}`,
    };
  const data = replicas ? Math.max(1, Math.floor(gpus.perNode / servers / tensor)) : 1;
  return {
    tensor,
    pipeline: 1,
    data,
    nodes: 1,
    why: `${fits}: tensor ${tensor}${data > 1 ? `, ${data} replicas on the GPUs left` : ""}`,
  };
}

export const describeParallel = (c: ParallelChoice) =>
  `tensor ${c.tensor}, pipeline ${c.pipeline}, data ${c.data}${c.nodes > 1 ? ` over ${c.nodes} nodes` : ""}`;

/** The GPUs one server of this choice takes on one node (all of them when it spans nodes). */
export const gpusOnNode = (c: ParallelChoice, perNode: number) =>
  c.nodes > 1 ? perNode : c.tensor * c.pipeline * c.data;

/**
 * The engine's flags for a choice (only those that differ from 1). vLLM spans nodes through a
 * Ray cluster (its documented multi-node launcher, started before the server); SGLang's
 * multi-node launch is one process per node (`--nnodes/--node-rank/--dist-init-addr`), which one
 * command here cannot start.
 */
export function parallelFlags(engine: ServingEngine, c: ParallelChoice, base: string): string[] {
  const flag = (name: string, n: number) => (n > 1 ? [name, String(n)] : []);
  if (engine === "vllm")
    return [
      ...flag("--tensor-parallel-size", c.tensor),
      ...flag("--pipeline-parallel-size", c.pipeline),
      ...flag("--data-parallel-size", c.data),
      ...(c.nodes > 1 ? ["--distributed-executor-backend", "ray"] : []),
    ];
  if (c.nodes > 1)
    throw new SpecsciError(
      `${base}: SGLang across ${c.nodes} nodes needs one launch per node, which train serve does not start`,
      {
        hint: "serve it with --engine vllm (multi-node through a Ray cluster), or set serving.models in specsci.yaml to fit one node",
      },
    );
  return [
    ...flag("--tp-size", c.tensor),
    ...flag("--pp-size", c.pipeline),
    ...flag("--dp-size", c.data),
  ];
}
