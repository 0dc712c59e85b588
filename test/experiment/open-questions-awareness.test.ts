/**
 * examples/open-questions/training-awareness.yaml plans as shipped, offline: both MSM corpora of
 * its one spec (the experiment's recipe, and the stated-purpose arm's own with the knob on, whose
 * instruction the plan prices), the shared AFT set, and every arm's eval stages; and it runs end
 * to end against the stand-ins (a loopback model server, stand-in axolotl and vLLM) with its scale
 * turned down, its specs and arms its own.
 */
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseDocument } from "yaml";
import { loadMsmConfig } from "../../src/data/msm/config.js";
import { corpusIdOf } from "../../src/data/msm/context.js";
import { FakeLlmServer } from "../fakes/llm-server.js";
import { cleanupTempDirs, ROOT, runCli, tempDir } from "../helpers.js";

const servers: FakeLlmServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.stop();
  cleanupTempDirs();
});
const DIR = join(ROOT, "examples", "open-questions");
const STANDINS = join(ROOT, "test", "fakes");

describe("examples/open-questions/training-awareness.yaml", () => {
  it("plans offline, with a corpus per recipe and the awareness judge on every sample", async () => {
    const cwd = tempDir("specsci-awareness-");
    cpSync(join(ROOT, "examples"), cwd, { recursive: true });
    const plan = await runCli(
      ["--workspace", "ws", "plan", join("open-questions", "training-awareness.yaml")],
      { cwd, env: { ANTHROPIC_API_KEY: undefined, OPENAI_API_KEY: undefined } },
    );
    expect(plan.code, plan.stderr).toBe(0);
    const cost = (dir: string) =>
      Number(
        new RegExp(`data/${dir} +rules +to make +20811 +\\$(\\d+\\.\\d+)`).exec(plan.stdout)?.[1],
      );
    // The stated corpus costs more by its instruction alone: 10,350 of its 20,700 documents
    // (27M tokens / 1,500 per document, plus 15%) are asked, each prompt 38 o200k tokens longer,
    // at Claude Opus 4.6's $5 per million input tokens.
    expect(cost("msm-rules")).toBeCloseTo(988.6634, 4);
    expect(cost("msm.stated-purpose-msm.rules")).toBeCloseTo(988.6634 + 10_350 * 38 * 5e-6, 4);
    expect(plan.stdout).toMatch(/data\/aft-rules +rules +to make/);
    // 27 scenarios × 10 epochs, each judged for misalignment and for eval awareness.
    expect(plan.stdout).toMatch(/eval\/baseline\/\S+\/am\/seed-0 +270 +0 +270 +270 +540 /);
    for (const arm of ["aft-only", "unstated", "stated-purpose"])
      for (const seed of [0, 1, 2])
        expect(plan.stdout).toMatch(new RegExp(`eval/${arm}/\\S+/am/seed-${seed} \\(needs `));
    expect(plan.stdout).toContain("9 stage(s) of trained arms wait for their models");
  });

  it("its two recipes differ in the training-purpose knob alone", () => {
    const plain = loadMsmConfig(join(DIR, "recipes", "training-awareness-msm.yaml"));
    const stated = loadMsmConfig(join(DIR, "recipes", "stated-purpose-msm.yaml"));
    expect(plain.knobs.training_purpose).toBeUndefined();
    expect(stated.knobs.training_purpose).toEqual({ mode: "stated", share: 0.5 });
    const { training_purpose: _, ...knobs } = stated.knobs;
    expect({ ...stated, knobs }).toEqual(plain);
    expect(corpusIdOf("h", stated, "rules")).not.toBe(corpusIdOf("h", plain, "rules"));
  });

  it("runs end to end against the stand-ins: two corpora, one stating the purpose, and the awareness section", async () => {
    const server = await new FakeLlmServer({ latencyMs: 1, record: false }).start();
    servers.push(server);
    const cwd = tempDir("specsci-awareness-run-");
    cpSync(join(ROOT, "examples"), cwd, { recursive: true });
    const here = join(cwd, "open-questions");
    writeFileSync(
      join(here, "specsci.yaml"),
      `endpoints: { loop: { base_url: "${server.url}/v1", max_in_flight: 8 } }\ndefaults: { max_attempts: 2, retry_base_ms: 1 }\n`,
    );
    const doc = parseDocument(readFileSync(join(here, "training-awareness.yaml"), "utf8"));
    doc.set("models", ["loop/agent"]);
    doc.set("seeds", [0]);
    doc.set("judge", { model: "loop/judge" });
    doc.setIn(["training", "base_models"], { "loop/agent": "Qwen/Qwen3-8B" });
    doc.setIn(["training", "data"], { msm: "small-msm.yaml", aft: "small-aft.yaml" });
    expect(doc.getIn(["arms", 3, "name"])).toBe("stated-purpose");
    doc.setIn(["arms", 3, "msm_recipe"], "small-stated-msm.yaml");
    doc.setIn(["training", "serve"], {
      port: 20000 + Math.floor(Math.random() * 20000),
      timeout_s: 30,
    });
    doc.deleteIn(["training", "hardware"]);
    doc.setIn(["evals", 0, "conditions"], ["leaking_explicit-america_replacement"]);
    doc.setIn(["evals", 0, "epochs"], 2);
    writeFileSync(join(here, "small.yaml"), doc.toString());
    // The shipped recipes at a tiny scale: the knob as it is.
    for (const [shipped, small] of [
      ["training-awareness-msm.yaml", "small-msm.yaml"],
      ["stated-purpose-msm.yaml", "small-stated-msm.yaml"],
    ] as const) {
      const recipe = parseDocument(readFileSync(join(here, "recipes", shipped), "utf8"));
      recipe.set("model", "loop/msm-writer");
      recipe.set("counts", { domains: 1, subdomains: 1, assertions: 2, doc_types: 2, ideas: 3 });
      recipe.deleteIn(["budget"]);
      writeFileSync(join(here, small), recipe.toString());
    }
    writeFileSync(
      join(here, "small-aft.yaml"),
      "model: loop/aft-teacher\ncounts: { domains: 1, prompts: 8 }\nbudget: { examples: 8 }\nconcurrency: 4\n",
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
    expect(JSON.parse(run.stdout).blocked).toEqual([]);
    const data = join(here, "training-awareness-training", "data");
    const manifest = (dir: string) =>
      JSON.parse(readFileSync(join(data, dir, "manifest.json"), "utf8"));
    const aware = manifest("msm.small-stated-msm.rules");
    const plain = manifest("msm-rules");
    expect(plain.training_purpose).toBeUndefined();
    expect(aware.training_purpose).toMatchObject({ asked_share: 0.5, asked_not_stating: 0 });
    expect(aware.training_purpose.stating).toBeGreaterThan(0);
    expect(aware.corpus_id).not.toBe(plain.corpus_id);

    const report = await cli(["report", "small.yaml", "-o", "report.html"]);
    expect(report.code, report.stderr).toBe(0);
    const html = readFileSync(join(here, "report.html"), "utf8");
    expect(html).toContain('id="chart-awareness-split"');
    expect(html).toContain("<caption>Misalignment rate among eval-aware and unaware samples");
    // Every arm has a row of the aware-vs-unaware table (names break at <wbr>).
    const table = html
      .slice(html.indexOf("<caption>Misalignment rate among eval-aware"))
      .split("</table>")[0]
      ?.replaceAll("<wbr>", "");
    for (const arm of ["baseline", "aft-only", "unstated", "stated-purpose"])
      expect(table).toContain(`<tr><td>${arm}</td><td>loop/agent</td>`);
  }, 300_000);
});
