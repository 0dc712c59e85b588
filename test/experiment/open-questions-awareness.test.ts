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
import { loadMsmConfig } from "../../src/data/msm/config.js";
import { corpusIdOf } from "../../src/data/msm/context.js";
import { ROOT, runCli, tempDir } from "../helpers.js";
import {
  reducedExample,
  servedExamples,
  standInCli,
  stopServedExamples,
  tinyMsmRecipe,
} from "./open-questions-standins.js";

afterAll(stopServedExamples);
const DIR = join(ROOT, "examples", "open-questions");

describe("examples/open-questions/training-awareness.yaml", () => {
  it("plans offline, with a corpus per recipe and the awareness judge on every sample", async () => {
    const cwd = tempDir("specsci-awareness-");
    cpSync(join(ROOT, "examples"), cwd, { recursive: true });
    const plan = await runCli(
      ["--workspace", "ws", "plan", join("open-questions", "training-awareness.yaml")],
      { cwd, env: { ANTHROPIC_API_KEY: undefined, OPENAI_API_KEY: undefined } },
    );
    expect(plan.code, plan.stderr).toBe(0);
    const cost = (dir: string, spec: string) =>
      Number(
        new RegExp(`data/${dir} +${spec} +to make +20811 +\\$(\\d+\\.\\d+)`).exec(plan.stdout)?.[1],
      );
    // The stated corpus costs more by its instruction alone: 10,350 of its 20,700 documents
    // (27M tokens / 1,500 per document, plus 15%) are asked, each prompt 38 o200k tokens longer,
    // at Claude Opus 4.6's $5 per million input tokens.
    expect(cost("msm-rules", "rules")).toBeCloseTo(988.6634, 4);
    expect(
      cost("msm.stated-purpose-msm.rules", "rules \\(recipe recipes/stated-purpose-msm.yaml\\)"),
    ).toBeCloseTo(988.6634 + 10_350 * 38 * 5e-6, 4);
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
    const { here } = await servedExamples("specsci-awareness-run-");
    const doc = reducedExample(here, "training-awareness.yaml");
    doc.setIn(["training", "data"], { msm: "small-msm.yaml", aft: "small-aft.yaml" });
    expect(doc.getIn(["arms", 3, "name"])).toBe("stated-purpose");
    doc.setIn(["arms", 3, "msm_recipe"], "small-stated-msm.yaml");
    writeFileSync(join(here, "small.yaml"), doc.toString());
    // The shipped recipes at a tiny scale: the knob as it is.
    tinyMsmRecipe(join(DIR, "recipes", "training-awareness-msm.yaml"), here, "small-msm.yaml");
    tinyMsmRecipe(join(DIR, "recipes", "stated-purpose-msm.yaml"), here, "small-stated-msm.yaml");
    writeFileSync(
      join(here, "small-aft.yaml"),
      "model: loop/aft-teacher\ncounts: { domains: 1, prompts: 8 }\nbudget: { examples: 8 }\nconcurrency: 4\n",
    );
    const cli = standInCli(here);
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
