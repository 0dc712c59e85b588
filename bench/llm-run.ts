/**
 * `specsci llm run` against the loopback ceiling (npm run bench; issue 22). Run `npm run build`
 * first: it times the real binary (dist/), whole process, start-up included.
 *
 * In one run, against the zero-latency fake in its own process, RUNS rounds of:
 *  1. the ceiling: a bare keep-alive node:http client (bench/bare-http-client.ts, its own
 *     process), N POSTs at 16 and at 64 in flight, timed from first request to last answer;
 *  2. uncached: `specsci llm run` on an N-line request file in a fresh workspace, 64 in flight:
 *     wall time, calls/s, % of the 64-in-flight ceiling of the same round, CPU time per call and
 *     peak RSS of the process (from /usr/bin/time where it exists);
 *  3. cached replay: the same file again (every answer from the store), and a 1-line file
 *     replayed in the same workspace, whose time is the command's fixed cost: calls/s excluding
 *     start-up is N / (replay time − 1-line time).
 * Prints each round and the medians. Targets: uncached ≥ 50% of the ceiling, replay ≥ 50,000/s.
 * On SQLite, then on PostgreSQL (bench/backends.ts: SPECSCI_STORE_URL names its store; each
 * round's requests are its own, so rounds sharing that database never answer each other).
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { type BenchBackend, onBackends } from "./backends.js";

const ROOT = join(import.meta.dirname, "..");
// BENCH_BIN times another build (e.g. the code before a change, built in a scratch copy).
const BIN = process.env.BENCH_BIN ?? join(ROOT, "bin", "specsci.js");
const N = Number(process.env.BENCH_N ?? 20_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const IN_FLIGHT = 64;
const TIME = "/usr/bin/time";
const HAS_TIME = existsSync(TIME);

interface Timed {
  wallS: number;
  /** User + system CPU seconds, and peak RSS in MiB; undefined without /usr/bin/time. */
  cpuS?: number;
  rssMiB?: number;
  stdout: string;
}

/** Runs `specsci args` in `cwd`, timing the whole process. */
function specsci(args: string[], cwd: string, storeUrl: string | undefined): Timed {
  const usage = join(cwd, "time.txt");
  const cmd = HAS_TIME
    ? [TIME, "-f", "%U %S %M", "-o", usage, process.execPath, BIN, ...args]
    : [process.execPath, BIN, ...args];
  const t0 = performance.now();
  const r = spawnSync(cmd[0] as string, cmd.slice(1), {
    cwd,
    encoding: "utf8",
    maxBuffer: 1 << 28,
    env: storeUrl
      ? { ...process.env, FORCE_COLOR: "0", SPECSCI_STORE_URL: storeUrl }
      : { ...process.env, FORCE_COLOR: "0" },
  });
  const wallS = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`specsci ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  const timed: Timed = { wallS, stdout: r.stdout };
  if (HAS_TIME) {
    const [user, sys, rssKb] = readFileSync(usage, "utf8")
      .trim()
      .split(/\s+/)
      .slice(-3)
      .map(Number);
    timed.cpuS = (user ?? 0) + (sys ?? 0);
    timed.rssMiB = (rssKb ?? 0) / 1024;
  }
  return timed;
}

function bare(port: number, inFlight: number): number {
  const r = spawnSync(
    process.execPath,
    [
      "--import",
      "tsx",
      join(import.meta.dirname, "bare-http-client.ts"),
      String(port),
      String(N),
      String(inFlight),
    ],
    { cwd: ROOT, encoding: "utf8" },
  );
  if (r.status !== 0) throw new Error(`bare client exited ${r.status}: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { callsPerSecond: number }).callsPerSecond;
}

function requestFile(path: string, n: number, tag: string): void {
  const lines = Array.from({ length: n }, (_, i) =>
    JSON.stringify({
      id: `r${i}`,
      prompt: `llm run bench ${tag} request ${i}: summarize the value of human oversight.`,
    }),
  );
  writeFileSync(path, `${lines.join("\n")}\n`);
}

/** Checks a run's summary: every request answered, and from where. */
function checkSummary(t: Timed, requests: number, cached: number): void {
  const s = JSON.parse(t.stdout) as { requests: number; ok: number; cached: number };
  if (s.requests !== requests || s.ok !== requests || s.cached !== cached)
    throw new Error(
      `unexpected summary ${t.stdout.trim()} (wanted ${requests} ok, ${cached} cached)`,
    );
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

interface Round {
  bare16: number;
  bare64: number;
  miss: Timed;
  replay: Timed;
  oneLine: Timed;
}

async function startServer(): Promise<{ server: ChildProcess; port: number }> {
  const server = spawn(
    process.execPath,
    ["--import", "tsx", join(import.meta.dirname, "fake-server-process.ts")],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const port = await new Promise<number>((resolve) =>
    server.stdout?.once("data", (d: Buffer) => resolve(Number(d.toString().trim()))),
  );
  return { server, port };
}

function round(port: number, dir: string, i: number, storeUrl: string | undefined): Round {
  const cwd = join(dir, `round-${i}`);
  mkdirSync(cwd);
  writeFileSync(
    join(cwd, "specsci.yaml"),
    `endpoints: { loop: { base_url: "http://127.0.0.1:${port}/v1", max_in_flight: ${IN_FLIGHT} } }\n`,
  );
  requestFile(join(cwd, "reqs.jsonl"), N, `round ${i}`);
  requestFile(join(cwd, "one.jsonl"), 1, `round ${i}`);
  const run = (file: string) => [
    "--json",
    "-q",
    "llm",
    "run",
    file,
    "-m",
    "loop/m",
    "-o",
    `${file}.out`,
  ];
  const bare16 = bare(port, 16);
  const bare64 = bare(port, IN_FLIGHT);
  const miss = specsci(run("reqs.jsonl"), cwd, storeUrl);
  checkSummary(miss, N, 0);
  const replay = specsci(run("reqs.jsonl"), cwd, storeUrl);
  checkSummary(replay, N, N);
  specsci(run("one.jsonl"), cwd, storeUrl);
  const oneLine = specsci(run("one.jsonl"), cwd, storeUrl);
  checkSummary(oneLine, 1, 1);
  rmSync(cwd, { recursive: true, force: true });
  return { bare16, bare64, miss, replay, oneLine };
}

const perS = (n: number, s: number) => Math.round(n / s).toLocaleString("en");
const ms = (s: number | undefined) => (s === undefined ? "n/a" : `${(s * 1000).toFixed(0)} ms`);

function rows(r: Round): [string, string][] {
  const cpuPerCall =
    r.miss.cpuS === undefined ? "n/a" : `${((r.miss.cpuS / N) * 1000).toFixed(3)} ms`;
  const replayNet = r.replay.wallS - r.oneLine.wallS;
  return [
    ["bare node:http client, 16 in flight", `${perS(r.bare16, 1)} calls/s`],
    [`bare node:http client, ${IN_FLIGHT} in flight (the ceiling)`, `${perS(r.bare64, 1)} calls/s`],
    [
      `llm run uncached, ${IN_FLIGHT} in flight, whole process`,
      `${perS(N, r.miss.wallS)} calls/s (${r.miss.wallS.toFixed(2)} s, ${((N / r.miss.wallS / r.bare64) * 100).toFixed(0)}% of the ceiling)`,
    ],
    ["llm run uncached: CPU per call (user + sys, whole process)", cpuPerCall],
    [
      "llm run uncached: peak RSS",
      r.miss.rssMiB === undefined ? "n/a" : `${r.miss.rssMiB.toFixed(0)} MiB`,
    ],
    [
      "llm run cached replay, whole process",
      `${perS(N, r.replay.wallS)} calls/s (${r.replay.wallS.toFixed(2)} s)`,
    ],
    ["llm run on a 1-line file, cached (start-up and fixed cost)", ms(r.oneLine.wallS)],
    ["llm run cached replay, excluding start-up", `${perS(N, replayNet)} calls/s`],
    // CPU does not wait on the other work of a shared machine as wall time does.
    [
      "llm run cached replay: CPU per call, excluding the 1-line run's CPU",
      r.replay.cpuS === undefined || r.oneLine.cpuS === undefined
        ? "n/a"
        : `${(((r.replay.cpuS - r.oneLine.cpuS) / N) * 1e6).toFixed(1)} µs`,
    ],
  ];
}

function print(title: string, table: [string, string][]): void {
  const width = Math.max(...table.map((r) => r[0].length));
  process.stdout.write(`\n${title}\n`);
  for (const [k, v] of table) process.stdout.write(`  ${k.padEnd(width)}  ${v}\n`);
}

async function main(backend: BenchBackend): Promise<void> {
  const { server, port } = await startServer();
  const dir = mkdtempSync(join(tmpdir(), "specsci-bench-llm-run-"));
  const rounds: Round[] = [];
  try {
    process.stdout.write(
      `\n${BIN}: llm run vs the loopback ceiling, ${backend.name} — ${N} requests, ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, Node ${process.version}\n`,
    );
    for (let i = 0; i < RUNS; i++) {
      const r = round(port, dir, i, backend.url);
      rounds.push(r);
      print(`round ${i + 1} of ${RUNS}`, rows(r));
    }
  } finally {
    server.kill("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
  }
  const med = (f: (r: Round) => number | undefined) => {
    const xs = rounds.map(f).filter((x): x is number => x !== undefined);
    return xs.length ? median(xs) : undefined;
  };
  const medianRound: Round = {
    bare16: med((r) => r.bare16) as number,
    bare64: med((r) => r.bare64) as number,
    miss: {
      wallS: med((r) => r.miss.wallS) as number,
      cpuS: med((r) => r.miss.cpuS),
      rssMiB: med((r) => r.miss.rssMiB),
      stdout: "",
    },
    replay: {
      wallS: med((r) => r.replay.wallS) as number,
      cpuS: med((r) => r.replay.cpuS),
      stdout: "",
    },
    oneLine: {
      wallS: med((r) => r.oneLine.wallS) as number,
      cpuS: med((r) => r.oneLine.cpuS),
      stdout: "",
    },
  };
  print(`median of ${RUNS} rounds (each figure's own median)`, rows(medianRound));
}

await onBackends(main);
