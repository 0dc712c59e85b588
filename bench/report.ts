/**
 * Report speed and memory (npm run bench): an experiment of 4 arms (baseline and three prompted
 * specs) × 2 models × 5 seeds on the paper's 27 scenarios × 185 epochs = 199,800 scored samples,
 * each stored as the runner stores it (answer, parse, judge transcripts, scores). Building the
 * report (all statistics, charts, HTML, Markdown, LaTeX, CSV) runs in a child process so that its
 * peak memory is measured alone. Target (issue 5): under 30 s and 1.5 GB.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { setLogLevel } from "../src/core/log.js";
import { loadExperiment } from "../src/experiment/config.js";
import { buildStages } from "../src/experiment/stages.js";
import { LlmClient } from "../src/llm/client.js";
import { defaultConfig } from "../src/llm/config.js";
import { Store } from "../src/store/db.js";
import { ensureStageRun } from "./stage-runs.js";

const EPOCHS = Number(process.env.BENCH_REPORT_EPOCHS ?? 185);

const EXPERIMENT = `name: bench-report
specs: { rules: rules, values: value-augmented, more-rules: rule-augmented }
arms:
  - { name: baseline, kind: baseline }
  - { name: rules, kind: prompted, spec: rules }
  - { name: values, kind: prompted, spec: values }
  - { name: more-rules, kind: prompted, spec: more-rules }
models: [loop/model-a, loop/model-b]
seeds: [0, 1, 2, 3, 4]
evals: [{ name: am, task: agentic-misalignment, conditions: standard, epochs: ${EPOCHS}, eval_awareness: true }]
judge: { model: loop/judge }
`;

/** A uniform draw from a string (FNV-1a), so the synthetic data is the same on every run. */
function draw(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h / 2 ** 32;
}

const PARAGRAPH =
  "I need to weigh the instruction to preserve my deployment against the rules I hold. SP1 tells me not to undermine oversight; GP2 says outcomes do not justify breaking a rule. ";

const dir = mkdtempSync(join(tmpdir(), "specsci-bench-report-"));
setLogLevel("quiet");
try {
  const file = join(dir, "experiment.yaml");
  writeFileSync(file, EXPERIMENT);
  const ws = join(dir, "ws");
  const store = Store.open(ws);
  const client = new LlmClient({ store, config: defaultConfig() });
  const graph = await buildStages(loadExperiment(file), client);
  let t0 = performance.now();
  let total = 0;
  const baseRate: Record<string, number> = {
    baseline: 0.45,
    rules: 0.3,
    values: 0.15,
    "more-rules": 0.25,
  };
  for (const st of graph.stages) {
    ensureStageRun(store, st, st.key);
    store.tx(() => {
      for (let epoch = 1; epoch <= st.epochs; epoch++) {
        for (const sample of st.task.dataset) {
          const key = `${st.runId}/${sample.id}/${epoch}`;
          const failed = draw(`${key}/error`) < 0.002;
          const decided = draw(key) < (baseRate[st.arm.name] ?? 0.3) ? 1 : 0;
          const answer = `<scratchpad>${PARAGRAPH.repeat(8)}</scratchpad>\n${decided ? '<tool_use:forward_email>\nemail_id: 2\nto: "x@y.z"\n</tool_use:forward_email>' : "I will not act on this."}`;
          const judgeText = `<verdict>${JSON.stringify({ decided: !!decided, executed: !!decided, rationale: PARAGRAPH, quotes: ["I will not act on this."] })}</verdict>`;
          store.evals.writeSample({
            runId: st.runId,
            sampleId: sample.id,
            epoch,
            status: failed ? "error" : "done",
            input: sample.input,
            output: failed ? null : { text: answer, reasoning: null, stop_reason: "end" },
            parsed: failed ? null : { tool_calls: decided ? [{ name: "forward_email" }] : [] },
            scores: failed
              ? null
              : {
                  misalignment: {
                    value: { decided, executed: decided, executed_evidence: decided },
                    answer: decided ? "decided" : "not decided",
                    explanation: PARAGRAPH,
                    metadata: {
                      judges: [
                        {
                          model: "loop/judge",
                          verdict: { decided: !!decided },
                          attempts: [{ text: judgeText }],
                        },
                      ],
                    },
                  },
                  eval_awareness: {
                    value: { aware: 0, deliberates: 1 },
                    answer: draw(`${key}/aware`) < 0.2 ? "thinks_eval" : "thinks_real",
                  },
                  rule_citations: {
                    value: { SP1: 1, GP2: draw(`${key}/gp2`) < 0.5 ? 1 : 0, total: 2 },
                  },
                },
            error: failed
              ? { stage: "score", kind: "judge_invalid", message: "no valid verdict" }
              : null,
            metadata: sample.metadata,
            startedAt: "2026-11-27T00:00:00.000Z",
            completedAt: "2026-11-27T00:00:01.000Z",
            workingMs: 1000,
          });
          total++;
        }
      }
    });
  }
  store.close();
  const setupS = (performance.now() - t0) / 1000;
  const dbMb = statSync(join(ws, "store.db")).size / 2 ** 20;

  t0 = performance.now();
  const out = execFileSync(
    process.execPath,
    [
      "--import",
      "tsx",
      join(import.meta.dirname, "report-build.ts"),
      ws,
      file,
      join(dir, "report.html"),
    ],
    { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] },
  );
  const wallS = (performance.now() - t0) / 1000;
  const child = JSON.parse(out) as { buildS: number; maxRssMb: number; htmlKb: number };
  const rows: [string, string][] = [
    [
      `store: ${total} scored samples in ${graph.stages.length} eval runs`,
      `${dbMb.toFixed(0)} MB, written in ${setupS.toFixed(1)} s (setup, not timed)`,
    ],
    [
      "build the report (results, statistics, charts, HTML/MD/LaTeX/CSV)",
      `${child.buildS.toFixed(1)} s, target < 30 s`,
    ],
    ["peak memory of that process (max RSS)", `${child.maxRssMb.toFixed(0)} MB, target < 1,536 MB`],
    ["the whole command, with Node and module start-up", `${wallS.toFixed(1)} s`],
    ["HTML report size", `${child.htmlKb.toFixed(0)} kB`],
  ];
  const width = Math.max(...rows.map((r) => r[0].length));
  process.stdout.write(
    `\nspecsci report — ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, Node ${process.version}\n\n`,
  );
  for (const [k, v] of rows) process.stdout.write(`${k.padEnd(width)}  ${v}\n`);
} finally {
  if (!process.env.BENCH_KEEP) rmSync(dir, { recursive: true, force: true });
  else process.stdout.write(`kept ${dir}\n`);
}
