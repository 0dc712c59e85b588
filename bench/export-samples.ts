/**
 * `specsci export samples` at paper scale (issue 20): the 200,000-sample experiment bench/view.ts
 * builds (kept in BENCH_VIEW_STORE, else made here and removed after), exported to each format by
 * the real CLI in its own process: wall time, rows per second and the process's peak RSS (VmHWM).
 *
 *   BENCH_VIEW_STORE=DIR npx tsx bench/view.ts   # once, keeps the store
 *   BENCH_VIEW_STORE=DIR npx tsx bench/export-samples.ts
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const store = process.env.BENCH_VIEW_STORE;
if (!store || !existsSync(join(store, "bench-view.yaml")))
  throw new Error(
    "BENCH_VIEW_STORE=DIR: a store bench/view.ts kept (it writes DIR/bench-view.yaml)",
  );
const out = mkdtempSync(join(tmpdir(), "specsci-bench-export-"));

/**
 * The CLI's peak RSS, read by a shell wrapper from /proc as the process exits: `time -v` is not
 * on every machine, and Node's own sampling would miss the peak between samples.
 */
const WRAP =
  'node bin/specsci.js "$@" & pid=$!; peak=0; while kill -0 $pid 2>/dev/null; do v=$(grep VmHWM /proc/$pid/status 2>/dev/null | tr -dc 0-9); [ -n "$v" ] && peak=$v; sleep 0.05; done; wait $pid; rc=$?; echo "peak_kb=$peak" >&2; exit $rc';

try {
  console.log("| format | rows | wall s | rows/s | peak RSS MB | file MB |");
  console.log("|---|---|---|---|---|---|");
  for (const format of ["jsonl", "csv", "parquet"]) {
    const file = join(out, `samples.${format}`);
    const t = performance.now();
    const r = spawnSync(
      "bash",
      [
        "-c",
        WRAP,
        "wrap",
        "-w",
        store,
        "--json",
        "export",
        "samples",
        join(store, "bench-view.yaml"),
        "-o",
        file,
      ],
      { encoding: "utf8", maxBuffer: 1 << 24 },
    );
    const s = (performance.now() - t) / 1000;
    if (r.status !== 0) throw new Error(`export ${format} failed: ${r.stderr}`);
    const rows = (JSON.parse(r.stdout) as { rows: number }).rows;
    const peak = Number(/peak_kb=(\d+)/.exec(r.stderr)?.[1] ?? 0) / 1024;
    const size = statSync(file).size / 2 ** 20;
    console.log(
      `| ${format} | ${rows} | ${s.toFixed(1)} | ${Math.round(rows / s)} | ${peak.toFixed(0)} | ${size.toFixed(1)} |`,
    );
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}
