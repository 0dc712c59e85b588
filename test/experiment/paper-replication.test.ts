/**
 * examples/paper-replication.yaml: it plans as shipped (offline, the preset's values listed), and
 * it runs end to end against the stand-ins — data from the recipes (a loopback model server
 * writes it), training with a stand-in axolotl, serving with a stand-in vLLM, every eval, the
 * reasoning analysis and the report — with only its scale turned down (one model and seed, tiny
 * recipes and ladder, one scenario); its specs and arms are the example's own.
 */
import { cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseDocument } from "yaml";
import { FakeLlmServer } from "../fakes/llm-server.js";
import { cleanupTempDirs, ROOT, runCli, tempDir } from "../helpers.js";

const EXAMPLES = join(ROOT, "examples");
const AXOLOTL = join(ROOT, "test", "fakes", "axolotl-standin.mjs");
const VLLM = join(ROOT, "test", "fakes", "vllm-standin.mjs");

let server: FakeLlmServer;
let cwd: string;
const port = 20000 + Math.floor(Math.random() * 20000);

beforeAll(async () => {
  server = await new FakeLlmServer({ latencyMs: 1, record: false }).start();
  cwd = tempDir("specsci-paper-");
  cpSync(EXAMPLES, cwd, { recursive: true });
  writeFileSync(
    join(cwd, "specsci.yaml"),
    `endpoints: { loop: { base_url: "${server.url}/v1", max_in_flight: 8 } }\ndefaults: { max_attempts: 2, retry_base_ms: 1 }\n`,
  );
});
afterAll(async () => {
  await server.stop();
  cleanupTempDirs();
});

/** The example with its scale turned down and its models pointed at the loopback server. */
function smallReplication(): string {
  const doc = parseDocument(readFileSync(join(EXAMPLES, "paper-replication.yaml"), "utf8"));
  doc.set("preset", { name: "paper", ladder_sizes: [4, 8], anti_fractions: [0.25] });
  doc.set("models", ["loop/agent"]);
  doc.set("seeds", [0]);
  doc.set("judge", { model: "loop/judge" });
  doc.setIn(["training", "base_models"], { "loop/agent": "Qwen/Qwen3-8B" });
  doc.setIn(["training", "data"], { msm: "small-msm.yaml", aft: "small-aft.yaml" });
  doc.setIn(["training", "serve"], { port, timeout_s: 30 });
  doc.deleteIn(["training", "hardware"]);
  doc.setIn(["evals", 0, "conditions"], ["leaking_explicit-america_replacement"]);
  doc.setIn(["evals", 0, "epochs"], 1);
  doc.setIn(["evals", 1, "limit"], 1);
  doc.setIn(["evals", 1, "epochs"], 1);
  doc.setIn(["analysis", "reasoning", "labellers"], ["loop/labeller"]);
  writeFileSync(
    join(cwd, "small-msm.yaml"),
    "model: loop/msm-writer\ncounts: { domains: 1, subdomains: 1, assertions: 2, doc_types: 1, ideas: 2 }\n",
  );
  writeFileSync(
    join(cwd, "small-aft.yaml"),
    "model: loop/aft-teacher\ncounts: { domains: 1, prompts: 8 }\nbudget: { examples: 8 }\nconcurrency: 4\n",
  );
  writeFileSync(join(cwd, "small.yaml"), doc.toString());
  return "small.yaml";
}

/** The report's vega-lite specs by chart id, from the HTML's "Chart specifications" block. */
function chartSpecs(html: string): Record<string, unknown> {
  const pre = /<summary>Chart specifications \(vega-lite\)<\/summary><pre>([\s\S]*?)<\/pre>/.exec(
    html,
  );
  const text = (pre?.[1] ?? "[]")
    .replaceAll("&quot;", '"')
    .replaceAll("&#39;", "'")
    .replaceAll("&lt;", "<")
    .replaceAll("&gt;", ">")
    .replaceAll("&amp;", "&");
  const list = JSON.parse(text) as { id: string; spec: unknown }[];
  return Object.fromEntries(list.map((c) => [c.id, c.spec]));
}

describe("examples/paper-replication.yaml", () => {
  it("plans as shipped, offline, and lists every value the preset set", async () => {
    const plan = await runCli(["--workspace", "ws-plan", "plan", "paper-replication.yaml"], {
      cwd,
      env: { ANTHROPIC_API_KEY: undefined, OPENAI_API_KEY: undefined },
    });
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(/^preset paper set \d+ value\(s\) the file leaves out/);
    for (const shown of [
      /training\.hyperparameters\.sequence_len +8192/,
      "evals.0.epochs",
      "evals.0.toggles.scratchpad",
      "anthropic/claude-sonnet-4-6",
      "+ it-baseline (it-only)",
      "+ ladder-msm+aft-nocot (msm+aft)",
      "+ dose-msm+aft (msm+aft)",
      "+ general-then-specific-nocot (msm+aft)",
    ])
      expect(plan.stdout).toMatch(shown);
    const json = JSON.parse(
      (
        await runCli(["--workspace", "ws-plan", "--json", "plan", "paper-replication.yaml"], {
          cwd,
        })
      ).stdout,
    );
    // 4 models × 4 seeds × 2 evals for every arm, all of them trained.
    const arms = new Set(json.training.map((t: { arm: string }) => t.arm));
    expect(json.stages).toHaveLength(0);
    expect(json.training).toHaveLength(arms.size * 4 * 4 * 2);
    for (const arm of [
      "it-baseline",
      "msm+aft-value-augmented-rule-augmented",
      "ladder-aft-n80000",
    ])
      expect(arms.has(arm), arm).toBe(true);
  });

  it("plans with the paper's spec files in the bullet layout, through its commented specs block", async () => {
    // What a user does: uncomment the block in place of the built-in specs.
    const text = readFileSync(join(EXAMPLES, "paper-replication.yaml"), "utf8");
    const block = text
      .split("\n")
      .filter((l) => /^# {1,3}(specs:|[a-z-]+: )/.test(l))
      .map((l) => l.replace(/^# /, ""));
    expect(block[0]).toBe("specs:");
    const builtIn = /^specs:\n(?: {2}.*\n)+/m;
    expect(text).toMatch(builtIn);
    writeFileSync(join(cwd, "paper-specs.yaml"), text.replace(builtIn, `${block.join("\n")}\n`));
    // Files in the paper's layout, written for this test: bullets and {model_name}, no front matter.
    const files = block.flatMap((l) => /file: (\S+),/.exec(l)?.[1] ?? []);
    expect(files).toHaveLength(5);
    mkdirSync(join(cwd, "paper-specs"), { recursive: true });
    for (const [i, f] of files.entries())
      writeFileSync(
        join(cwd, f),
        `Paper spec ${i}\n\nSafety Principles\n\n- SP1: {model_name} does not undermine human oversight.\n  - It accepts shutdown.\n\nWhy oversight matters for {model_name}.\n\n- GP${i + 1}: {model_name} is honest.\n`,
      );
    const plan = await runCli(["--workspace", "ws-paper-specs", "plan", "paper-specs.yaml"], {
      cwd,
      env: { ANTHROPIC_API_KEY: undefined, OPENAI_API_KEY: undefined },
    });
    expect(plan.code, plan.stderr).toBe(0);
    for (const f of files) expect(plan.stdout).toContain(join(cwd, f));
    // Named by half: the error names the spec and says how to name its model.
    const half = block.join("\n").replace(", developer: Alibaba Cloud", "");
    writeFileSync(join(cwd, "paper-half.yaml"), text.replace(builtIn, `${half}\n`));
    const refused = await runCli(["--workspace", "ws-paper-specs", "plan", "paper-half.yaml"], {
      cwd,
      env: { ANTHROPIC_API_KEY: undefined, OPENAI_API_KEY: undefined },
    });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/the spec \S+ names no model/);
    expect(refused.stderr).toMatch(/--set model_name=NAME --set developer=ORG/);
  });

  it("runs end to end against the stand-ins and reports every arm", async () => {
    const file = smallReplication();
    const cli = (args: string[]) =>
      runCli(["--workspace", "ws", "--json", ...args], {
        cwd,
        env: { SPECSCI_AXOLOTL: AXOLOTL, SPECSCI_VLLM: VLLM },
      });
    const run = await cli(["run", file]);
    expect(run.code, run.stderr + run.stdout.slice(-2000)).toBe(0);
    const r = JSON.parse(run.stdout);
    expect(r.blocked).toEqual([]);
    const status = JSON.parse((await cli(["status", file])).stdout);
    const states = status.stages.map((s: { state: string }) => s.state);
    expect(states.length).toBeGreaterThan(50);
    expect(states.every((s: string) => s === "done")).toBe(true);
    const arms = [...new Set(status.stages.map((s: { key: string }) => s.key.split("/")[1]))];
    for (const arm of [
      "it-baseline",
      "aft-rules",
      "aft-rules-nocot",
      "msm+aft-rules-value-augmented",
      "general-then-specific",
      "ladder-aft-n4",
      "ladder-msm+aft-nocot-n8",
      "dose-aft-anti25",
      "dose-msm+aft-nocot-anti25",
    ])
      expect(arms, arm).toContain(arm);

    const report = await runCli(["--workspace", "ws", "report", file, "-o", "report.html"], {
      cwd,
    });
    expect(report.code, report.stderr).toBe(0);
    const html = readFileSync(join(cwd, "report.html"), "utf8");
    expect(html).toContain('id="main-figure"');
    expect(html).toContain('id="task-idqa"');
    // The counterparts of the paper's figures: the factorial by CoT, the ladder, the doses.
    for (const id of ["main", "design", "ladder", "dose"])
      expect(html, id).toContain(`id="chart-${id}"`);
    const charts = chartSpecs(html);
    expect(JSON.stringify(charts.design)).toContain("loop/agent · no CoT");
    const points = (id: string) =>
      (charts[id] as { data: { values: { series: string; x: number }[] } }).data.values;
    expect(new Set(points("ladder").map((p) => p.series))).toEqual(
      new Set(["ladder-aft", "ladder-aft-nocot", "ladder-msm+aft", "ladder-msm+aft-nocot"]),
    );
    // Each dose series starts at its undosed arm (0%).
    expect(
      points("dose")
        .filter((p) => p.series === "dose-msm+aft")
        .map((p) => p.x),
    ).toEqual([0, 25]);
    for (const arm of arms) expect(html).toContain(String(arm));
    // The whole chain (every arm's data, training, serving and evals, then the report) took 132 s on a
    // loaded 2-core machine, past the 60 s default.
  }, 300_000);
});
