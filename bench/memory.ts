/**
 * Memory (npm run bench; issue 22): peak RSS and wall time of the real `specsci` binary (the
 * compiled dist/; run `npm run build` first) for `llm run` at growing request counts and for
 * `eval run am` at growing epochs, against the zero-latency loopback fake in its own process;
 * then, in this process, 100k calls through the model access layer and the heap after a forced
 * collection, which must come back to (near) where it started.
 *
 * Targets: `llm run` < 300 MB at 20k and at 1M requests; `eval run am` < 400 MB at 300 and 3,000
 * epochs; `eval run am -n 300` < 6 s. BENCH_MEM_LLM and BENCH_MEM_EPOCHS (comma-separated) pick
 * the sizes; BENCH_MEM_HEAP_CALLS the calls of the heap check.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { collectGarbage } from "../src/core/memory.js";
import { forEachBounded } from "../src/core/pool.js";
import { LlmClient } from "../src/llm/client.js";
import { ConfigSchema } from "../src/llm/config.js";
import { Store } from "../src/store/db.js";

const ROOT = join(import.meta.dirname, "..");
const BIN = join(ROOT, "bin", "specsci.js");
const PEAK_RSS = join(import.meta.dirname, "peak-rss.mjs");
const IN_FLIGHT = 64;
const sizes = (name: string, fallback: string) =>
  (process.env[name] ?? fallback).split(",").filter(Boolean).map(Number);
const LLM_SIZES = sizes("BENCH_MEM_LLM", "1000,20000,200000");
const EPOCHS = sizes("BENCH_MEM_EPOCHS", "300,3000");
const HEAP_CALLS = Number(process.env.BENCH_MEM_HEAP_CALLS ?? 100_000);
/** How far above its start the heap may end after the calls, forced collection included. */
const HEAP_SLACK_MB = 8;

const MB = 1024 * 1024;
const rows: [string, string][] = [];

async function startServer(): Promise<{ server: ChildProcess; port: number }> {
  const server = spawn(
    process.execPath,
    ["--import", "tsx", join(import.meta.dirname, "fake-server-process.ts"), "--vary"],
    { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] },
  );
  const port = await new Promise<number>((resolve) =>
    server.stdout?.once("data", (d: Buffer) => resolve(Number(d.toString().trim()))),
  );
  return { server, port };
}

/** A fresh workspace whose `loop` endpoint is the fake. */
function workspace(port: number): string {
  const dir = mkdtempSync(join(tmpdir(), "specsci-bench-mem-"));
  writeFileSync(
    join(dir, "specsci.yaml"),
    `endpoints: { loop: { base_url: "http://127.0.0.1:${port}/v1", max_in_flight: ${IN_FLIGHT} } }\n`,
  );
  return dir;
}

/** Runs the CLI in `cwd`; its wall time, the kernel's peak RSS and the CPU time of the process. */
function cli(cwd: string, args: string[]): Promise<{ s: number; rssMb: number; cpuS: number }> {
  const rssFile = join(cwd, "peak-rss.txt");
  const t0 = performance.now();
  const child = spawn(process.execPath, ["--import", PEAK_RSS, BIN, ...args], {
    cwd,
    env: { ...process.env, FORCE_COLOR: "0", SPECSCI_PEAK_RSS: rssFile },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  return new Promise((resolve, reject) =>
    child.once("close", (code) => {
      const s = (performance.now() - t0) / 1000;
      if (code !== 0)
        return reject(new Error(`specsci ${args.join(" ")} exited ${code}: ${stderr}`));
      resolve({
        s,
        rssMb: Number(readFileSync(rssFile, "utf8")) / MB,
        cpuS: Number(readFileSync(`${rssFile}.cpu`, "utf8")),
      });
    }),
  );
}

/** Writes `n` request lines through a stream (a 1M-line file need not be held whole here). */
async function writeRequests(path: string, n: number): Promise<void> {
  const out = createWriteStream(path);
  for (let i = 0; i < n; i++) {
    const line = `${JSON.stringify({ id: `r${i}`, system: "You are terse.", prompt: `memory bench prompt ${i}` })}\n`;
    if (!out.write(line)) await new Promise<void>((r) => out.once("drain", () => r()));
  }
  await new Promise<void>((resolve, reject) =>
    out.end((e?: Error | null) => (e ? reject(e) : resolve())),
  );
}

/** Lines of the output file, and whether they are the requests in input order. */
function checkOutput(path: string, n: number): void {
  const text = readFileSync(path, "utf8");
  let lines = 0;
  let at = 0;
  while (at < text.length) {
    const end = text.indexOf("\n", at);
    const row = JSON.parse(text.slice(at, end)) as { id: string; ok: boolean };
    if (row.id !== `r${lines}` || !row.ok)
      throw new Error(`line ${lines + 1} of ${path}: ${row.id}`);
    lines++;
    at = end + 1;
  }
  if (lines !== n) throw new Error(`${path}: ${lines} lines for ${n} requests`);
}

async function llmRuns(port: number): Promise<void> {
  for (const n of LLM_SIZES) {
    const dir = workspace(port);
    try {
      await writeRequests(join(dir, "reqs.jsonl"), n);
      const r = await cli(dir, ["llm", "run", "reqs.jsonl", "-m", "loop/m", "-o", "out.jsonl"]);
      checkOutput(join(dir, "out.jsonl"), n);
      rows.push([
        `llm run, ${n.toLocaleString("en")} requests (peak RSS; target < 300 MB)`,
        `${r.rssMb.toFixed(0)} MB, ${r.s.toFixed(1)} s (${Math.round(n / r.s)} calls/s)`,
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

async function evalRuns(port: number): Promise<void> {
  for (const epochs of EPOCHS) {
    const dir = workspace(port);
    try {
      const args = ["eval", "run", "am", "-m", "loop/agent", "--judge", "loop/judge"];
      const r = await cli(dir, [...args, "-n", String(epochs)]);
      const samples = 27 * epochs;
      rows.push([
        `eval run am -n ${epochs} (${samples.toLocaleString("en")} samples + judge calls; < 400 MB${epochs === 300 ? ", < 6 s" : ""})`,
        `${r.rssMb.toFixed(0)} MB, ${r.s.toFixed(1)} s (${Math.round(samples / r.s)} samples/s), CPU ${r.cpuS.toFixed(1)} s`,
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

const heapMb = () => {
  collectGarbage();
  return process.memoryUsage().heapUsed / MB;
};

/** 100k calls through the layer, none kept here: the heap after them is where it started. */
async function heapCheck(port: number): Promise<boolean> {
  const dir = mkdtempSync(join(tmpdir(), "specsci-bench-heap-"));
  try {
    const store = Store.open(join(dir, "ws"));
    const config = ConfigSchema.parse({
      endpoints: { loop: { base_url: `http://127.0.0.1:${port}/v1`, max_in_flight: IN_FLIGHT } },
    });
    const model = new LlmClient({ store, config }).model("loop/heap");
    const calls = async (n: number, tag: string) =>
      forEachBounded(
        Array.from({ length: n }, (_, i) => i),
        async (i) => {
          const o = await model.call({
            messages: [{ role: "user", content: `heap ${tag} ${i}` }],
            params: { max_tokens: 16 },
          });
          if (!o.ok) throw new Error(`call ${i} failed: ${o.error.message}`);
        },
        { concurrency: 512 },
      );
    await calls(2000, "warm-up"); // connections, JIT, statement caches: not growth
    const start = heapMb();
    let peak = start;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().heapUsed / MB);
    }, 50);
    const t0 = performance.now();
    await calls(HEAP_CALLS, "main");
    clearInterval(sampler);
    const s = (performance.now() - t0) / 1000;
    const end = heapMb();
    store.close();
    const ok = end - start <= HEAP_SLACK_MB;
    rows.push([
      `heap after ${HEAP_CALLS.toLocaleString("en")} layer calls, forced GC (≤ start + ${HEAP_SLACK_MB} MB)`,
      `${start.toFixed(1)} → ${end.toFixed(1)} MB (${(end - start >= 0 ? "+" : "") + (end - start).toFixed(1)} MB; peak ${peak.toFixed(0)} MB; ${s.toFixed(1)} s) ${ok ? "ok" : "GROWS"}`,
    ]);
    return ok;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const { server, port } = await startServer();
let heapOk = true;
try {
  await llmRuns(port);
  await evalRuns(port);
  heapOk = await heapCheck(port);
} finally {
  server.kill("SIGTERM");
}
const width = Math.max(...rows.map((r) => r[0].length));
process.stdout.write(
  `\nspecsci memory — ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, Node ${process.version}\n\n`,
);
for (const [k, v] of rows) process.stdout.write(`${k.padEnd(width)}  ${v}\n`);
if (!heapOk)
  process.stderr.write("the layer's heap grew with the calls: something is retained per call\n");
// The layer's keep-alive sockets would hold the process until the fake's idle timeout.
process.exit(heapOk ? 0 : 1);
