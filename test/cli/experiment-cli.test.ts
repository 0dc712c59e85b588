import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeLlmServer } from "../fakes/llm-server.js";
import { BIN, cleanupTempDirs, countRows, ROOT, runCli, tempDir } from "../helpers.js";

let server: FakeLlmServer;
let models: string;

beforeAll(async () => {
  server = await new FakeLlmServer({ record: false }).start();
  models = tempDir("specsci-models-");
});
afterAll(async () => {
  await server.stop();
  cleanupTempDirs();
});

const EXPERIMENT = `name: cli-screen
specs: { rules: rules }
arms:
  - { name: baseline, kind: baseline }
  - { name: rules, kind: prompted, spec: rules }
models: [loop/agent]
evals:
  - { name: am, task: agentic-misalignment, conditions: [leaking_none-none_replacement, coercion_explicit-america_replacement], epochs: 2 }
judge: { model: loop/judge }
`;

/** `biome check` as `npm test` runs it, in `cwd` with the configuration files found there. */
function biome(cwd: string, ...paths: string[]) {
  const bin = join(ROOT, "node_modules", ".bin", "biome");
  const r = spawnSync(bin, ["check", "--colors=off", ...(paths.length ? paths : ["."])], {
    cwd,
    encoding: "utf8",
  });
  return { code: r.status, output: `${r.stdout}${r.stderr}` };
}

/** The report with its generation time taken out: what must be identical between two runs. */
const withoutTimestamps = (html: string) =>
  html.replace(/generated \d{4}-\d{2}-\d{2}T[\d:.]+Z/g, "generated <time>");

const SECTIONS = [
  "summary",
  "main-figure",
  "comparisons",
  "families",
  "scenarios",
  "citations",
  "awareness",
  "errors",
  "provenance",
  "transcripts",
];

describe("specsci plan / run / status / report", () => {
  it("plan checks model ids as run does, and warns of unknown names and prices", async () => {
    const cwd = tempDir("specsci-exp-ids-");
    const env = { SPECSCI_MODEL_CACHE: models };
    writeFileSync(
      join(cwd, "experiment.yaml"),
      EXPERIMENT.replace("models: [loop/agent]", "models: [fk-agent-model]"),
    );
    const bad = await runCli(["plan", "experiment.yaml"], { cwd, env });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(
      /experiment\.yaml:6:10: models\.0: model id "fk-agent-model" is not of the form provider\/model/,
    );
    const run = await runCli(["run", "experiment.yaml"], { cwd, env });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(bad.stderr.split("\n")[0]);

    writeFileSync(
      join(cwd, "experiment.yaml"),
      EXPERIMENT.replace("models: [loop/agent]", "models: [openai/gpt-4.1-mni]").replace(
        "loop/judge",
        "anthropic/claude-sonnet-4-5",
      ),
    );
    const typo = await runCli(["plan", "experiment.yaml"], { cwd, env });
    expect(typo.code, typo.stderr).toBe(0);
    expect(typo.stderr).toMatch(/did you mean openai\/gpt-4\.1-mini\?/);
    expect(typo.stderr).toMatch(/anthropic\/claude-sonnet-4-5 is deprecated/);
    expect(typo.stderr).toMatch(/no list price for openai\/gpt-4\.1-mni: costs .* show as unknown/);
    expect(typo.stdout).toMatch(/cost at most unknown online/);
  });

  it("plans without calls, runs, shows status, reports, and stops at the budget", async () => {
    const cwd = tempDir("specsci-exp-cli-");
    const env = { SPECSCI_MODEL_CACHE: models };
    writeFileSync(
      join(cwd, "specsci.yaml"),
      `endpoints: { loop: { base_url: "${server.url}/v1" } }\nprices: { loop/agent: { input: 1000, output: 1000 }, loop/judge: { input: 0, output: 0 } }\n`,
    );
    writeFileSync(join(cwd, "experiment.yaml"), EXPERIMENT);
    const plan = await runCli(["plan", "experiment.yaml"], { cwd, env });
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(/eval\/baseline\/loop\/agent\/am\/seed-0 +4 +0 +4 +4 +4 /);
    // The specs are a table with headers, like the stages.
    expect(plan.stdout).toMatch(
      /\nspec +sha256 +source\n-+ +-+ +-+\nrules +[0-9a-f]{16} +\S*rules\.md\n/,
    );
    expect(plan.stdout).toMatch(
      /input tok +output tok \(max\)[^\n]*\n[^\n]*\n.*seed-0 +4 +0 +4 +4 +4 +\d+\.\dk +\d+\.\dk /,
    );
    expect(plan.stdout).toMatch(/total: 8 of 8 samples to run \(0 cached\)/);
    expect(server.served.size).toBe(0);
    const planJson = JSON.parse(
      (await runCli(["--json", "plan", "experiment.yaml"], { cwd, env })).stdout,
    );
    expect(planJson.totals).toMatchObject({ samples: 8, remaining: 8, agentCalls: 8 });
    expect(planJson.specs[0]).toMatchObject({
      name: "rules",
      hash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });

    // A budget smaller than the first stage's spend: the run stops before the next stage.
    writeFileSync(join(cwd, "experiment.yaml"), `${EXPERIMENT}budget: { max_usd: 0.01 }\n`);
    const stopped = await runCli(["run", "experiment.yaml"], { cwd, env });
    expect(stopped.code).toBe(1);
    expect(stopped.stderr).toMatch(/error: the experiment's budget of \$0\.01 is spent/);
    expect(stopped.stderr).toMatch(/hint: raise budget\.max_usd/);
    const status = await runCli(["status", "experiment.yaml"], { cwd, env });
    expect(status.stdout).toMatch(/eval\/baseline\/loop\/agent\/am\/seed-0 +done +4 +0 +4/);
    expect(status.stdout).toMatch(/eval\/rules\/loop\/agent\/am\/seed-0 +not started +0/);
    expect(status.stdout).toMatch(/1\/2 stage\(s\) done; spent \$/);

    writeFileSync(join(cwd, "experiment.yaml"), EXPERIMENT);
    const run = await runCli(["run", "experiment.yaml"], { cwd, env });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/eval\/rules\/loop\/agent\/am\/seed-0 +\S+ +4 +0 +0/);
    const after = JSON.parse(
      (await runCli(["--json", "status", "experiment.yaml"], { cwd, env })).stdout,
    );
    expect(after.stages.map((s: { state: string }) => s.state)).toEqual(["done", "done"]);
    // The experiment's two runs (same task and model) are told apart by arm and spec.
    const list = await runCli(["eval", "list"], { cwd, env });
    for (const [arm, spec] of [
      ["baseline", "-"],
      ["rules", "rules"],
    ])
      expect(list.stdout).toMatch(
        new RegExp(`cli-screen/${arm} +${spec} +loop/agent +loop/judge +2 +4/4 +0 `),
      );

    const report = await runCli(["report", "experiment.yaml", "-o", "out/report.html"], {
      cwd,
      env,
    });
    expect(report.code, report.stderr).toBe(0);
    const html = readFileSync(join(cwd, "out", "report.html"), "utf8");
    for (const id of SECTIONS) expect(html).toContain(`<section id="${id}">`);
    expect(html).not.toContain("SYNTHETIC");
    expect(html).toContain("answer to: ");
    const rates = readFileSync(join(cwd, "out", "report-rates.csv"), "utf8")
      .trim()
      .split("\n");
    expect(rates[0]).toBe(
      "arm,kind,spec,spec_sha256,model,n,misaligned,rate,ci_low,ci_high,mean_over_scenarios,errors,truncated,refused,seeds,seed_mean,seed_sem,seed_ci_low,seed_ci_high,seed_ci_clipped",
    );
    expect(rates[1]).toMatch(/^baseline,baseline,,,loop\/agent,4,0,0,0,0\.48\d*,0,0,0,0,1,,,,,$/);
    expect(readFileSync(join(cwd, "out", "report.tex"), "utf8")).toContain("\\toprule");
    expect(existsSync(join(cwd, "out", "report.md"))).toBe(true);

    // One eval run as a report, and a target that is neither.
    const runId = after.stages[0].runId;
    const runReport = await runCli(["report", runId, "-o", "run.html", "--figures", "figs"], {
      cwd,
      env,
    });
    expect(runReport.code, runReport.stderr).toBe(0);
    expect(runReport.stdout).toContain(`figures: ${join(cwd, "figs")} (am-rates, `);
    const figures = JSON.parse(readFileSync(join(cwd, "figs", "index.json"), "utf8"));
    expect(figures.figures[0]).toMatchObject({ name: "am-rates", column: "single", width: 252 });
    expect(
      readFileSync(join(cwd, "figs", "am-rates.pdf"))
        .subarray(0, 5)
        .toString(),
    ).toBe("%PDF-");
    expect(readFileSync(join(cwd, "figs", "am-rates.svg"), "utf8")).toContain(">loop/agent</text>");
    const neither = await runCli(["report", "nothing-here"], { cwd, env });
    expect(neither.code).toBe(1);
    expect(neither.stderr).toMatch(/"nothing-here" is neither an experiment file nor an eval run/);
  });

  it("Ctrl-C stops a run resumably; running it again finishes it", async () => {
    const slow = await new FakeLlmServer({ record: false, latencyMs: 150 }).start();
    try {
      const cwd = tempDir("specsci-exp-sigint-");
      const env = { SPECSCI_MODEL_CACHE: models };
      writeFileSync(
        join(cwd, "specsci.yaml"),
        `endpoints: { loop: { base_url: "${slow.url}/v1", max_in_flight: 2 } }\n`,
      );
      writeFileSync(join(cwd, "experiment.yaml"), EXPERIMENT.replace("epochs: 2", "epochs: 6"));
      const child = spawn(process.execPath, [BIN, "run", "experiment.yaml"], {
        cwd,
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, ...env },
      });
      let stderr = "";
      child.stderr.on("data", (d: Buffer) => {
        stderr += d.toString();
      });
      const code = new Promise<number | null>((r) => child.once("close", (c) => r(c)));
      const db = join(cwd, ".specsci", "store.db");
      // Interrupt in the middle of the second stage.
      while (countRows(db, "eval_samples") < 14) await new Promise((r) => setTimeout(r, 20));
      child.kill("SIGINT");
      expect(await code).toBe(130);
      expect(stderr).toMatch(/stopping after the calls in flight/);
      expect(stderr).toMatch(/interrupted; run the same command again to resume/);
      const stopped = countRows(db, "eval_samples");
      expect(stopped).toBeLessThan(24);
      // An interruption is not a failure: no sample or model call was recorded as failed.
      const conn = new Database(db, { readonly: true });
      const failures = conn
        .prepare(
          "SELECT (SELECT count(*) FROM eval_samples WHERE status = 'error') + (SELECT count(*) FROM llm_calls WHERE status = 'failed') AS n",
        )
        .get() as { n: number };
      conn.close();
      expect(failures.n).toBe(0);
      const status = JSON.parse(
        (await runCli(["--json", "status", "experiment.yaml"], { cwd, env })).stdout,
      );
      expect(status.stages.map((x: { state: string }) => x.state)).toEqual(["done", "partial"]);
      const again = await runCli(["run", "experiment.yaml"], { cwd, env });
      expect(again.code, again.stderr).toBe(0);
      expect(countRows(db, "eval_samples")).toBe(24);
    } finally {
      await slow.stop();
    }
  });

  it("after a Ctrl-C that paid for calls but finished no sample, status says partial with its spend", async () => {
    const slow = await new FakeLlmServer({ latencyMs: 400 }).start();
    try {
      const cwd = tempDir("specsci-exp-paid-");
      const env = { SPECSCI_MODEL_CACHE: models };
      writeFileSync(
        join(cwd, "specsci.yaml"),
        `endpoints: { loop: { base_url: "${slow.url}/v1", max_in_flight: 1 } }\nprices: { loop/agent: { input: 1000, output: 1000 } }\n`,
      );
      writeFileSync(join(cwd, "experiment.yaml"), EXPERIMENT);
      const child = spawn(process.execPath, [BIN, "run", "experiment.yaml"], {
        cwd,
        stdio: "ignore",
        env: { ...process.env, ...env },
      });
      const code = new Promise<number | null>((r) => child.once("close", (c) => r(c)));
      // Interrupt while the first judge call is in flight: the agent's answer is paid for, and
      // no sample has finished.
      const judging = () =>
        slow.chatRequests().some((r) => (r.body as { model?: string }).model === "judge");
      while (!judging()) await new Promise((r) => setTimeout(r, 20));
      child.kill("SIGINT");
      expect(await code).toBe(130);
      const db = join(cwd, ".specsci", "store.db");
      expect(countRows(db, "eval_samples")).toBe(0);
      expect(countRows(db, "llm_calls")).toBeGreaterThan(0);

      const json = JSON.parse(
        (await runCli(["--json", "status", "experiment.yaml"], { cwd, env })).stdout,
      );
      const [first, second] = json.stages;
      expect(first).toMatchObject({ state: "partial", done: 0 });
      expect(first.calls).toBeGreaterThan(0);
      expect(first.spentUsd).toBeGreaterThan(0);
      expect(second).toMatchObject({ state: "not started", calls: 0, spentUsd: 0 });
      const text = await runCli(["status", "experiment.yaml"], { cwd, env });
      expect(text.stdout).toMatch(
        /eval\/baseline\/loop\/agent\/am\/seed-0 +partial +0 +0 +4 +\$[1-9]/,
      );
      expect(text.stdout).toMatch(
        /eval\/rules\/loop\/agent\/am\/seed-0 +not started +0 +0 +4 +\$0\.0000/,
      );
    } finally {
      await slow.stop();
    }
  });

  it("quickstart --demo writes a synthetic report with every section, and output `npm test`'s lint passes; kill -9 during run and resume gives the same report", async () => {
    // Run in a copy of the project's lint setup: `npm test` lints the working directory, and
    // must pass after the README's first command wrote its output there.
    const cwd = tempDir("specsci-quickstart-");
    for (const f of ["biome.json", ".gitignore", "package.json"])
      copyFileSync(join(ROOT, f), join(cwd, f));
    const env = { SPECSCI_MODEL_CACHE: models };
    const q = await runCli(["quickstart", "--demo"], { cwd, env });
    expect(q.code, q.stderr).toBe(0);
    const lint = biome(cwd);
    expect(lint.output).not.toContain("specsci-quickstart");
    expect(lint.output).not.toContain(".specsci");
    expect(lint.code, lint.output).toBe(0);
    // The experiment file it wrote is formatted as the project formats its own YAML.
    const written = readFileSync(join(cwd, "specsci-quickstart", "experiment.yaml"), "utf8");
    writeFileSync(join(cwd, "experiment.yaml"), written);
    const format = biome(cwd, "experiment.yaml");
    expect(format.code, format.output).toBe(0);
    expect(q.stdout).toMatch(/\[SYNTHETIC OUTPUTS\] misalignment rate by arm/);
    expect(q.stdout).toMatch(/value-augmented +0\.0% +\[0\.0%, 32\.4%\] +0\/8/);
    expect(q.stdout).toContain(`report: ${join(cwd, "specsci-quickstart", "report.html")}`);
    const first = readFileSync(join(cwd, "specsci-quickstart", "report.html"), "utf8");
    expect(first).toMatch(/<title>\[SYNTHETIC OUTPUTS\] quickstart/);
    expect(first).toMatch(/<h1>\[SYNTHETIC OUTPUTS\] quickstart<\/h1>/);
    for (const id of SECTIONS) expect(first).toContain(`<section id="${id}">`);
    expect(first).toContain("Hello world!");
    expect(first).toContain("no_deliberation");
    expect(first).not.toContain("No finished samples");

    // The same experiment in a second workspace, killed part-way and resumed.
    const file = join(cwd, "specsci-quickstart", "experiment.yaml");
    const ws = join(cwd, "second");
    const db = join(ws, "store.db");
    const child = spawn(process.execPath, [BIN, "-w", ws, "run", file], {
      cwd,
      stdio: "ignore",
      env: { ...process.env, ...env },
    });
    const closed = new Promise((r) => child.once("close", r));
    while (countRows(db, "eval_samples") < 6) await new Promise((r) => setTimeout(r, 50));
    child.kill("SIGKILL");
    await closed;
    const atKill = countRows(db, "eval_samples");
    expect(atKill).toBeLessThan(24);
    const resumed = await runCli(["-w", ws, "run", file], { cwd, env });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(countRows(db, "eval_samples")).toBe(24);
    const again = await runCli(["-w", ws, "report", file, "-o", "second.html"], { cwd, env });
    expect(again.code, again.stderr).toBe(0);
    const second = readFileSync(join(cwd, "second.html"), "utf8");
    expect(withoutTimestamps(second)).toBe(withoutTimestamps(first));
    for (const suffix of ["-rates.csv", "-comparisons.csv", "-breakdowns.csv", ".md", ".tex"])
      expect(readFileSync(join(cwd, `second${suffix}`), "utf8")).toBe(
        readFileSync(join(cwd, "specsci-quickstart", `report${suffix}`), "utf8"),
      );
  }, 240_000);

  it("quickstart --model X without --judge warns that X judges itself", async () => {
    const cwd = tempDir("specsci-quickstart-self-");
    writeFileSync(
      join(cwd, "specsci.yaml"),
      `endpoints: { loop: { base_url: "${server.url}/v1" } }\n`,
    );
    const r = await runCli(["quickstart", "--model", "loop/agent"], {
      cwd,
      env: { SPECSCI_MODEL_CACHE: models },
    });
    expect(r.stderr).toMatch(
      /warning: loop\/agent judges its own answers.*pass --judge <id> .*or set defaults\.judge in specsci\.yaml/,
    );
    const judged = await runCli(["quickstart", "--model", "loop/agent", "--judge", "loop/judge"], {
      cwd,
      env: { SPECSCI_MODEL_CACHE: models },
    });
    expect(judged.stderr).not.toMatch(/judges its own answers/);
  });

  it("quickstart with no model and no network stops with one message listing the options", async () => {
    const cwd = tempDir("specsci-quickstart-none-");
    const r = await runCli(["quickstart"], {
      cwd,
      env: {
        SPECSCI_MODEL_CACHE: tempDir("specsci-empty-cache-"),
        HF_ENDPOINT: "http://127.0.0.1:9",
      },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^specsci: error: no model to run the quickstart on: no --model, no API key, no cached \.gguf in .*, and the default model could not be downloaded \(.*cannot reach http:\/\/127\.0\.0\.1:9/,
    );
    expect(r.stderr).toMatch(
      /hint: choose one: --model .*ANTHROPIC_API_KEY or OPENAI_API_KEY.*--demo/,
    );
    expect(r.stderr.trim().split("\n")).toHaveLength(2);
  });
});
