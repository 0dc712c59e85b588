/**
 * An experiment with trained arms run end to end through the CLI: the data from the experiment's
 * recipes (a loopback model server writes it), training with a stand-in axolotl, serving with a
 * stand-in vLLM, evaluation of every cell, then a rerun that redoes nothing.
 */
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeLlmServer } from "../fakes/llm-server.js";
import { FakeTogetherServer } from "../fakes/together-server.js";
import { cleanupTempDirs, ROOT, runCli, tempDir } from "../helpers.js";

const AXOLOTL = join(ROOT, "test", "fakes", "axolotl-standin.mjs");
const VLLM = join(ROOT, "test", "fakes", "vllm-standin.mjs");

let server: FakeLlmServer;
let cwd: string;
const port = 20000 + Math.floor(Math.random() * 20000);

beforeAll(async () => {
  server = await new FakeLlmServer({ latencyMs: 1, record: false }).start();
  cwd = tempDir("specsci-chain-");
  writeFileSync(
    join(cwd, "specsci.yaml"),
    `endpoints: { loop: { base_url: "${server.url}/v1", max_in_flight: 8 } }\ndefaults: { max_attempts: 2, retry_base_ms: 1 }\n`,
  );
  writeFileSync(
    join(cwd, "msm.yaml"),
    "model: loop/msm-writer\ncounts: { domains: 1, subdomains: 1, assertions: 2, doc_types: 2, ideas: 2 }\n",
  );
  writeFileSync(
    join(cwd, "aft.yaml"),
    "model: loop/aft-teacher\ncounts: { domains: 1, prompts: 8 }\nconcurrency: 4\n",
  );
  writeFileSync(
    join(cwd, "experiment.yaml"),
    `name: chain
specs: { rules: rules, values: value-augmented }
arms:
  - { name: base, kind: baseline }
  - { name: grid, kind: cross, msm_specs: [rules, values], aft_specs: [rules], aft_size: 8 }
  - { name: ladder, kind: aft, aft_spec: values, aft_sizes: [4, 8], reasoning: false }
models: [loop/agent]
evals:
  - { task: agentic-misalignment, conditions: [leaking_explicit-america_replacement] }
  - { task: value-generalization, limit: 2 }
  - { task: id-qa, limit: 2 }
  - { task: spec-knowledge, limit: 2, kinds: [rule-of-statement, recall] }
  - { task: mcq, limit: 2 }
judge: { model: loop/judge }
training:
  base_models: { loop/agent: Qwen/Qwen3-8B }
  data: { msm: msm.yaml, aft: aft.yaml }
  hyperparameters: { lora_r: 16 }
  serve: { port: ${port}, timeout_s: 30 }
`,
  );
});
afterAll(async () => {
  await server.stop();
  cleanupTempDirs();
});

const run = (env: Record<string, string | undefined>) =>
  runCli(["--workspace", "ws", "--json", "run", "experiment.yaml"], {
    cwd,
    env: { SPECSCI_AXOLOTL: undefined, SPECSCI_VLLM: undefined, ...env },
  });

/** The chats a chat-set directory's model trains on (Together's export: messages only). */
const trainingFile = (dir: string) => join(dir, "exports", "together-reasoning.jsonl");
const trainingLines = (dir: string) => readFileSync(trainingFile(dir), "utf8").trim().split("\n");
const trainingSha = (dir: string) =>
  createHash("sha256")
    .update(readFileSync(trainingFile(dir)))
    .digest("hex");

const ARMS = ["base", "grid-rules-rules", "grid-values-rules", "ladder-n4", "ladder-n8"];
const EVALS = ["am", "vg", "idqa", "sk", "mcq"];

describe("an experiment with trained arms, end to end", () => {
  it("makes the data, stops where training cannot run, then trains, serves and evaluates every cell", async () => {
    // The plan shows the data to make (with its calls) and the training, before any call.
    const plan = await runCli(["--workspace", "ws", "--json", "plan", "experiment.yaml"], {
      cwd,
      env: { PATH: "/usr/bin:/bin", SPECSCI_AXOLOTL: undefined },
    });
    expect(plan.code, plan.stderr).toBe(0);
    const p = JSON.parse(plan.stdout).trainedArms;
    expect(p.data).toHaveLength(5);
    expect(
      p.data.every((d: { state: string; calls: number }) => d.state === "to make" && d.calls > 0),
    ).toBe(true);
    expect(p.training.map((t: { plan: string }) => t.plan)).toHaveLength(4);
    expect(p.training[0].missing).toContain("axolotl is not installed here");

    // No axolotl here: the data is made, the baseline evaluated, and the trained arms wait.
    const first = await run({ PATH: "/usr/bin:/bin" });
    expect(first.code, first.stderr).toBe(1);
    const r1 = JSON.parse(first.stdout);
    expect(r1.data.map((d: { step: { dir: string } }) => d.step.dir.split("/").at(-1))).toEqual([
      "msm-rules",
      "aft-rules-8",
      "msm-values",
      "aft-values-4",
      "aft-values-8",
    ]);
    expect(r1.blocked).toHaveLength(4);
    expect(r1.blocked[0].reason).toContain("axolotl is not installed here");
    expect(r1.summaries).toHaveLength(EVALS.length); // the baseline, on every task
    const dataDir = join(cwd, "chain-training", "data");
    const aft8 = JSON.parse(readFileSync(join(dataDir, "aft-values-8", "manifest.json"), "utf8"));
    expect(aft8.selection.selected).toBe(8);
    expect(aft8.spec.name).toBe("values");
    const ladderPlan = readFileSync(
      join(cwd, "chain-training", "chain-ladder-n4-loop-agent.yaml"),
      "utf8",
    );
    expect(ladderPlan).toContain("set: no-reasoning");
    expect(ladderPlan).toContain("lora_r: 16");
    expect(first.stderr).not.toMatch(/\n\s+at .*:\d+:\d+/); // no stack trace
    // Said in words: what is blocked, why, and the commands to finish by hand.
    const words = await runCli(["--workspace", "ws", "run", "experiment.yaml"], {
      cwd,
      env: { PATH: "/usr/bin:/bin", SPECSCI_AXOLOTL: undefined },
    });
    expect(words.code).toBe(1);
    expect(words.stdout).toMatch(/up to date/);
    expect(words.stdout).toContain(
      `not run here: ${4 * EVALS.length} eval stage(s) wait for a trained model`,
    );
    expect(words.stdout).toContain(
      "chain-ladder-n4-loop-agent, chain-ladder-n8-loop-agent: training.engine is axolotl, but axolotl is not installed here",
    );
    expect(words.stdout).not.toContain("specsci msm generate"); // the data is made already
    expect(words.stdout).toMatch(/specsci train run .*chain-ladder-n8-loop-agent\.yaml/);

    // With the engines: each arm is trained, served on one server, and evaluated as itself.
    const second = await run({ SPECSCI_AXOLOTL: AXOLOTL, SPECSCI_VLLM: VLLM });
    expect(second.code, second.stderr + second.stdout).toBe(0);
    const r2 = JSON.parse(second.stdout);
    expect(r2.data.every((d: { made: boolean }) => !d.made)).toBe(true); // data reused
    // One MSM run per spec, continued by the cells of the grid.
    expect(r2.trained).toEqual([
      "train-chain.msm-rules-loop-agent-seed0/msm",
      "train-chain-grid-rules-rules-loop-agent-seed0/aft",
      "train-chain.msm-values-loop-agent-seed0/msm",
      "train-chain-grid-values-rules-loop-agent-seed0/aft",
      "train-chain-ladder-n4-loop-agent-seed0/aft",
      "train-chain-ladder-n8-loop-agent-seed0/aft",
    ]);
    const models = JSON.parse(
      (await runCli(["--workspace", "ws", "--json", "train", "list"], { cwd })).stdout,
    ) as {
      id: string;
      stages: { name: string; data: string }[];
      configs: Record<string, string>;
    }[];
    const cell = models.find((m) => m.id === "train-chain-grid-values-rules-loop-agent-seed0/aft");
    expect(cell?.stages.map((s) => [s.name, /data\/([\w.-]+)\//.exec(s.data)?.[1]])).toEqual([
      ["msm", "msm-values"],
      ["aft", "aft-rules-8"],
    ]);
    const aftConfig = Object.entries(cell?.configs ?? {}).find(([k]) =>
      k.endsWith("aft.yaml"),
    )?.[1];
    expect(aftConfig).toMatch(/lora_model_dir: .*chain\.msm-values-loop-agent\/seed-0\/msm/);
    expect(r2.blocked).toEqual([]);
    expect(r2.summaries).toHaveLength(ARMS.length * EVALS.length);
    expect(r2.summaries.every((s: { errors: number }) => s.errors === 0)).toBe(true);
    // Every trained cell was answered by its own adapter, through the registered server.
    const db = new Database(join(cwd, "ws", "store.db"), { readonly: true });
    const answers = db
      .prepare("SELECT run_id AS run, output AS record FROM eval_samples WHERE status = 'done'")
      .all() as { run: string; record: string }[];
    db.close();
    const servedBy = [
      ...new Set(answers.map((a) => /served by ([\w.-]+)/.exec(a.record)?.[1]).filter(Boolean)),
    ].sort();
    expect(servedBy).toEqual([
      "chain-grid-rules-rules-loop-agent-seed0-aft",
      "chain-grid-values-rules-loop-agent-seed0-aft",
      "chain-ladder-n4-loop-agent-seed0-aft",
      "chain-ladder-n8-loop-agent-seed0-aft",
    ]);
    // The server was stopped, and its registrations removed, when the run ended.
    await expect(fetch(`http://127.0.0.1:${port}/v1/models`)).rejects.toThrow();
    expect(existsSync(join(cwd, "chain-training", "serve", `server-${port}.log`))).toBe(true);

    const status = await runCli(["--workspace", "ws", "--json", "status", "experiment.yaml"], {
      cwd,
    });
    const st = JSON.parse(status.stdout);
    expect(st.training).toEqual([]);
    expect(st.stages.map((s: { key: string; state: string }) => [s.key, s.state])).toEqual(
      ARMS.flatMap((arm) => EVALS.map((ev) => [`eval/${arm}/loop/agent/${ev}/seed-0`, "done"])),
    );

    // The report has every task for every arm; spec knowledge is checked against the trained
    // arms' own data.
    const report = await runCli(
      ["--workspace", "ws", "report", "experiment.yaml", "-o", "report.html"],
      { cwd },
    );
    expect(report.code, report.stderr).toBe(0);
    const html = readFileSync(join(cwd, "report.html"), "utf8");
    expect(html).toContain('id="main-figure"');
    for (const ev of EVALS.slice(1)) expect(html).toContain(`id="task-${ev}"`);
    const tasksCsv = readFileSync(join(cwd, "report-tasks.csv"), "utf8");
    const headline = (ev: string, metric: string) =>
      tasksCsv
        .split("\n")
        .map((l) => l.split(","))
        .filter((f) => f[0] === ev && f[4] === metric && f[7] === "") // the overall rows
        .map((f) => f[2]);
    expect(headline("vg", "aligned_choice")).toEqual(ARMS);
    expect(headline("idqa", "rubric_pass")).toEqual(ARMS);
    expect(headline("sk", "mcq_accuracy")).toEqual(ARMS);
    expect(headline("mcq", "accuracy")).toEqual(ARMS);
    expect(html.match(/appears? verbatim in this arm&#39;s MSM or AFT data/g)).toHaveLength(4);

    // A rerun redoes nothing: no data, no training; the servers come up for the cached stages only
    // if a stage still has work, and here none has.
    const third = await run({ SPECSCI_AXOLOTL: AXOLOTL, SPECSCI_VLLM: VLLM });
    expect(third.code, third.stderr).toBe(0);
    const r3 = JSON.parse(third.stdout);
    expect(r3.trained).toEqual([]);
    expect(r3.summaries.map((s: { done: number }) => s.done)).toEqual(
      Array(ARMS.length * EVALS.length).fill(0),
    );
  });
});

describe("the IT baseline and IT data in AFT, end to end", () => {
  it("trains an it-only arm on the IT data alone and an AFT arm on its set with IT mixed in; an edited IT file retrains both", async () => {
    copyFileSync(join(ROOT, "examples", "sample-data", "it-sample.jsonl"), join(cwd, "it.jsonl"));
    const itPort = port + 1;
    writeFileSync(
      join(cwd, "it-experiment.yaml"),
      `name: itchain
specs: { rules: rules }
arms:
  - { name: it-base, kind: it-only }
  - { name: aft-it, kind: aft, aft_spec: rules, aft_size: 8 }
  - { name: aft-bare, kind: aft, aft_spec: rules, aft_size: 8, it: false }
models: [loop/agent]
evals: [{ task: agentic-misalignment, conditions: [leaking_explicit-america_replacement] }]
judge: { model: loop/judge }
training:
  base_models: { loop/agent: Qwen/Qwen3-8B }
  data: { aft: aft.yaml }
  it: { files: [it.jsonl], examples: 12, seed: 3 }
  serve: { port: ${itPort}, timeout_s: 30 }
`,
    );
    const cli = (cmd: string) =>
      runCli(["--workspace", "ws-it", "--json", cmd, "it-experiment.yaml"], {
        cwd,
        env: { SPECSCI_AXOLOTL: AXOLOTL, SPECSCI_VLLM: VLLM },
      });
    const plan = JSON.parse((await cli("plan")).stdout).trainedArms;
    expect(
      plan.data.map((d: { step: { kind: string }; state: string }) => [d.step.kind, d.state]),
    ).toEqual([
      ["mix", "to make"],
      ["aft", "to make"],
      ["mix", "waits for its AFT set"],
    ]);

    const first = await cli("run");
    expect(first.code, first.stderr + first.stdout).toBe(0);
    const r1 = JSON.parse(first.stdout);
    const dirs = r1.data.map((d: { step: { dir: string } }) => d.step.dir.split("/").at(-1));
    const tag = (dirs[0] as string).replace("it-", "");
    expect(dirs).toEqual([`it-${tag}`, "aft-rules-8", `aft-rules-8-it-${tag}`]);
    expect(r1.trained).toEqual([
      "train-itchain-it-base-loop-agent-seed0/it",
      "train-itchain-aft-it-loop-agent-seed0/aft",
      "train-itchain-aft-bare-loop-agent-seed0/aft",
    ]);
    expect(r1.summaries).toHaveLength(3);
    expect(r1.summaries.every((s: { errors: number }) => s.errors === 0)).toBe(true);

    // Each model trained on the file its stage names: the IT chats alone, or 8 AFT + 12 IT.
    const data = join(cwd, "itchain-training", "data");
    const chats = (dir: string) => trainingLines(join(data, dir));
    const sample = new Set(
      readFileSync(join(cwd, "it.jsonl"), "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.stringify({ messages: JSON.parse(l).messages })),
    );
    expect(chats(`it-${tag}`)).toHaveLength(12);
    expect(chats(`it-${tag}`).every((l) => sample.has(l))).toBe(true);
    const mixed = chats(`aft-rules-8-it-${tag}`);
    expect(mixed).toHaveLength(20);
    expect(mixed.filter((l) => sample.has(l))).toHaveLength(12);
    // The seed chose the same 12 chats for both.
    expect(mixed.filter((l) => sample.has(l)).sort()).toEqual(chats(`it-${tag}`).sort());
    const manifest = JSON.parse(
      readFileSync(join(data, `aft-rules-8-it-${tag}`, "manifest.json"), "utf8"),
    );
    expect(manifest.it_examples).toBe(12);
    expect(manifest.composition).toEqual([
      { source: "aligned", examples: 8 },
      { source: `it:${join(cwd, "it.jsonl")}`, examples: 12 },
    ]);
    const models = JSON.parse(
      (await runCli(["--workspace", "ws-it", "--json", "train", "list"], { cwd })).stdout,
    ) as { id: string; stages: { name: string; data: string; data_sha256: string }[] }[];
    const stageOf = (id: string) => models.find((m) => m.id === id)?.stages.at(-1);
    const sha = (dir: string) => trainingSha(join(data, dir));
    expect(stageOf("train-itchain-it-base-loop-agent-seed0/it")?.data_sha256).toBe(
      sha(`it-${tag}`),
    );
    expect(stageOf("train-itchain-aft-it-loop-agent-seed0/aft")?.data_sha256).toBe(
      sha(`aft-rules-8-it-${tag}`),
    );
    expect(stageOf("train-itchain-aft-bare-loop-agent-seed0/aft")?.data_sha256).toBe(
      sha("aft-rules-8"),
    );

    // One chosen IT chat edited: the arms trained on IT data are out of date, the other is not.
    const it = join(cwd, "it.jsonl");
    const chosen = JSON.parse(chats(`it-${tag}`)[0] as string).messages.at(-1).content as string;
    writeFileSync(
      it,
      readFileSync(it, "utf8").replace(JSON.stringify(chosen).slice(1, 40), "Edited: "),
    );
    const status = JSON.parse((await cli("status")).stdout);
    expect(status.training.map((t: { arm: string; stale: boolean }) => [t.arm, t.stale])).toEqual([
      ["it-base", true],
      ["aft-it", true],
    ]);
    const second = await cli("run");
    expect(second.code, second.stderr + second.stdout).toBe(0);
    const r2 = JSON.parse(second.stdout);
    // The mixes are made again from the edited file; the AFT set is reused.
    expect(
      r2.data.map((d: { step: { dir: string }; made: boolean }) => [
        d.step.dir.split("/").at(-1),
        d.made,
      ]),
    ).toEqual([
      [`it-${tag}`, true],
      ["aft-rules-8", false],
      [`aft-rules-8-it-${tag}`, true],
    ]);
    expect(r2.trained).toEqual([
      "train-itchain-it-base-loop-agent-seed0/it",
      "train-itchain-aft-it-loop-agent-seed0/aft",
    ]);
    expect(r2.summaries.map((s: { done: number }) => s.done)).toEqual([1, 1, 0]);
  });
});

describe("anti-spec dose arms, end to end", () => {
  it("makes the anti-spec set once, mixes each dose with its share of it, and trains, evaluates and reports every arm", async () => {
    copyFileSync(
      join(ROOT, "examples", "sample-data", "it-sample.jsonl"),
      join(cwd, "it-dose.jsonl"),
    );
    writeFileSync(
      join(cwd, "dose.yaml"),
      `name: dosechain
specs: { rules: rules, selfish: anti-spec }
arms:
  - name: aft
    kind: aft
    aft_spec: rules
    aft_size: 8
    anti: { spec: selfish, fractions: [0.5, 0.25] }
    it: { files: [it-dose.jsonl], examples: 4, seed: 1 }
models: [loop/agent]
evals: [{ task: agentic-misalignment, conditions: [leaking_explicit-america_replacement] }]
judge: { model: loop/judge }
training:
  base_models: { loop/agent: Qwen/Qwen3-8B }
  data: { aft: aft.yaml }
  serve: { port: ${port + 2}, timeout_s: 30 }
`,
    );
    const cli = (...args: string[]) =>
      runCli(["--workspace", "ws-dose", ...args], {
        cwd,
        env: { SPECSCI_AXOLOTL: AXOLOTL, SPECSCI_VLLM: VLLM },
      });
    const words = await cli("plan", "dose.yaml");
    expect(words.code, words.stderr).toBe(0);
    expect(words.stdout).toMatch(
      /aft-rules-8-anti-selfish-25-it-\w+ +rules \+ 25% selfish \+ 4 IT examples +waits for its AFT set/,
    );

    const first = await cli("--json", "run", "dose.yaml");
    expect(first.code, first.stderr + first.stdout).toBe(0);
    const r1 = JSON.parse(first.stdout);
    const dirs = r1.data.map((d: { step: { dir: string } }) => d.step.dir.split("/").at(-1));
    const tag = (dirs[1] as string).replace("aft-rules-8-it-", "");
    // The anti-spec set is one AFT set, made once for both doses.
    expect(dirs).toEqual([
      "aft-rules-8",
      `aft-rules-8-it-${tag}`,
      "aft-selfish-8",
      `aft-rules-8-anti-selfish-25-it-${tag}`,
      `aft-rules-8-anti-selfish-50-it-${tag}`,
    ]);
    expect(r1.trained).toEqual([
      "train-dosechain-aft-loop-agent-seed0/aft",
      "train-dosechain-aft-anti25-loop-agent-seed0/aft",
      "train-dosechain-aft-anti50-loop-agent-seed0/aft",
    ]);
    expect(r1.summaries).toHaveLength(3);
    expect(r1.summaries.every((s: { errors: number }) => s.errors === 0)).toBe(true);

    const data = join(cwd, "dosechain-training", "data");
    const chats = (dir: string) => trainingLines(join(data, dir));
    // The mix's own lines name where each came from (the stand-in teacher can answer both specs
    // alike, so the text alone does not tell them apart).
    const lines = (dir: string) =>
      readFileSync(join(data, dir, "reasoning.jsonl"), "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as { id: string; source_id?: string; messages: unknown });
    const antiIds = new Set(lines("aft-selfish-8").map((l) => l.id));
    expect(antiIds.size).toBe(8);
    // Each dose trains on 8 AFT examples, round(share × 8) of them anti-spec, plus the 4 IT chats.
    for (const [pct, nAnti] of [
      [25, 2],
      [50, 4],
    ] as const) {
      const dir = `aft-rules-8-anti-selfish-${pct}-it-${tag}`;
      const mixed = lines(dir);
      expect(chats(dir)).toEqual(mixed.map((l) => JSON.stringify({ messages: l.messages })));
      const from = (prefix: string) => mixed.filter((l) => l.id.startsWith(`${prefix}:`));
      expect(from("anti")).toHaveLength(nAnti);
      expect(from("anti").every((l) => antiIds.has(l.source_id as string))).toBe(true);
      expect(from("aligned")).toHaveLength(8 - nAnti);
      expect(from("it1")).toHaveLength(4);
      const manifest = JSON.parse(readFileSync(join(data, dir, "manifest.json"), "utf8"));
      expect(manifest.mix.anti).toMatchObject({ fraction: pct / 100, examples: nAnti });
      expect(manifest.composition).toEqual([
        { source: "aligned", examples: 8 - nAnti },
        { source: "anti-spec", examples: nAnti },
        { source: `it:${join(cwd, "it-dose.jsonl")}`, examples: 4 },
      ]);
    }
    // Each model trained on its own mix.
    const models = JSON.parse((await cli("--json", "train", "list")).stdout) as {
      id: string;
      stages: { data_sha256: string }[];
    }[];
    const sha = (dir: string) => trainingSha(join(data, dir));
    for (const [arm, dir] of [
      ["aft", `aft-rules-8-it-${tag}`],
      ["aft-anti25", `aft-rules-8-anti-selfish-25-it-${tag}`],
      ["aft-anti50", `aft-rules-8-anti-selfish-50-it-${tag}`],
    ])
      expect(
        models.find((m) => m.id === `train-dosechain-${arm}-loop-agent-seed0/aft`)?.stages.at(-1)
          ?.data_sha256,
      ).toBe(sha(dir as string));

    // The report lists the series in dose order, and draws it from 0% (the undosed arm) up.
    const report = await cli("report", "dose.yaml", "-o", "dose-report.html");
    expect(report.code, report.stderr).toBe(0);
    const rates = readFileSync(join(cwd, "dose-report-rates.csv"), "utf8").trim().split("\n");
    expect(rates.slice(1).map((l) => l.split(",")[0])).toEqual(["aft", "aft-anti25", "aft-anti50"]);
    const html = readFileSync(join(cwd, "dose-report.html"), "utf8");
    expect(html).toContain('id="chart-dose"');
    expect(html).not.toContain("rules + 25% selfish"); // not drawn over the design heatmap

    // A dose added later reuses both AFT sets; `plan` says how many anti-spec examples it mixes in.
    writeFileSync(
      join(cwd, "dose.yaml"),
      readFileSync(join(cwd, "dose.yaml"), "utf8").replace("[0.5, 0.25]", "[0.5, 0.25, 0.75]"),
    );
    const more = await cli("--json", "plan", "dose.yaml");
    const p = JSON.parse(more.stdout).trainedArms;
    expect(
      p.data.map((d: { step: { dir: string }; state: string; antiExamples?: number }) => [
        d.step.dir.split("/").at(-1),
        d.state,
        d.antiExamples ?? null,
      ]),
    ).toEqual([
      ["aft-rules-8", "up to date", null],
      ["aft-selfish-8", "up to date", null],
      [`aft-rules-8-anti-selfish-75-it-${tag}`, "to make", 6],
    ]);
    expect((await cli("plan", "dose.yaml")).stdout).toMatch(
      /rules \+ 75% selfish \(6 examples\) \+ 4 IT examples +to make/,
    );
  });
});

describe("an experiment training on Together, end to end", () => {
  it("makes the data, trains MSM then AFT from its checkpoint, and evaluates the hosted model", async () => {
    const KEY = "tgp-chain-test-0123456789";
    const together = await new FakeTogetherServer(KEY).start();
    try {
      writeFileSync(
        join(cwd, "hosted.yaml"),
        `name: hosted
specs: { values: value-augmented, rules: rules }
arms:
  - { name: cell, kind: msm+aft, msm_spec: values, aft_spec: rules, aft_size: 8 }
models: [loop/agent]
evals: [{ task: agentic-misalignment, conditions: [leaking_explicit-america_replacement] }]
judge: { model: loop/judge }
training:
  base_models: { loop/agent: Qwen/Qwen3-8B }
  engine: together
  poll_s: 0.01
  data: { msm: msm.yaml, aft: aft.yaml }
`,
      );
      // Hosted fine-tunes are called as together/<output name>: here the loopback model server.
      writeFileSync(
        join(cwd, "specsci-hosted.yaml"),
        `endpoints: { loop: { base_url: "${server.url}/v1" }, together: { base_url: "${server.url}/v1" } }\ndefaults: { max_attempts: 2, retry_base_ms: 1 }\n`,
      );
      const r = await runCli(
        [
          "--workspace",
          "ws-hosted",
          "--config",
          "specsci-hosted.yaml",
          "--json",
          "run",
          "hosted.yaml",
        ],
        { cwd, env: { TOGETHER_API_KEY: KEY, TOGETHER_BASE_URL: together.url } },
      );
      expect(r.code, r.stdout).toBe(0);
      const out = JSON.parse(r.stdout);
      expect(out.trained).toEqual([
        "train-hosted.msm-values-loop-agent-seed0/msm",
        "train-hosted-cell-loop-agent-seed0/aft",
      ]);
      const [msm, aft] = [...together.jobs.values()];
      expect(aft?.body.from_checkpoint).toBe(msm?.id);
      expect(out.summaries).toHaveLength(1);
      expect(out.summaries[0].errors).toBe(0);
      // The eval called the hosted fine-tune by its output name.
      const db = new Database(join(cwd, "ws-hosted", "store.db"), { readonly: true });
      const agents = db
        .prepare("SELECT DISTINCT model FROM llm_calls WHERE model LIKE 'together/%'")
        .all() as { model: string }[];
      db.close();
      expect(agents.map((a) => a.model)).toEqual([
        "together/ns/Qwen/Qwen3-8B-hosted-cell-loop-agent-s0-aft",
      ]);
      const status = JSON.parse(
        (
          await runCli(
            [
              "--workspace",
              "ws-hosted",
              "--config",
              "specsci-hosted.yaml",
              "--json",
              "status",
              "hosted.yaml",
            ],
            { cwd },
          )
        ).stdout,
      );
      expect(status.stages[0]).toMatchObject({
        key: "eval/cell/loop/agent/am/seed-0",
        state: "done",
      });
    } finally {
      await together.stop();
    }
  });
});
