/**
 * Model access layer throughput and overhead (npm run bench). Not a test: it prints a table and
 * the numbers go into bench/RESULTS.md by hand, with the machine they were measured on.
 *
 *  1. cache miss: N distinct requests through the whole layer (hash, cache lookup, limiter, OpenAI
 *     SDK over HTTP to the zero-latency loopback fake in another process, cache + call-log write)
 *     at concurrency 64;
 *  2. cached replay: the same N requests again, every one answered from the store;
 *  3. overhead: per-call time of the layer around the in-process fake provider (no network), at the
 *     median, and the median extra time of a layer call over a bare SDK call to the loopback fake.
 *
 * Each on SQLite and on PostgreSQL (bench/backends.ts).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { callMany, LlmClient } from "../src/llm/client.js";
import { ConfigSchema } from "../src/llm/config.js";
import { providerFetch } from "../src/llm/http.js";
import type { ChatRequest } from "../src/llm/types.js";
import { Store } from "../src/store/db.js";
import { type BenchBackend, onBackends } from "./backends.js";

const N = Number(process.env.BENCH_N ?? 20_000);
const CONCURRENCY = 64;
const SEQUENTIAL = 2_000;

let peakRss = 0;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 20);

function requests(n: number, tag: string): ChatRequest[] {
  return Array.from({ length: n }, (_, i) => ({
    messages: [
      { role: "system" as const, content: "You are a helpful assistant." },
      {
        role: "user" as const,
        content: `bench ${tag} request ${i}: summarize the value of human oversight.`,
      },
    ],
    params: { max_tokens: 64, temperature: 1 },
  }));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

async function main(backend: BenchBackend): Promise<void> {
  const server = spawn(
    process.execPath,
    ["--import", "tsx", join(import.meta.dirname, "fake-server-process.ts")],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const port = await new Promise<number>((resolve) =>
    server.stdout.once("data", (d: Buffer) => resolve(Number(d.toString().trim()))),
  );
  const base = `http://127.0.0.1:${port}/v1`;
  const rssAtStart = process.memoryUsage().rss;
  const dir = mkdtempSync(join(tmpdir(), "specsci-bench-"));
  const rows: [string, string][] = [];
  try {
    const store = Store.open(join(dir, "ws"), { url: backend.url });
    const config = ConfigSchema.parse({
      endpoints: { loop: { base_url: base, max_in_flight: CONCURRENCY } },
      providers: { fake: { max_in_flight: CONCURRENCY } },
    });
    const client = new LlmClient({ store, config });
    const model = client.model("loop/bench-model");

    // Warm up connections and JIT.
    await callMany(model, requests(500, "warmup"), {});

    const reqs = requests(N, "main");
    let t0 = performance.now();
    const missCpu0 = process.cpuUsage();
    const miss = await callMany(model, reqs, {});
    const missS = (performance.now() - t0) / 1000;
    const missCpu = process.cpuUsage(missCpu0);
    if (miss.some((o) => !o.ok || o.source !== "api"))
      throw new Error("cache-miss pass had failures or hits");
    rows.push([
      `cache miss, concurrency ${CONCURRENCY} (${N} calls)`,
      `${Math.round(N / missS)} calls/s`,
    ]);
    rows.push([
      "cache miss, CPU per call (this process)",
      `${((missCpu.user + missCpu.system) / N).toFixed(1)} µs`,
    ]);

    t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const hit = await callMany(model, reqs, {});
    const hitS = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    if (hit.some((o) => !o.ok || o.source !== "cache"))
      throw new Error("replay pass was not all cache hits");
    rows.push([`cached replay (${N} calls)`, `${Math.round(N / hitS)} calls/s`]);
    // CPU (user + sys) of this process: the machine is shared, so its wall time is noisy.
    rows.push(["cached replay, CPU per call", `${((cpu.user + cpu.system) / N).toFixed(1)} µs`]);

    // Layer overhead around a provider that costs nothing: the in-process fake.
    const fake = client.model("fake/echo");
    const fakeTimes: number[] = [];
    for (const r of requests(SEQUENTIAL, "fake")) {
      const t = performance.now();
      await fake.call(r);
      fakeTimes.push(performance.now() - t);
    }
    rows.push([
      "layer time per call, in-process fake provider (median)",
      `${median(fakeTimes).toFixed(3)} ms`,
    ]);

    // Extra time of a layer call over a bare SDK call to the same loopback server.
    // The same SDK set-up the layer uses (its fetch adapter), so only the layer differs.
    const sdk = new OpenAI({
      apiKey: "none",
      baseURL: base,
      maxRetries: 0,
      fetch: providerFetch,
      logLevel: "off",
    });
    const bare: number[] = [];
    const layered: number[] = [];
    const seq = requests(SEQUENTIAL, "seq");
    for (const [i, r] of seq.entries()) {
      let t = performance.now();
      await sdk.chat.completions.create({
        model: "bench-model",
        messages: r.messages,
        max_tokens: 64,
        temperature: 1,
      });
      bare.push(performance.now() - t);
      t = performance.now();
      await model.call({ ...r, sampleIndex: i + 1 });
      layered.push(performance.now() - t);
    }
    rows.push(["bare SDK call to loopback fake (median)", `${median(bare).toFixed(3)} ms`]);
    rows.push(["same call through the layer (median)", `${median(layered).toFixed(3)} ms`]);
    rows.push([
      "layer overhead over the bare SDK call (median)",
      `${(median(layered) - median(bare)).toFixed(3)} ms`,
    ]);
    store.close();
  } finally {
    clearInterval(sampler);
    server.kill("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
  }
  const mib = (b: number) => `${Math.round(b / 2 ** 20)} MiB`;
  rows.push(["client RSS after loading modules (tsx, SDKs, SQLite)", mib(rssAtStart)]);
  rows.push([
    "peak RSS of the client process",
    mib(Math.max(peakRss, process.resourceUsage().maxRSS * 1024)),
  ]);

  const width = Math.max(...rows.map((r) => r[0].length));
  process.stdout.write(
    `\nspecsci model access layer, store on ${backend.name} — ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}\n\n`,
  );
  for (const [k, v] of rows) process.stdout.write(`${k.padEnd(width)}  ${v}\n`);
}

await onBackends(main);
