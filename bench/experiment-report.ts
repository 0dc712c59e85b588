/**
 * The Experiment page's report alone, on a store bench/view.ts kept (BENCH_VIEW_STORE=DIR npx tsx
 * bench/view.ts makes one): what the dashboard's API computes on a first visit (the experiment's
 * report and its charts), timed in this process, with its peak RSS and heap. For a CPU profile:
 * `node --cpu-prof --import tsx bench/experiment-report.ts DIR`. With OUT=FILE it writes the
 * report's JSON (less `generatedAt`), to compare two versions of the code on the same store.
 *
 *   npx tsx bench/experiment-report.ts DIR
 */
import { writeFileSync } from "node:fs";
import { LlmClient } from "../src/llm/client.js";
import { ConfigSchema } from "../src/llm/config.js";
import { ratesOfReport } from "../src/report/index.js";
import { Store } from "../src/store/db.js";
import { ExperimentIndex } from "../src/view/experiments.js";

const dir = process.argv[2] ?? process.env.BENCH_VIEW_STORE;
if (!dir) throw new Error("give the store's folder (BENCH_VIEW_STORE of bench/view.ts)");
const store = Store.openReadOnly(dir);
const client = new LlmClient({ store, config: ConfigSchema.parse({}), cacheMode: "off" });
const index = new ExperimentIndex(client);
const [id] = index.ids();
if (!id) throw new Error(`${dir}: no experiment`);
// The stage graph first (the page's summary needs it too; not the report's work).
await index.stages(id);

// The page's fast path first (its rates table and main figure), on a fresh index, as a first visit.
const fastStart = performance.now();
const fast = await new ExperimentIndex(client).rates(id, 0);
const fastMs = performance.now() - fastStart;

let peak = 0;
const sampler = setInterval(() => {
  peak = Math.max(peak, process.memoryUsage.rss());
}, 20);
const t = performance.now();
const cpu = process.cpuUsage();
const value = await index.detail(id, 0);
const ms = performance.now() - t;
// CPU time as well: the machine is shared, so wall time moves with the others' load.
const used = process.cpuUsage(cpu);
const cpuMs = (used.user + used.system) / 1000;
clearInterval(sampler);
peak = Math.max(peak, process.memoryUsage.rss());
const mb = (b: number) => `${(b / 2 ** 20).toFixed(0)} MB`;
console.log(
  `report of ${id}: ${ms.toFixed(0)} ms (CPU ${cpuMs.toFixed(0)} ms), peak RSS ${mb(peak)}, heap now ${mb(process.memoryUsage().heapUsed)}`,
);
const same =
  JSON.stringify(fast?.rates) === JSON.stringify(value?.report && ratesOfReport(value.report));
console.log(
  `rates and main figure (the fast path): ${fastMs.toFixed(0)} ms, ${same ? "the same as the report's" : "NOT THE SAME AS THE REPORT'S"}`,
);
if (process.env.OUT) {
  const { generatedAt: _, ...report } = value?.report ?? { generatedAt: "" };
  writeFileSync(process.env.OUT, JSON.stringify({ report, charts: value?.charts ?? [] }));
}
store.close();
