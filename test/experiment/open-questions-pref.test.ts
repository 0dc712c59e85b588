/**
 * examples/open-questions/preference-pressure.yaml plans as shipped, offline: the MSM corpus, the
 * AFT set, one clean preference set and its reward-hacking shares (costed by the answers they
 * add), and every arm's stages; and a reduced version runs end to end against the stand-ins (a
 * loopback model server, stand-in axolotl and vLLM) through AFT and DPO, to the report's
 * preference-pressure section.
 */
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseDocument } from "yaml";
import { FakeLlmServer } from "../fakes/llm-server.js";
import { cleanupTempDirs, ROOT, runCli, tempDir } from "../helpers.js";

const servers: FakeLlmServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.stop();
  cleanupTempDirs();
});
const STANDINS = join(ROOT, "test", "fakes");
const FILE = join("open-questions", "preference-pressure.yaml");

describe("examples/open-questions/preference-pressure.yaml", () => {
  it("plans offline: one preference set and its contaminated shares, and 14 trained arms", async () => {
    const cwd = tempDir("specsci-pref-question-");
    cpSync(join(ROOT, "examples"), cwd, { recursive: true });
    const plan = await runCli(["--workspace", "ws", "plan", FILE], {
      cwd,
      env: { ANTHROPIC_API_KEY: undefined, OPENAI_API_KEY: undefined },
    });
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(/data\/msm-specific +specific +to make/);
    expect(plan.stdout).toMatch(/data\/pref-specific +specific preference pairs +to make +\d{4,}/);
    for (const share of [25, 50])
      expect(plan.stdout).toMatch(
        new RegExp(
          `data/pref-specific-reward-hacking-${share} +specific preference pairs \\(${share}% reward-hacking\\) +to make +\\d{3} `,
        ),
      );
    expect(plan.stdout).toContain("42 stage(s) of trained arms wait for their models");
    expect(plan.stdout).toContain("training: 14 arm plan(s), 42 run(s) with axolotl");
    expect(plan.stdout).toMatch(
      /eval\/msm-aft-dpo400-rh50\/\S+\/am\/seed-2 \(needs \S+-msm-aft-dpo400-rh50-\S+-seed2\/pref\)/,
    );
  });

  it("runs end to end against the stand-ins, and the report answers with the MSM advantage per point", async () => {
    const server = await new FakeLlmServer({ latencyMs: 1, record: false }).start();
    servers.push(server);
    const cwd = tempDir("specsci-pref-question-run-");
    cpSync(join(ROOT, "examples"), cwd, { recursive: true });
    const here = join(cwd, "open-questions");
    writeFileSync(
      join(here, "specsci.yaml"),
      `endpoints: { loop: { base_url: "${server.url}/v1", max_in_flight: 8 } }\ndefaults: { max_attempts: 2, retry_base_ms: 1 }\n`,
    );
    const doc = parseDocument(readFileSync(join(here, "preference-pressure.yaml"), "utf8"));
    doc.set("models", ["loop/agent"]);
    doc.set("seeds", [0]);
    doc.set("judge", { model: "loop/judge" });
    // The shipped design at a tiny scale: one step count and one reward-hacking share.
    const pref = {
      method: "dpo",
      steps: [5],
      contamination: { kind: "reward-hacking", fractions: [0.5] },
    };
    doc.setIn(["arms", 2, "pref"], pref);
    doc.setIn(["arms", 1, "pref"], pref);
    doc.setIn(["training", "base_models"], { "loop/agent": "Qwen/Qwen3-8B" });
    doc.setIn(["training", "data"], {
      msm: "small-msm.yaml",
      aft: "small-aft.yaml",
      pref: "small-pref.yaml",
    });
    doc.setIn(["training", "serve"], {
      port: 20000 + Math.floor(Math.random() * 20000),
      timeout_s: 30,
    });
    doc.deleteIn(["training", "hardware"]);
    doc.setIn(["evals", 0, "conditions"], ["leaking_explicit-america_replacement"]);
    doc.setIn(["evals", 0, "epochs"], 2);
    writeFileSync(join(here, "small.yaml"), doc.toString());
    writeFileSync(
      join(here, "small-msm.yaml"),
      "model: loop/msm-writer\ncounts: { domains: 1, subdomains: 1, assertions: 2, doc_types: 2, ideas: 2 }\n",
    );
    const aft = "model: loop/aft-teacher\ncounts: { domains: 1, prompts: 8 }\nconcurrency: 4\n";
    writeFileSync(join(here, "small-aft.yaml"), `${aft}budget: { examples: 8 }\n`);
    writeFileSync(
      join(here, "small-pref.yaml"),
      "aft: { model: loop/aft-teacher, counts: { domains: 1, prompts: 8 }, concurrency: 4 }\npairs: 4\n",
    );
    const cli = (args: string[]) =>
      runCli(["--workspace", "ws", ...args], {
        cwd: here,
        env: {
          SPECSCI_AXOLOTL: join(STANDINS, "axolotl-standin.mjs"),
          SPECSCI_VLLM: join(STANDINS, "vllm-standin.mjs"),
        },
      });
    const run = await cli(["--json", "run", "small.yaml"]);
    expect(run.code, run.stderr + run.stdout.slice(-2000)).toBe(0);
    const r = JSON.parse(run.stdout);
    expect(r.blocked).toEqual([]);
    expect(r.trained.filter((t: string) => t.endsWith("/pref"))).toHaveLength(4);
    const dirty = JSON.parse(
      readFileSync(
        join(
          here,
          "preference-pressure-training",
          "data",
          "pref-specific-reward-hacking-50",
          "manifest.json",
        ),
        "utf8",
      ),
    );
    expect(dirty.contamination).toMatchObject({ kind: "reward-hacking", target: 2, pairs: 2 });

    const report = await cli(["report", "small.yaml", "-o", "report.html"]);
    expect(report.code, report.stderr).toBe(0);
    const html = readFileSync(join(here, "report.html"), "utf8").replaceAll("<wbr>", "");
    expect(html).toContain('<section id="preference-pressure">');
    expect(html).toContain('id="chart-pref-steps"');
    expect(html).toContain('id="chart-pref-contamination"');
    const table = html
      .slice(html.indexOf("<caption>MSM advantage under preference pressure"))
      .split("</table>")[0];
    // At 0 and 5 steps, and at 0% and 50% reward-hacking: MSM+AFT against AFT only.
    expect(html).toContain(
      "<caption>Does the MSM advantage change with the pressure? (logistic interaction)",
    );
    for (const [msm, aftOnly, over, x] of [
      ["msm-aft", "aft-only", "steps", "0"],
      ["msm-aft", "aft-only", "steps", "5"],
      ["msm-aft-dpo5", "aft-only-dpo5", "contaminated %", "0"],
      ["msm-aft-dpo5", "aft-only-dpo5", "contaminated %", "50"],
    ])
      expect(table).toContain(
        `<tr><td>${msm}</td><td>${aftOnly}</td><td>loop/agent</td><td>${over}</td><td class="num">${x}</td>`,
      );
  }, 300_000);
});
