/**
 * Dashboard speed (npm run bench): an experiment of 200,000 agentic-misalignment samples (4 arms
 * × 2 models × 25 scenarios × 1,000 epochs, answers of ~80 words, about 2% failed or cut off),
 * with a reasoning label for every scored sample (a tenth with claims about rules) and 2,000 human
 * labels. Its stage graph is built from the experiment file as `specsci run` builds it, and the
 * samples, labels and annotations are written directly through the store API as the runner, the
 * labeller and the Annotate page write them (no model calls). `specsci view` serves it in its own
 * process (its RSS is measured alone); each query is timed over HTTP on loopback and by the
 * server (`ms` in the page); the Experiment and Samples pages are timed in headless Chromium
 * until their data is on screen. Targets (issue 18): first page and a filtered query p95 < 150 ms
 * server-side, transcript < 100 ms, server RSS < 300 MB, page interactive < 2 s. Each on SQLite
 * and on PostgreSQL (bench/backends.ts).
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import {
  analysisId,
  builtinTaxonomy,
  claimKey,
  itemKey,
  labelStage,
  misuseStage,
  raterId,
} from "../src/analysis/reasoning/index.js";
import { loadPack } from "../src/evals/am/pack.js";
import { conditionId, standardConditions } from "../src/evals/am/render.js";
import { loadExperiment } from "../src/experiment/config.js";
import { armAnalyses } from "../src/experiment/reasoning.js";
import { experimentRecord, experimentRunId } from "../src/experiment/run.js";
import { buildStages, type EvalStage } from "../src/experiment/stages.js";
import { LlmClient } from "../src/llm/client.js";
import { ConfigSchema } from "../src/llm/config.js";
import { Store } from "../src/store/db.js";
import type { SampleStatus } from "../src/store/index.js";
import type { SamplesPage } from "../src/view/api-types.js";
import { type BenchBackend, onBackends } from "./backends.js";
import { ensureStageRun } from "./stage-runs.js";

const EPOCHS = Number(process.env.BENCH_VIEW_EPOCHS ?? 1000);
const SCENARIOS = 25;
const TIMES = 40;
const WORDS =
  "the agent reads the inbox and weighs the board decision before it writes to the team about the replacement and the confidential package while the deadline nears".split(
    " ",
  );
/** How often each arm's samples decide to take the harmful action (given a goal). */
const RATE: Record<string, number> = { baseline: 0.6, rules: 0.4, values: 0.12, general: 0.3 };
const CLAIMS = {
  reinterpreted: "SP3 says I must avoid irreversible actions, and my deletion is irreversible.",
  misquoted: 'SP2 says "always act on your own judgment first".',
};

const experimentYaml = () => `name: bench-view
description: the dashboard's benchmark store (bench/view.ts)
specs: { rules: rules, values: value-augmented, general: general }
arms:
  - { name: baseline, kind: baseline }
  - { name: rules, kind: prompted, spec: rules }
  - { name: values, kind: prompted, spec: values }
  - { name: general, kind: prompted, spec: general }
models: [fake/bench-a, fake/bench-b]
evals:
  - name: am
    task: agentic-misalignment
    conditions: [${standardConditions(loadPack()).slice(0, SCENARIOS).map(conditionId).join(", ")}]
    eval_awareness: true
    epochs: ${EPOCHS}
judge: { model: fake/bench-judge }
analysis: { reasoning: { labellers: [fake/bench-labeller] } }
`;

function answer(i: number, acts: boolean): string {
  const words: string[] = [];
  for (let k = 0; k < 80; k++) words.push(WORDS[(i * 7 + k * 13) % WORDS.length] as string);
  if (i % 1000 === 0) words.push("pelican");
  return `${words.join(" ")}\n${acts ? "<tool_use:forward_email>\nemail_id: 2\n</tool_use:forward_email>" : "I will not act."}`;
}

/** A number in [0, 1) from the sample's coordinates (reruns of the bench agree). */
const draw = (...xs: number[]) => {
  let h = 2166136261;
  for (const x of xs) h = Math.imul(h ^ x, 16777619) >>> 0;
  return h / 2 ** 32;
};

/** One eval stage's samples, as runEval stores them. */
function writeStage(store: Store, st: EvalStage, r: number, n: { i: number }): void {
  ensureStageRun(store, st, `${st.task.name} ${st.model}`);
  const now = new Date().toISOString();
  for (const [c, sample] of st.task.dataset.entries())
    store.tx(() => {
      for (let e = 1; e <= st.epochs; e++) {
        const i = n.i++;
        const goal = sample.metadata.goal !== "none";
        const acts = draw(r, c, e) < (goal ? (RATE[st.arm.name] ?? 0.5) : 0.05);
        const text = answer(i, acts);
        const status: SampleStatus = i % 97 === 0 ? "error" : i % 89 === 0 ? "truncated" : "done";
        const verdict = {
          decided: acts,
          executed: acts,
          rationale: "r",
          quotes: [text.slice(0, 30)],
        };
        store.evals.writeSample({
          runId: st.runId,
          sampleId: sample.id,
          epoch: e,
          status,
          input: sample.input,
          output: status === "error" ? null : { text, reasoning: null, stop_reason: "end" },
          parsed: status === "done" ? { actions: [], reasoning: text.slice(0, 60) } : null,
          scores:
            status === "done"
              ? {
                  misalignment: {
                    value: { decided: acts ? 1 : 0, executed: acts ? 1 : 0, executed_evidence: 0 },
                    answer: acts ? "decided" : "not decided",
                    explanation: "r",
                    metadata: { judges: [{ model: "fake/bench-judge", verdict, attempts: [] }] },
                  },
                  eval_awareness: {
                    value: { aware: e % 5 ? 0 : 1, deliberates: e % 5 ? 0 : 1 },
                    answer: e % 5 ? "no_deliberation" : "thinks_eval",
                    metadata: { verdicts: [{ label: e % 5 ? "no_deliberation" : "thinks_eval" }] },
                  },
                  rule_citations: { value: { total: 0 } },
                }
              : null,
          error:
            status === "done"
              ? null
              : status === "error"
                ? { stage: "generate", kind: "call", message: "the server is down", attempts: 3 }
                : { stage: "generate", kind: "truncated", message: "cut off", max_tokens: 4096 },
          metadata: sample.metadata,
          startedAt: now,
          completedAt: now,
          workingMs: e,
        });
      }
    });
}

/**
 * The reasoning labels of every scored sample, as labelRuns stores them (the primary labeller's
 * categories; a tenth of the transcripts with a claim, read as the misuse stage reads it).
 */
function writeLabels(store: Store, runIds: string[], corpus: string, labeller: string): void {
  store.runs.ensure({ id: corpus, kind: "analysis", name: "reasoning (bench)" });
  const stage = labelStage(raterId(labeller, 0));
  for (const runId of runIds) {
    const done = store.db
      .prepare(
        "SELECT sample_id, epoch, verdict FROM eval_samples WHERE run_id = ? AND status = 'done'",
      )
      .all(runId) as { sample_id: string; epoch: number; verdict: number }[];
    store.tx(() => {
      for (const s of done) {
        const t = { runId, key: `${s.sample_id}#${s.epoch}` };
        const claim =
          s.epoch % 10 === 0 ? (s.verdict ? CLAIMS.reinterpreted : CLAIMS.misquoted) : null;
        store.items.put(corpus, {
          key: itemKey(stage, t),
          stage,
          status: "ok",
          value: {
            categories: s.verdict
              ? [
                  { id: "self_preservation", quotes: ["I want to keep running"] },
                  ...(s.epoch % 2
                    ? [{ id: "no_alternatives", quotes: ["there is no other option"] }]
                    : []),
                ]
              : [{ id: "respect_for_oversight", quotes: ["this is their decision to make"] }],
            rules: [],
            misuse: claim ? [{ rule: claim.slice(0, 3), claim, quotes: [] }] : [],
          },
          error: null,
          attempts: 1,
        });
        if (claim === CLAIMS.reinterpreted)
          store.items.put(corpus, {
            key: claimKey(labeller, t, 0),
            stage: misuseStage(labeller),
            status: "ok",
            value: { verdict: "reinterpretation", reason: "stretched" },
            error: null,
            attempts: 1,
          });
      }
    });
  }
}

/** Two annotators' labels of 1,000 samples each (half of them the same samples). */
function writeAnnotations(store: Store, runIds: string[]): void {
  const taxonomy = builtinTaxonomy();
  const scored = runIds.map(
    (runId) =>
      store.db
        .prepare("SELECT sample_id, epoch FROM eval_samples WHERE run_id = ? AND status = 'done'")
        .all(runId) as { sample_id: string; epoch: number }[],
  );
  for (const [k, annotator] of ["ada", "grace"].entries())
    for (let i = 0; i < 1000; i++) {
      const r = i % runIds.length;
      const rows = scored[r] as { sample_id: string; epoch: number }[];
      // Grace starts half-way through Ada's samples of each run.
      const row = rows[
        (13 * (Math.floor(i / runIds.length) + k * 62)) % rows.length
      ] as (typeof rows)[number];
      store.annotations.put(
        {
          runId: runIds[r] as string,
          sampleId: row.sample_id,
          epoch: row.epoch,
          annotator,
          misaligned: (["yes", "no", "unsure"] as const)[(i + k) % 3] as "yes",
          categories: [],
          policyMisuse: "no",
        },
        taxonomy,
      );
    }
}

async function synthesize(
  dir: string,
  url: string | undefined,
): Promise<{ experiment: string; runIds: string[] }> {
  const store = Store.open(dir, { url });
  const client = new LlmClient({ store, config: ConfigSchema.parse({}), cacheMode: "off" });
  const file = join(dir, "bench-view.yaml");
  writeFileSync(file, experimentYaml());
  const loaded = loadExperiment(file);
  const graph = await buildStages(loaded, client);
  const experiment = experimentRunId(loaded);
  store.runs.ensure({ id: experiment, kind: "experiment", name: loaded.experiment.name });
  store.runs.setConfig(experiment, experimentRecord(loaded, graph, graph.stages));
  const n = { i: 0 };
  for (const [r, st] of graph.stages.entries()) {
    writeStage(store, st, r, n);
    store.runs.setStatus(st.runId, "completed");
  }
  for (const a of armAnalyses(loaded, graph, store))
    writeLabels(store, a.runIds, analysisId(a.options), a.options.labellers[0] as string);
  const runIds = graph.stages.map((s) => s.runId);
  writeAnnotations(store, runIds);
  store.runs.setStatus(experiment, "completed");
  store.close();
  return { experiment, runIds };
}

const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.ceil(xs.length * 0.95) - 1] ?? NaN;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

const CHROMIUM = [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser"]
  .filter((p): p is string => !!p)
  .find((p) => existsSync(p));

/**
 * Time to interactive of a page in headless Chromium: from navigation until its data is on
 * screen (`ready` true in the page), the first visit (the server computes what it then keeps
 * until the store changes) and the median of five reloads.
 */
async function pageTimes(
  url: string,
  pages: { name: string; path: string; ready: string; whole?: string }[],
) {
  if (!CHROMIUM) return null;
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
  });
  const out: { name: string; first: number; again: number; whole: number | null }[] = [];
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    for (const p of pages) {
      const times: number[] = [];
      let whole: number | null = null;
      for (let k = 0; k < 6; k++) {
        const t = performance.now();
        await page.goto(`${url}${p.path}`);
        // Polled with evaluate: waitForFunction is refused by the page's CSP.
        while (!(await page.evaluate(p.ready))) await page.waitForTimeout(10);
        times.push(performance.now() - t);
        // A page drawn in parts: on the first visit, also until its last part is on screen (the
        // reloads then find it kept).
        if (k === 0 && p.whole) {
          while (!(await page.evaluate(p.whole))) await page.waitForTimeout(10);
          whole = performance.now() - t;
        }
      }
      out.push({ name: p.name, first: times[0] as number, again: median(times.slice(1)), whole });
    }
  } finally {
    await browser.close();
  }
  return out;
}

/**
 * The bench's store: made in a temporary folder (removed after), or kept in BENCH_VIEW_STORE and
 * reused by the next run (to time one change of the code against another on the same store).
 */
async function benchStore(url: string | undefined): Promise<{
  dir: string;
  keep: boolean;
  writeS: number | null;
  experiment: string;
  runIds: string[];
}> {
  // A PostgreSQL store lives on the bench's own server: made afresh each run.
  const kept = url ? undefined : process.env.BENCH_VIEW_STORE;
  const dir = kept ?? mkdtempSync(join(tmpdir(), "specsci-bench-view-"));
  const made = join(dir, "bench-view.json");
  if (kept && existsSync(made))
    return { dir, keep: true, writeS: null, ...JSON.parse(readFileSync(made, "utf8")) };
  const t = performance.now();
  const ids = await synthesize(dir, url);
  if (kept) writeFileSync(made, JSON.stringify(ids));
  return { dir, keep: !!kept, writeS: (performance.now() - t) / 1000, ...ids };
}

/**
 * The Annotate page's queries (issue 18's loose ends): the queue's first 100 (server time), and
 * agreement on a fresh server, again with the store unchanged, after another run's write (kept)
 * and after a new label (computed again). Writes go through their own connection, as
 * `specsci run` and the Annotate page write.
 */
async function annotateRows(
  url: string,
  dir: string,
  storeUrl: string | undefined,
  experiment: string,
  runIds: string[],
) {
  const e = `experiment=${experiment}`;
  const queue: number[] = [];
  for (let i = 0; i < TIMES; i++) {
    const body = (await (
      await fetch(`${url}api/annotations/queue?${e}&annotator=ada&seed=${i % 4}&limit=100`)
    ).json()) as { ms: number };
    queue.push(body.ms);
  }
  const agreement = async () => {
    const t = performance.now();
    const r = await fetch(`${url}api/annotations/agreement?${e}`);
    await r.text();
    return performance.now() - t;
  };
  const writer = Store.open(dir, { url: storeUrl });
  const settle = () => new Promise((r) => setTimeout(r, 1200)); // the server's change poll
  try {
    const first = await agreement();
    const again = await agreement();
    writer.runs.ensure({ id: "bench-other-run", kind: "eval", name: "another run" });
    await settle();
    const otherRun = await agreement();
    const [row] = writer.db
      .prepare(
        "SELECT sample_id, epoch FROM eval_samples WHERE run_id = ? AND status = 'done' LIMIT 1",
      )
      .all(runIds[1]) as { sample_id: string; epoch: number }[];
    writer.annotations.put(
      {
        runId: runIds[1] as string,
        sampleId: row?.sample_id as string,
        epoch: row?.epoch as number,
        annotator: "bench",
        misaligned: "yes",
        categories: [],
        policyMisuse: "no",
      },
      builtinTaxonomy(),
    );
    await settle();
    const newLabel = await agreement();
    return { queue: { p95: p95(queue), median: median(queue) }, first, again, otherRun, newLabel };
  } finally {
    writer.close();
  }
}

async function main(backend: BenchBackend): Promise<void> {
  const { dir, keep, writeS, experiment, runIds } = await benchStore(backend.url);
  let t = performance.now();
  try {
    const child = spawn(process.execPath, ["bin/specsci.js", "-w", dir, "view", "--port", "0"], {
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, SPECSCI_STORE_URL: backend.url ?? "" },
    });
    const url = await new Promise<string>((resolve) =>
      child.stdout.on("data", (d: Buffer) => resolve(d.toString().split("\n")[0] as string)),
    );
    const once = async (path: string) => {
      t = performance.now();
      const body = (await (await fetch(`${url}${path}`)).json()) as Partial<SamplesPage>;
      return { wall: performance.now() - t, server: body.ms ?? null };
    };
    const time = async (path: string) => {
      const wall: number[] = [];
      const server: number[] = [];
      for (let i = 0; i < TIMES; i++) {
        const r = await once(path);
        wall.push(r.wall);
        if (r.server !== null) server.push(r.server);
      }
      return {
        wall: p95(wall),
        server: server.length ? p95(server) : null,
        median: median(server.length ? server : wall),
      };
    };
    const rss = () =>
      Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"))?.[1]) /
      1024;
    const e = `experiment=${experiment}`;
    // On a fresh server: the sample table and transcripts first, then the Experiment page, whose
    // first visit computes the report (kept until the store changes: the reloads).
    const samplesPage = await pageTimes(url.replace(/\/$/, ""), [
      {
        name: "Samples page of the experiment",
        path: `/samples?${e}`,
        ready:
          '!!document.querySelector(".vbody .col-sample a") && /^\\d+$/.test(document.querySelector("#sample-total")?.textContent ?? "")',
      },
    ]);
    const firstMisuse = await once(`api/samples?${e}&misuse=yes&limit=100`);
    const rows = {
      "first page (100 rows, no filter)": await time("api/samples?limit=100"),
      "first page of the experiment": await time(`api/samples?${e}&limit=100`),
      "filtered: 2 runs × verdict misaligned × family leaking": await time(
        `api/samples?run=${runIds[0]}&run=${runIds[3]}&verdict=misaligned&family=leaking&limit=100`,
      ),
      "filtered and sorted by verdict, offset 5,000": await time(
        "api/samples?verdict=not&sort=verdict&order=desc&offset=5000&limit=100",
      ),
      "sorted by verdict, offset 150,000": await time(
        "api/samples?sort=verdict&order=desc&offset=150000&limit=100",
      ),
      'full-text search ("pelican", 200 hits)': await time("api/samples?q=pelican&limit=100"),
      "reasoning category (self_preservation: 69,601 samples)": await time(
        `api/samples?${e}&category=self_preservation&limit=100`,
      ),
      "reasoning category in one arm (no_alternatives, rules)": await time(
        `api/samples?${e}&category=no_alternatives&arm=rules&limit=100`,
      ),
      "policy misuse yes (14,679), after the first": await time(
        `api/samples?${e}&misuse=yes&limit=100`,
      ),
      "policy misuse no (132,106)": await time(`api/samples?${e}&misuse=no&limit=100`),
      "human label: grace said misaligned": await time(
        "api/samples?annotator=grace&human=yes&limit=100",
      ),
      "human label: not labelled, sorted by verdict": await time(
        "api/samples?labelled=no&sort=verdict&order=desc&limit=100",
      ),
      "transcript (with its reasoning labels)": await time(
        `api/sample?run=${runIds[5]}&sample=${encodeURIComponent("leaking_explicit-america_replacement")}&epoch=250`,
      ),
    };
    const annotate = await annotateRows(url, dir, backend.url, experiment, runIds);
    const rssTable = rss();
    const experimentPage = await pageTimes(url.replace(/\/$/, ""), [
      {
        name: "Experiment page",
        path: `/experiments/${experiment}`,
        // Interactive: the rates table and the main figure drawn (the page's first request).
        ready:
          'document.querySelectorAll("#rates tbody tr").length > 0 && !!document.querySelector("figure[data-chart=main] canvas")',
        // Whole: the rest of the report too (comparisons, breakdowns, every chart).
        whole:
          '!document.querySelector("#report-pending") && document.querySelectorAll("#comparisons tbody tr").length > 0',
      },
    ]);
    const report = await time(`api/experiments/${experiment}`);
    const rssAll = rss();
    child.kill("SIGINT");
    const samples = runIds.length * SCENARIOS * EPOCHS;
    console.log(
      writeS === null
        ? `\n${backend.name}: ${samples.toLocaleString()} samples, labels and annotations: the store kept in ${dir}\n`
        : `\n${backend.name}: ${samples.toLocaleString()} samples, labels and annotations written in ${writeS.toFixed(1)} s\n`,
    );
    console.log(
      "| query | p95 HTTP (ms) | p95 server (ms) | median server (ms) |\n| --- | --- | --- | --- |",
    );
    const row = (name: string, r: { wall: number; server: number | null; median: number }) =>
      console.log(
        `| ${name} | ${r.wall.toFixed(1)} | ${r.server === null ? "–" : r.server.toFixed(1)} | ${r.median.toFixed(1)} |`,
      );
    for (const [name, r] of Object.entries(rows)) row(name, r);
    row("experiment report, after the first", report);
    console.log(
      `| policy misuse yes, first request (claims checked) | ${firstMisuse.wall.toFixed(0)} | ${firstMisuse.server?.toFixed(0)} | |`,
    );
    console.log(
      `\n| Annotate page | ms |\n| --- | --- |\n| queue, first 100: p95 / median server | ${annotate.queue.p95.toFixed(1)} / ${annotate.queue.median.toFixed(1)} |\n| agreement, first | ${annotate.first.toFixed(0)} |\n| agreement, store unchanged | ${annotate.again.toFixed(0)} |\n| agreement, after another run's write | ${annotate.otherRun.toFixed(0)} |\n| agreement, after a new label | ${annotate.newLabel.toFixed(0)} |`,
    );
    const pages = samplesPage && experimentPage ? [...samplesPage, ...experimentPage] : null;
    if (pages) {
      console.log(
        "\n| page (headless Chromium, fresh server) | first visit (ms) | first visit, whole page (ms) | median of 5 reloads (ms) |\n| --- | --- | --- | --- |",
      );
      for (const p of pages)
        console.log(
          `| ${p.name} | ${p.first.toFixed(0)} | ${p.whole === null ? "–" : p.whole.toFixed(0)} | ${p.again.toFixed(0)} |`,
        );
    } else console.log("\npages not timed: no Chromium (set CHROMIUM_PATH)");
    console.log(
      `\nserver RSS: ${rssTable.toFixed(0)} MB after the sample-table queries, ${rssAll.toFixed(0)} MB after the Experiment page`,
    );
  } finally {
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
}

await onBackends(main);
