/** The measured half of bench/report.ts: builds one report in a fresh process and prints its cost. */
import { statSync } from "node:fs";
import { codeVersion } from "../src/core/provenance.js";
import { loadExperiment } from "../src/experiment/config.js";
import { buildStages } from "../src/experiment/stages.js";
import { LlmClient } from "../src/llm/client.js";
import { defaultConfig } from "../src/llm/config.js";
import { experimentResults, writeReport } from "../src/report/index.js";
import { Store } from "../src/store/db.js";

const [ws, file, out] = process.argv.slice(2) as [string, string, string];
const t0 = performance.now();
const store = Store.open(ws);
const client = new LlmClient({ store, config: defaultConfig() });
const loaded = loadExperiment(file);
const data = experimentResults(loaded, await buildStages(loaded, client), store, codeVersion());
const written = await writeReport(data, out);
const buildS = (performance.now() - t0) / 1000;
store.close();
process.stdout.write(
  JSON.stringify({
    buildS,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    htmlKb: statSync(written.html).size / 1024,
  }),
);
