/**
 * Serving as Slurm jobs against stand-ins for sbatch/squeue/scancel (test/fakes/slurm: a job runs
 * its script at once in the background; the queue says PENDING once, then RUNNING on 127.0.0.1)
 * and for vLLM (test/fakes/vllm-standin.mjs, started by the job script).
 */
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadExperiment } from "../../src/experiment/config.js";
import { startTrainedServers } from "../../src/experiment/serving.js";
import { ConfigSchema } from "../../src/llm/config.js";
import { servedModel } from "../../src/llm/served.js";
import { Store } from "../../src/store/db.js";
import { servingPlan } from "../../src/train/serve.js";
import {
  type ServeJob,
  type SlurmServeOptions,
  serveJobScript,
  startSlurmServers,
} from "../../src/train/serve-slurm.js";
import {
  adapterArtifact,
  BIN,
  cleanupTempDirs,
  makeClient,
  ROOT,
  runCli,
  tempDir,
} from "../helpers.js";

afterAll(cleanupTempDirs);

const STANDINS = join(ROOT, "test", "fakes", "slurm");
const VLLM = join(ROOT, "test", "fakes", "vllm-standin.mjs");

let state: string;
let savedPath: string | undefined;
beforeEach(() => {
  state = tempDir("specsci-slurm-");
  savedPath = process.env.PATH;
  process.env.PATH = `${STANDINS}:${savedPath}`;
  process.env.SLURM_STANDIN_STATE = state;
});
afterEach(() => {
  process.env.PATH = savedPath;
  delete process.env.SLURM_STANDIN_STATE;
});
const calls = () => readFileSync(join(state, "calls.log"), "utf8").trim().split("\n");
const port = () => 21000 + Math.floor(Math.random() * 20000);

function options(store: Store, over: Partial<SlurmServeOptions> = {}): SlurmServeOptions {
  return {
    engine: "vllm",
    endpoint: "trained",
    slurm: ConfigSchema.parse({ serving: { slurm: { poll_s: 0.05, partition: "gpu" } } }).serving
      .slurm,
    dir: join(state, "serve"),
    timeoutMs: 20_000,
    store,
    ...over,
  };
}

const plansFor = (p: number, executable = VLLM) =>
  servingPlan([adapterArtifact("train-rules-seed0", "Qwen/Qwen3-8B")], {
    engine: "vllm",
    host: "0.0.0.0",
    port: p,
    executable,
    jobs: true,
  });

describe("serveJobScript", () => {
  it("asks for the layout's GPUs, then runs the setup and the server", () => {
    const [plan] = servingPlan([adapterArtifact("train-a-seed0", "Qwen/Qwen3-32B")], {
      engine: "vllm",
      host: "0.0.0.0",
      port: 8000,
      executable: "vllm",
      jobs: true,
      gpus: { perNode: 8, indices: [], memoryGiB: 40, nodes: 1, source: "specsci.yaml" },
    });
    const slurm = ConfigSchema.parse({
      serving: {
        slurm: {
          partition: "h100",
          account: "align",
          time: "12:00:00",
          sbatch_options: ["--constraint=nvlink"],
          setup: ["module load cuda/12.4", "source ~/venv/bin/activate"],
        },
      },
    }).serving.slurm;
    const text = serveJobScript(
      plan as never,
      options({} as Store, { slurm, dir: "/shared/serve" }),
      "abc",
    );
    // 32.8B on 40 GiB GPUs: tensor 4, and a job asks for no replicas it was not told to.
    expect(text).toContain("#SBATCH --gres=gpu:4\n");
    for (const line of [
      "#SBATCH --job-name=specsci-serve-trained-8000",
      "#SBATCH --comment=specsci:abc",
      "#SBATCH --nodes=1",
      "#SBATCH --time=12:00:00",
      "#SBATCH --partition=h100",
      "#SBATCH --account=align",
      "#SBATCH --output=/shared/serve/serve-8000-%j.log",
      "#SBATCH --constraint=nvlink",
      "module load cuda/12.4\nsource ~/venv/bin/activate\n",
      "exec vllm serve Qwen/Qwen3-32B --host 0.0.0.0 --port 8000 --enable-lora",
      "--tensor-parallel-size 4\n",
    ])
      expect(text).toContain(line);
    expect(text).not.toContain("ray start");
  });

  it("a server across nodes starts a Ray cluster on them first (vLLM's multi-node launcher)", () => {
    const [plan] = servingPlan([adapterArtifact("train-a-seed0", "meta-llama/Llama-3.1-70B")], {
      engine: "vllm",
      host: "0.0.0.0",
      port: 8000,
      executable: "vllm",
      jobs: true,
      gpus: { perNode: 2, indices: [], memoryGiB: 24, nodes: 4, source: "specsci.yaml" },
    });
    const slurm = ConfigSchema.parse({
      serving: { slurm: { gpu_request: "gpus-per-node" } },
    }).serving.slurm;
    const text = serveJobScript(plan as never, options({} as Store, { slurm }), "abc");
    expect(text).toContain("#SBATCH --nodes=4\n");
    expect(text).toContain("#SBATCH --gpus-per-node=2\n");
    expect(text).toContain("ray start --head --port=6379 --block &");
    expect(text).toContain('ray start --address="$head:6379" --block');
    expect(text).toMatch(
      /exec vllm serve .*--tensor-parallel-size 2 --pipeline-parallel-size 4 --distributed-executor-backend ray\n$/,
    );
  });
});

describe("startSlurmServers", () => {
  it("submits a job per server, waits for it to run and serve, registers its models, and cancels it at the end", async () => {
    const store = Store.open(join(state, "ws"));
    const p = port();
    const lines: string[] = [];
    const servers = await startSlurmServers(
      plansFor(p),
      options(store, { log: (l) => lines.push(l) }),
    );
    try {
      expect(servers.models.map((m) => [m.id, m.base_url])).toEqual([
        ["trained/rules-seed0", `http://127.0.0.1:${p}/v1`],
      ]);
      expect(servedModel(store, "trained/rules-seed0")?.base_url).toBe(`http://127.0.0.1:${p}/v1`);
      const answer = (await fetch(`http://127.0.0.1:${p}/v1/chat/completions`, {
        method: "POST",
        body: JSON.stringify({ model: "rules-seed0", messages: [{ role: "user", content: "hi" }] }),
      }).then((r) => r.json())) as { choices: { message: { content: string } }[] };
      expect(answer.choices[0]?.message.content).toBe("served by rules-seed0");
      expect(lines.join("\n")).toMatch(/submitted Slurm job 501 for the server on port \d+/);
      expect(lines.join("\n")).toContain("Slurm job 501 runs on 127.0.0.1");
      expect(calls().filter((c) => c.startsWith("squeue")).length).toBeGreaterThanOrEqual(2); // PENDING, then RUNNING
      expect(store.artifacts.list("serve-job")).toHaveLength(1);
    } finally {
      await servers.stop();
    }
    expect(calls()).toContain("scancel 501");
    expect(servedModel(store, "trained/rules-seed0")).toBeUndefined();
    expect(store.artifacts.list("serve-job")).toHaveLength(0);
    await expect(fetch(`http://127.0.0.1:${p}/v1/models`)).rejects.toThrow();
    store.close();
  });

  it("after a driver died without cancelling, the next start reuses a job serving the same, and cancels one serving something else", async () => {
    const store = Store.open(join(state, "ws"));
    const p = port();
    // The first driver "dies": its job and record stay.
    await startSlurmServers(plansFor(p), options(store));
    const lines: string[] = [];
    const again = await startSlurmServers(
      plansFor(p),
      options(store, { log: (l) => lines.push(l) }),
    );
    expect(lines[0]).toMatch(/^reusing Slurm job 501 \(RUNNING\)/);
    expect(calls().filter((c) => c.startsWith("sbatch"))).toHaveLength(1);
    expect(again.models[0]?.base_url).toBe(`http://127.0.0.1:${p}/v1`);
    // Another plan (a new port): the old job is cancelled, a new one submitted.
    const q = port();
    const lines2: string[] = [];
    const third = await startSlurmServers(
      plansFor(q),
      options(store, { log: (l) => lines2.push(l) }),
    );
    expect(lines2[0]).toMatch(/^cancelled Slurm job 501, left from an earlier run/);
    expect(third.models[0]?.base_url).toBe(`http://127.0.0.1:${q}/v1`);
    expect(
      store.artifacts.list("serve-job").map((a) => (JSON.parse(a.content) as ServeJob).job),
    ).toEqual(["502"]);
    await third.stop();
    store.close();
  });

  it("a job that ends before serving is an error naming it and its output, and leaves no record", async () => {
    const store = Store.open(join(state, "ws"));
    const broken = join(state, "broken-vllm");
    writeFileSync(broken, "#!/bin/sh\necho 'CUDA out of memory' >&2\nexit 1\n", { mode: 0o755 });
    // Seen gone while queued, or while its server was starting: either way, named with its output.
    const failed = await startSlurmServers(plansFor(port(), broken), options(store)).catch(
      (e: Error & { hint?: string }) => `${e.message} ${e.hint ?? ""}`,
    );
    expect(failed).toMatch(/Slurm job 501 .*ended/);
    expect(failed).toMatch(/output is in \S+serve-\d+-501\.log/);
    expect(store.artifacts.list("serve-job")).toHaveLength(0);
    store.close();
  });
});

describe("run's servers as Slurm jobs (training.serve.slurm)", () => {
  const experiment = (serve: string) => {
    const dir = tempDir("specsci-slurm-exp-");
    const file = join(dir, "e.yaml");
    writeFileSync(
      file,
      `name: jobs
specs: { rules: rules }
arms: [{ name: rules-aft, kind: aft, aft_spec: rules }]
models: [fake/am-agent]
evals: [{ task: agentic-misalignment, conditions: [leaking_explicit-america_replacement] }]
judge: { model: fake/am-judge }
training:
  base_models: { "fake/am-agent": Qwen/Qwen3-8B }
  serve: ${serve}
`,
    );
    return loadExperiment(file);
  };

  it("submits the jobs, serves through them and cancels them when run stops the servers", async () => {
    const p = port();
    const loaded = experiment(`{ slurm: true, port: ${p} }`);
    const { client, store } = makeClient({ serving: { slurm: { poll_s: 0.05 } } });
    process.env.SPECSCI_VLLM = VLLM;
    try {
      const started = await startTrainedServers(
        loaded,
        client,
        [adapterArtifact("train-rules-aft-seed0", "Qwen/Qwen3-8B")],
        {},
      );
      if (!("servers" in started)) throw new Error(started.reason);
      expect(servedModel(store, "trained/rules-aft-seed0")?.base_url).toBe(
        `http://127.0.0.1:${p}/v1`,
      );
      const script = readFileSync(
        join(loaded.dir, "jobs-training", "serve", `serve-${p}.sh`),
        "utf8",
      );
      expect(script).toContain(`--host 0.0.0.0 --port ${p}`);
      await started.servers.stop();
      expect(calls()).toContain("scancel 501");
    } finally {
      delete process.env.SPECSCI_VLLM;
    }
  });

  it("without Slurm, a server engine that is not installed holds up the stages with a reason", async () => {
    const loaded = experiment("{}");
    const { client } = makeClient();
    process.env.SPECSCI_VLLM = "/nonexistent/vllm";
    try {
      const started = await startTrainedServers(
        loaded,
        client,
        [adapterArtifact("train-rules-aft-seed0", "Qwen/Qwen3-8B")],
        {},
      );
      expect(started).toMatchObject({
        reason:
          "the trained models are served with vllm, and /nonexistent/vllm is not installed here",
      });
      expect("hint" in started && started.hint).toMatch(/training\.serve\.slurm: true/);
    } finally {
      delete process.env.SPECSCI_VLLM;
    }
  });
});

describe("specsci train serve --slurm", () => {
  it("serves a registered adapter as a job until Ctrl-C, then cancels it", async () => {
    const dir = tempDir("specsci-slurm-cli-");
    const ws = join(dir, "ws");
    const adapter = join(dir, "adapter");
    mkdirSync(adapter);
    writeFileSync(join(adapter, "adapter_config.json"), JSON.stringify({ r: 16 }));
    const reg = await runCli(
      [
        "--workspace",
        ws,
        "train",
        "register",
        "--name",
        "mine",
        "--base",
        "Qwen/Qwen3-8B",
        "--path",
        adapter,
      ],
      { cwd: dir },
    );
    expect(reg.code, reg.stderr).toBe(0);
    writeFileSync(join(dir, "specsci.yaml"), "serving:\n  slurm: { poll_s: 0.05 }\n");
    const p = port();
    const child = spawn(
      process.execPath,
      [BIN, "--workspace", ws, "train", "serve", "--slurm", "--port", String(p)],
      {
        cwd: dir,
        env: { ...process.env, SPECSCI_VLLM: VLLM },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    let err = "";
    child.stderr.on("data", (d: Buffer) => {
      err += d.toString();
    });
    const closed = new Promise<number | null>((r) => child.once("close", r));
    const until = Date.now() + 20_000;
    while (!out.includes("ready") && Date.now() < until)
      await new Promise((r) => setTimeout(r, 50));
    expect(out, err).toContain(`trained/external-mine (http://127.0.0.1:${p}/v1)`);
    expect(err).toContain("accept connections on 0.0.0.0 without authentication");
    child.kill("SIGINT");
    await closed;
    expect(calls(), `${out}\n${err}`).toContain("scancel 501");
  });
});
