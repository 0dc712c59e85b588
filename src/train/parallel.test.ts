import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { adapterArtifact } from "../../test/helpers.js";
import { ConfigSchema } from "../llm/config.js";
import {
  chooseParallel,
  detectGpus,
  type GpuInventory,
  gpuInventory,
  parallelFlags,
  servingMemoryGiB,
} from "./parallel.js";
import { servingPlan } from "./serve.js";
import { memoryShares } from "./servers.js";

const node = (perNode: number, memoryGiB: number, nodes = 1): GpuInventory => ({
  perNode,
  indices: Array.from({ length: perNode }, (_, i) => String(i)),
  memoryGiB,
  nodes,
  source: `${perNode} GPU(s)`,
});

describe("servingMemoryGiB", () => {
  it("is the bf16 weights plus a quarter for the KV cache, at least 4 GiB", () => {
    // 8.03e9 × 2 bytes = 14.96 GiB, + 4 GiB (a quarter would be 3.74).
    expect(servingMemoryGiB(8.03)).toBeCloseTo(18.96, 2);
    // 70.6e9 × 2 bytes = 131.5 GiB, + 32.9.
    expect(servingMemoryGiB(70.6)).toBeCloseTo(164.38, 2);
  });
});

describe("chooseParallel", () => {
  it("an 8B model on one 80 GiB GPU takes it alone", () => {
    const c = chooseParallel("Qwen/Qwen3-8B", node(1, 80), { servers: 1 });
    expect(c).toMatchObject({ tensor: 1, pipeline: 1, data: 1, nodes: 1 });
    expect(c.why).toMatch(/Qwen3-8B needs ~19 GiB; 1 GPU\(s\), 80 GiB each: tensor 1$/);
  });

  it("the GPUs left over become replicas, shared out between the plan's servers", () => {
    expect(chooseParallel("Qwen/Qwen3-8B", node(8, 80), { servers: 1 })).toMatchObject({
      tensor: 1,
      data: 8,
    });
    expect(chooseParallel("Qwen/Qwen3-8B", node(8, 80), { servers: 3 })).toMatchObject({
      tensor: 1,
      data: 2,
    });
  });

  it("a model one GPU cannot hold is split by tensor parallelism in powers of two", () => {
    // 32.8B: ~76 GiB on 40 GiB GPUs (36 usable) → 3 GPUs → tensor 4, the other 4 a replica.
    const c = chooseParallel("Qwen/Qwen3-32B", node(8, 40), { servers: 1 });
    expect(c).toMatchObject({ tensor: 4, pipeline: 1, data: 2, nodes: 1 });
    expect(c.why).toContain("2 replicas");
  });

  it("across nodes when one node cannot hold it, and refuses what the nodes cannot", () => {
    // 70.6B: ~164 GiB on 2 × 24 GiB per node → 8 GPUs → tensor 2 × pipeline 4 over 4 nodes.
    const c = chooseParallel("meta-llama/Llama-3.1-70B-Instruct", node(2, 24, 4), { servers: 1 });
    expect(c).toMatchObject({ tensor: 2, pipeline: 4, data: 1, nodes: 4 });
    expect(parallelFlags("vllm", c, "x")).toEqual([
      "--tensor-parallel-size",
      "2",
      "--pipeline-parallel-size",
      "4",
      "--distributed-executor-backend",
      "ray",
    ]);
    expect(() => parallelFlags("sglang", c, "meta-llama/Llama-3.1-70B")).toThrow(
      /SGLang across 4 nodes needs one launch per node/,
    );
    expect(() =>
      chooseParallel("meta-llama/Llama-3.1-70B-Instruct", node(2, 24, 2), { servers: 1 }),
    ).toThrow(/needs 8 GPUs, more than 2 node\(s\) of 2 hold/);
  });

  it("specsci.yaml's layout wins, field by field, and says so", () => {
    const c = chooseParallel("Qwen/Qwen3-8B", node(8, 80), {
      servers: 1,
      override: { tensor_parallel: 2 },
      overrideFrom: 'serving.models["Qwen/Qwen3-8B"]',
    });
    expect(c).toMatchObject({ tensor: 2, pipeline: 1, data: 8 });
    expect(c.why).toBe(
      'set in serving.models["Qwen/Qwen3-8B"] (the automatic choice: tensor 1, pipeline 1, data 8)',
    );
  });

  it("a size the registry does not know, or no GPUs, is one GPU with the reason", () => {
    expect(chooseParallel("/models/my-copy", node(8, 80), { servers: 1 }).why).toMatch(
      /size unknown to the base registry, so one GPU; set serving.models/,
    );
    expect(chooseParallel("Qwen/Qwen3-32B", undefined, { servers: 1 }).why).toBe(
      "no GPUs known, so one GPU (Qwen/Qwen3-32B needs ~76 GiB; serving.gpus_per_node and serving.gpu_memory_gib in specsci.yaml describe GPUs not on this machine)",
    );
  });

  it("writes each engine's own flags, leaving out those at 1", () => {
    const c = { tensor: 4, pipeline: 1, data: 2, nodes: 1, why: "" };
    expect(parallelFlags("vllm", c, "x")).toEqual([
      "--tensor-parallel-size",
      "4",
      "--data-parallel-size",
      "2",
    ]);
    expect(parallelFlags("sglang", c, "x")).toEqual(["--tp-size", "4", "--dp-size", "2"]);
    expect(parallelFlags("vllm", { ...c, tensor: 1, data: 1 }, "x")).toEqual([]);
  });
});

describe("detectGpus", () => {
  const saved = { ...process.env };
  const dirs: string[] = [];
  afterEach(() => {
    process.env = { ...saved };
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  /** A stand-in nvidia-smi printing what the real one prints for this query. */
  const standIn = (lines: string) => {
    const dir = mkdtempSync(join(tmpdir(), "specsci-smi-"));
    dirs.push(dir);
    const exe = join(dir, "nvidia-smi");
    writeFileSync(
      exe,
      `#!/bin/sh\n[ "$1" = "--query-gpu=index,memory.total" ] || exit 9\nprintf '${lines}'\n`,
    );
    chmodSync(exe, 0o755);
    process.env.SPECSCI_NVIDIA_SMI = exe;
  };

  it("reads count and the smallest memory, narrowed to CUDA_VISIBLE_DEVICES", () => {
    standIn("0, 81559\\n1, 81559\\n2, 40960\\n3, 81559\\n");
    expect(detectGpus()).toMatchObject({
      perNode: 4,
      memoryGiB: 40,
      indices: ["0", "1", "2", "3"],
    });
    process.env.CUDA_VISIBLE_DEVICES = "1,3";
    expect(detectGpus()).toMatchObject({ perNode: 2, indices: ["1", "3"] });
    expect(detectGpus()?.memoryGiB).toBeCloseTo(79.65, 2);
  });

  it("no nvidia-smi, or one that fails, is no GPUs", () => {
    process.env.SPECSCI_NVIDIA_SMI = "/nonexistent/nvidia-smi";
    expect(detectGpus()).toBeUndefined();
    standIn("");
    expect(detectGpus()).toBeUndefined();
  });

  it("specsci.yaml's figures stand for a cluster node this machine is not", () => {
    const serving = ConfigSchema.parse({
      serving: { gpus_per_node: 8, gpu_memory_gib: 80, nodes: 2 },
    }).serving;
    expect(gpuInventory(serving, () => undefined)).toMatchObject({
      perNode: 8,
      memoryGiB: 80,
      nodes: 2,
      indices: ["0", "1", "2", "3", "4", "5", "6", "7"],
    });
  });
});

describe("servingPlan with GPUs", () => {
  const models = [
    adapterArtifact("train-a-seed0", "Qwen/Qwen3-8B"),
    adapterArtifact("train-b-seed0", "meta-llama/Llama-3.1-8B"),
  ];

  it("servers that fit side by side get GPUs of their own, and no memory share", () => {
    const plans = servingPlan(models, { engine: "vllm", gpus: node(8, 80) });
    expect(plans.map((p) => p.gpus)).toEqual([
      ["0", "1", "2", "3"],
      ["4", "5", "6", "7"],
    ]);
    expect(plans[0]?.command).toEqual(expect.arrayContaining(["--data-parallel-size", "4"]));
    expect(memoryShares(plans, "vllm")).toEqual(plans);
  });

  it("servers that must share the GPUs share their memory, as before", () => {
    const plans = servingPlan(models, { engine: "vllm", gpus: node(1, 80) });
    expect(plans.map((p) => p.gpus)).toEqual([undefined, undefined]);
    expect(memoryShares(plans, "vllm")[0]?.command.slice(-2)).toEqual([
      "--gpu-memory-utilization",
      "0.45",
    ]);
  });

  it("a layout set for the base in specsci.yaml applies to its adapters' server", () => {
    const serving = ConfigSchema.parse({
      serving: { models: { "Qwen/Qwen3-8B": { tensor_parallel: 2, data_parallel: 1 } } },
    }).serving;
    const [qwen, llama] = servingPlan(models, { engine: "sglang", serving, gpus: node(8, 80) });
    expect(qwen?.command.slice(-2)).toEqual(["--tp-size", "2"]);
    expect(qwen?.parallel.why).toMatch(/^set in serving.models\["Qwen\/Qwen3-8B"\]/);
    expect(qwen?.gpus).toEqual(["0", "1"]);
    expect(llama?.gpus).toEqual(["2", "3", "4", "5"]);
  });
});
