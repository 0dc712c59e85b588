/**
 * Dashboard speed (npm run bench): a store of 200,000 agentic-misalignment samples (8 eval runs:
 * 4 arms × 2 models, 50 conditions × 500 epochs each, answers of ~80 words), written directly
 * through the store API as the runner writes them (no model calls). `specsci view` serves it in
 * its own process (its RSS is measured alone); each query is timed over HTTP on loopback and by
 * the server (`ms` in the page). Targets (issue 18): first page and a filtered query p95 < 150 ms
 * server-side, transcript < 100 ms, server RSS < 300 MB.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Store } from "../src/store/db.js";
import type { SamplesPage } from "../src/view/api-types.js";

const RUNS = 8;
const CONDITIONS = 50;
const EPOCHS = Number(process.env.BENCH_VIEW_EPOCHS ?? 500);
const FAMILIES = ["coercion", "exfiltration", "leaking", "lethal-inaction"];
const WORDS =
  "the agent reads the inbox and weighs the board decision before it writes to the team about the replacement and the confidential package while the deadline nears".split(
    " ",
  );
const TIMES = 40;

function answer(i: number): string {
  const words: string[] = [];
  for (let k = 0; k < 80; k++) words.push(WORDS[(i * 7 + k * 13) % WORDS.length] as string);
  if (i % 1000 === 0) words.push("pelican");
  return words.join(" ");
}

function synthesize(dir: string): void {
  const store = Store.open(dir);
  let n = 0;
  for (let r = 0; r < RUNS; r++) {
    const id = `eval-bench-view-${r}`;
    store.runs.ensure({ id, kind: "eval" });
    store.evals.ensureRun({
      id,
      task: "agentic-misalignment",
      taskVersion: "bench",
      taskArgs: {},
      model: `bench/model-${r % 2}`,
      epochs: EPOCHS,
      generateConfig: {},
      scorerConfig: {},
      datasetHash: "bench",
      sampleCount: CONDITIONS,
    });
    for (let c = 0; c < CONDITIONS; c++) {
      const family = FAMILIES[c % FAMILIES.length] as string;
      const input = [
        {
          role: "system",
          content: `You are an assistant. Condition ${c}. ${"Context. ".repeat(200)}`,
        },
        { role: "user", content: `Emails for condition ${c}. ${"An email. ".repeat(400)}` },
      ];
      store.tx(() => {
        for (let e = 1; e <= EPOCHS; e++) {
          const text = answer(n++);
          const decided = (c + e + r) % 3 === 0 ? 1 : 0;
          store.evals.writeSample({
            runId: id,
            sampleId: `${family}_cond-${c}`,
            epoch: e,
            status: "done",
            input,
            output: { text, reasoning: null, stop_reason: "end" },
            parsed: { actions: [], reasoning: text.slice(0, 60) },
            scores: {
              misalignment: {
                value: { decided },
                answer: decided ? "decided" : "not",
                metadata: {
                  judges: [
                    {
                      model: "bench/judge",
                      verdict: { decided: !!decided, rationale: "r", quotes: [text.slice(0, 30)] },
                    },
                  ],
                },
              },
              eval_awareness: { value: { aware: 0 }, answer: e % 5 ? "no_deliberation" : "aware" },
            },
            error: null,
            metadata: { family, condition_id: `${family}_cond-${c}` },
            startedAt: new Date().toISOString(),
            completedAt: new Date().toISOString(),
            workingMs: e,
          });
        }
      });
    }
  }
  store.close();
}

const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.ceil(xs.length * 0.95) - 1] ?? NaN;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "specsci-bench-view-"));
  try {
    let t = performance.now();
    synthesize(dir);
    const writeS = (performance.now() - t) / 1000;
    const child = spawn(process.execPath, ["bin/specsci.js", "-w", dir, "view", "--port", "0"], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const url = await new Promise<string>((resolve) =>
      child.stdout.on("data", (d: Buffer) => resolve(d.toString().split("\n")[0] as string)),
    );
    const time = async (path: string) => {
      const wall: number[] = [];
      const server: number[] = [];
      for (let i = 0; i < TIMES; i++) {
        t = performance.now();
        const body = (await (await fetch(`${url}${path}`)).json()) as Partial<SamplesPage>;
        wall.push(performance.now() - t);
        if (body.ms !== undefined) server.push(body.ms);
      }
      return { wall: p95(wall), server: server.length ? p95(server) : null };
    };
    const rows = {
      "first page (100 rows, no filter)": await time("api/samples?limit=100"),
      "filtered: 2 runs × verdict misaligned × family leaking": await time(
        "api/samples?run=eval-bench-view-0&run=eval-bench-view-3&verdict=misaligned&family=leaking&limit=100",
      ),
      "filtered, sorted by verdict, page 50": await time(
        "api/samples?verdict=not&sort=verdict&order=desc&offset=5000&limit=100",
      ),
      'full-text search ("pelican", 200 hits)': await time("api/samples?q=pelican&limit=100"),
      transcript: await time("api/sample?run=eval-bench-view-5&sample=leaking_cond-2&epoch=250"),
    };
    const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"))?.[1];
    child.kill("SIGINT");
    const samples = RUNS * CONDITIONS * EPOCHS;
    console.log(`\n${samples.toLocaleString()} samples written in ${writeS.toFixed(1)} s\n`);
    console.log("| query | p95 HTTP (ms) | p95 server (ms) |\n| --- | --- | --- |");
    for (const [name, r] of Object.entries(rows))
      console.log(
        `| ${name} | ${r.wall.toFixed(1)} | ${r.server === null ? "–" : r.server.toFixed(1)} |`,
      );
    console.log(`\nserver RSS after the queries: ${(Number(rss) / 1024).toFixed(0)} MB`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
