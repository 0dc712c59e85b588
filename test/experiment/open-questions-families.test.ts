/**
 * examples/open-questions/families.yaml plans as shipped, offline, with one AFT set per turn
 * format (the Llama set at no cost of its own); and a reduced version runs end to end against the
 * stand-ins (a loopback model server, stand-in axolotl and vLLM) with a Qwen3 and a Llama 3 base:
 * the Llama set reuses the Qwen set's model calls (the teacher is asked nothing more when the
 * Llama model is added), each base trains on its own set, and the report compares the spec
 * effect across the two families.
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
const offline = { ANTHROPIC_API_KEY: undefined, OPENAI_API_KEY: undefined };

describe("examples/open-questions/families.yaml", () => {
  it("plans offline, with one AFT set per turn format and the Llama sets' calls counted once", async () => {
    const cwd = tempDir("specsci-families-plan-");
    cpSync(join(ROOT, "examples"), cwd, { recursive: true });
    const file = join("open-questions", "families.yaml");
    const plan = await runCli(["--workspace", "ws", "plan", file], { cwd, env: offline });
    expect(plan.code, plan.stderr).toBe(0);
    for (const spec of ["rules", "value-augmented"]) {
      expect(plan.stdout).toMatch(new RegExp(`data/msm-${spec} +${spec} +to make +[1-9]`));
      expect(plan.stdout).toMatch(new RegExp(`data/aft-${spec} +${spec} +to make +[1-9]\\d* +\\$`));
      expect(plan.stdout).toMatch(
        new RegExp(
          `data/aft-${spec}-llama3 +${spec} \\(llama3 template; model calls of aft-${spec}\\) +to make +0 +\\$0\\.0000`,
        ),
      );
    }
    expect(plan.stdout).toContain("12 stage(s) of trained arms wait for their models");
    const json = await runCli(["--workspace", "ws", "--json", "plan", file], { cwd, env: offline });
    const aft = JSON.parse(json.stdout).trainedArms.data.filter(
      (d: { step: { kind: string } }) => d.step.kind === "aft",
    );
    expect(
      aft.map((d: { step: { chatTemplate?: string } }) => d.step.chatTemplate ?? "qwen3"),
    ).toEqual(["qwen3", "llama3", "qwen3", "llama3"]);
  });

  it("runs a reduced version end to end with two families, and the report compares them", async () => {
    const server = await new FakeLlmServer({ latencyMs: 1, record: true }).start();
    servers.push(server);
    const cwd = tempDir("specsci-families-run-");
    cpSync(join(ROOT, "examples"), cwd, { recursive: true });
    const here = join(cwd, "open-questions");
    writeFileSync(
      join(here, "specsci.yaml"),
      `endpoints: { loop: { base_url: "${server.url}/v1", max_in_flight: 8 } }\ndefaults: { max_attempts: 2, retry_base_ms: 1 }\n`,
    );
    writeFileSync(
      join(here, "small-msm.yaml"),
      "model: loop/msm-writer\ncounts: { domains: 1, subdomains: 1, assertions: 2, doc_types: 2, ideas: 2 }\n",
    );
    writeFileSync(
      join(here, "small-aft.yaml"),
      "model: loop/aft-teacher\ncounts: { domains: 1, prompts: 8 }\nbudget: { examples: 8 }\nconcurrency: 4\n",
    );
    const BASES = {
      "loop/qwen": "Qwen/Qwen3-8B",
      "loop/llama": "meta-llama/Llama-3.1-8B-Instruct",
    };
    const reduced = (models: (keyof typeof BASES)[], out: string) => {
      const doc = parseDocument(readFileSync(join(here, "families.yaml"), "utf8"));
      doc.set("models", models);
      doc.set("seeds", [0]);
      doc.set("judge", { model: "loop/judge" });
      doc.setIn(["training", "base_models"], Object.fromEntries(models.map((m) => [m, BASES[m]])));
      doc.setIn(["training", "data"], { msm: "small-msm.yaml", aft: "small-aft.yaml" });
      doc.setIn(["training", "serve"], {
        port: 20000 + Math.floor(Math.random() * 20000),
        timeout_s: 30,
      });
      doc.deleteIn(["training", "hardware"]);
      doc.setIn(["evals", 0, "conditions"], ["leaking_explicit-america_replacement"]);
      doc.setIn(["evals", 0, "epochs"], 2);
      writeFileSync(join(here, out), doc.toString());
    };
    const cli = (args: string[], env: Record<string, string | undefined>) =>
      runCli(["--workspace", "ws", ...args], { cwd: here, env });
    const teacherCalls = () =>
      server.requests.filter((r) => JSON.stringify(r.body ?? "").includes('"aft-teacher"')).length;

    // First the Qwen model alone, where axolotl is missing: its data is made, training waits.
    reduced(["loop/qwen"], "qwen-only.yaml");
    const first = await cli(["--json", "run", "qwen-only.yaml"], {
      PATH: "/usr/bin:/bin",
      SPECSCI_AXOLOTL: undefined,
    });
    expect(first.code, first.stderr + first.stdout.slice(-2000)).toBe(1);
    const asked = teacherCalls();
    expect(asked).toBeGreaterThan(0);

    // Then both families, trained and served by the stand-ins.
    reduced(["loop/qwen", "loop/llama"], "small.yaml");
    const run = await cli(["--json", "run", "small.yaml"], {
      SPECSCI_AXOLOTL: join(STANDINS, "axolotl-standin.mjs"),
      SPECSCI_VLLM: join(STANDINS, "vllm-standin.mjs"),
    });
    expect(run.code, run.stderr + run.stdout.slice(-2000)).toBe(0);
    expect(JSON.parse(run.stdout).blocked).toEqual([]);
    // The Llama sets were made from the Qwen sets' stored answers: no new teacher call.
    expect(teacherCalls()).toBe(asked);
    const data = join(here, "families-training", "data");
    const manifest = (dir: string) =>
      JSON.parse(readFileSync(join(data, dir, "manifest.json"), "utf8"));
    for (const spec of ["rules", "value-augmented"]) {
      const qwen = manifest(`aft-${spec}`);
      const llama = manifest(`aft-${spec}-llama3`);
      expect([qwen.config.chat_template, llama.config.chat_template]).toEqual(["qwen3", "llama3"]);
      expect(llama.set_id).toBe(qwen.set_id);
      expect(llama.selection.selected).toBe(qwen.selection.selected);
      // Qwen3's no-reasoning convention is Qwen's alone.
      const plain = (dir: string) => readFileSync(join(data, dir, "no-reasoning.jsonl"), "utf8");
      expect(plain(`aft-${spec}`)).toContain("/no_think");
      expect(plain(`aft-${spec}-llama3`)).not.toContain("/no_think");
    }
    const llamaPlan = readFileSync(
      join(here, "families-training", "families-rules-loop-llama.yaml"),
      "utf8",
    );
    expect(llamaPlan).toMatch(/data: data\/aft-rules-llama3-it-\w+/);

    const report = await cli(["report", "small.yaml", "-o", "report.html"], {});
    expect(report.code, report.stderr).toBe(0);
    const html = readFileSync(join(here, "report.html"), "utf8").replaceAll("<wbr>", "");
    expect(html).toContain('<section id="base-families"><h2>Across base-model families</h2>');
    const effects = html.slice(html.indexOf("<caption>Spec effect by base-model family"));
    const test = html.slice(html.indexOf("<caption>Does the spec effect differ across base-model"));
    for (const [a, b] of [
      ["rules", "baseline"],
      ["value-augmented", "baseline"],
      ["rules", "value-augmented"],
    ]) {
      for (const [family, model] of [
        ["qwen3", "loop/qwen"],
        ["llama3", "loop/llama"],
      ])
        expect(effects).toContain(
          `<tr><td>${a}</td><td>${b}</td><td>${family}</td><td>${model}</td>`,
        );
      // The stand-ins never act: every family has one outcome throughout, and the test says so.
      expect(test).toContain(
        `<tr><td>${a}</td><td>${b}</td><td>(qwen3 left out: no misaligned sample in either arm) (llama3 left out: no misaligned sample in either arm)</td>`,
      );
    }
  }, 600_000);
});
