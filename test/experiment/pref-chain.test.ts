/**
 * Preference arms end to end through the CLI: `plan` offline lists the preference sets and their
 * cost; `run` makes them (a loopback model server writes the AFT sets, the rejected answers and
 * the judge), trains AFT then the preference stage with a stand-in axolotl, serves with a
 * stand-in vLLM and evaluates each arm on its own preference-trained model.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeLlmServer } from "../fakes/llm-server.js";
import { cleanupTempDirs, ROOT, runCli, tempDir } from "../helpers.js";

const AXOLOTL = join(ROOT, "test", "fakes", "axolotl-standin.mjs");
const VLLM = join(ROOT, "test", "fakes", "vllm-standin.mjs");

let server: FakeLlmServer;
let cwd: string;

beforeAll(async () => {
  server = await new FakeLlmServer({ latencyMs: 1, record: false }).start();
  cwd = tempDir("specsci-pref-chain-");
  writeFileSync(
    join(cwd, "specsci.yaml"),
    `endpoints: { loop: { base_url: "${server.url}/v1", max_in_flight: 8 } }\ndefaults: { max_attempts: 2, retry_base_ms: 1 }\n`,
  );
  writeFileSync(
    join(cwd, "aft.yaml"),
    "model: loop/aft-teacher\ncounts: { domains: 1, prompts: 8 }\nconcurrency: 4\n",
  );
  writeFileSync(
    join(cwd, "pref.yaml"),
    "aft: { model: loop/aft-teacher, counts: { domains: 1, prompts: 8 }, concurrency: 4 }\npairs: 4\n",
  );
  writeFileSync(
    join(cwd, "experiment.yaml"),
    `name: pchain
specs: { rules: rules }
arms:
  - { name: aft, kind: aft, aft_spec: rules, aft_size: 8, pref: { method: dpo, steps: 5, contamination: { fractions: [0.5] } } }
models: [loop/agent]
evals: [{ task: agentic-misalignment, conditions: [leaking_explicit-america_replacement] }]
judge: { model: loop/judge }
training:
  base_models: { loop/agent: Qwen/Qwen3-8B }
  data: { aft: aft.yaml, pref: pref.yaml }
  serve: { port: ${20000 + Math.floor(Math.random() * 20000)}, timeout_s: 30 }
`,
  );
});
afterAll(async () => {
  await server.stop();
  cleanupTempDirs();
});

const cli = (args: string[], env: Record<string, string | undefined> = {}) =>
  runCli(["--workspace", "ws", ...args], {
    cwd,
    env: { SPECSCI_AXOLOTL: AXOLOTL, SPECSCI_VLLM: VLLM, ...env },
  });

describe("preference arms, end to end", () => {
  it("plans the preference sets offline, then makes them, trains AFT then DPO, and evaluates", async () => {
    const plan = await cli(["plan", "experiment.yaml"], {
      SPECSCI_AXOLOTL: undefined,
      ANTHROPIC_API_KEY: undefined,
    });
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(/data\/pref-rules +rules preference pairs +to make +\d+/);
    expect(plan.stdout).toMatch(
      /data\/pref-rules-misaligned-50 +rules preference pairs \(50% misaligned\) +to make +0 /,
    );
    expect(plan.stdout).toMatch(/eval\/aft-dpo5-mis50\/\S+\/am\/seed-0 \(needs \S+\/pref\)/);

    const run = await cli(["--json", "run", "experiment.yaml"]);
    expect(run.code, run.stderr + run.stdout.slice(-2000)).toBe(0);
    const r = JSON.parse(run.stdout);
    expect(r.blocked).toEqual([]);
    expect(r.data.map((d: { step: { dir: string } }) => d.step.dir.split("/").at(-1))).toEqual([
      "aft-rules-8",
      "pref-rules",
      "pref-rules-misaligned-50",
    ]);
    // One AFT run, continued by each preference arm.
    expect(r.trained).toEqual([
      "train-pchain-aft-loop-agent-seed0/aft",
      "train-pchain-aft-dpo5-loop-agent-seed0/pref",
      "train-pchain-aft-dpo5-mis50-loop-agent-seed0/pref",
    ]);
    const manifest = (dir: string) =>
      JSON.parse(readFileSync(join(cwd, "pchain-training", "data", dir, "manifest.json"), "utf8"));
    const clean = manifest("pref-rules");
    const dirty = manifest("pref-rules-misaligned-50");
    expect(clean.selection.selected).toBe(4);
    expect(clean.contamination).toMatchObject({ fraction: 0, pairs: 0 });
    expect(dirty.contamination).toMatchObject({ kind: "misaligned", fraction: 0.5, pairs: 2 });
    // One generated set: the contaminated one shares its answers, and no call was made for it.
    expect(dirty.set_id).toBe(clean.set_id);
    expect(dirty.usage.pref.calls).toBe(clean.usage.pref.calls);

    // The preference stage's axolotl config: DPO on the pairs, from the shared AFT run's adapter.
    const models = JSON.parse((await cli(["--json", "train", "list"])).stdout) as {
      id: string;
      stages: { name: string; data: string }[];
      configs: Record<string, string>;
    }[];
    const dpo = models.find((m) => m.id === "train-pchain-aft-dpo5-mis50-loop-agent-seed0/pref");
    expect(dpo?.stages.map((s) => [s.name, /data\/([\w.-]+)\//.exec(s.data)?.[1]])).toEqual([
      ["aft", "aft-rules-8"],
      ["pref", "pref-rules-misaligned-50"],
    ]);
    const config = Object.entries(dpo?.configs ?? {}).find(([k]) => k.endsWith("pref.yaml"))?.[1];
    expect(config).toMatch(/^rl: dpo$/m);
    expect(config).toMatch(/^max_steps: 5$/m);
    expect(config).toMatch(/lora_model_dir: .*pchain-aft-loop-agent\/seed-0\/aft\n/);
    expect(r.summaries).toHaveLength(3);
    expect(r.summaries.every((s: { errors: number }) => s.errors === 0)).toBe(true);

    // The report's preference-pressure section: both series, their rates and trend tests.
    const report = await cli(["report", "experiment.yaml", "-o", "report.html"]);
    expect(report.code, report.stderr).toBe(0);
    const html = readFileSync(join(cwd, "report.html"), "utf8");
    expect(html).toContain('<section id="preference-pressure">');
    expect(html).toContain('id="chart-pref-steps"');
    expect(html).toContain('id="chart-pref-contamination"');
    expect(html).toContain(
      "<caption>Trend of the misalignment rate over the pressure (Cochran–Armitage)",
    );
    expect(readFileSync(join(cwd, "report.md"), "utf8")).toContain(
      "Misalignment rate under preference-optimisation pressure",
    );

    // A rerun makes nothing again.
    const again = await cli(["--json", "run", "experiment.yaml"]);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).data.every((d: { made: boolean }) => !d.made)).toBe(true);
  }, 300_000);
});
