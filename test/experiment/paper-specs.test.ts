import { copyFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadExperiment } from "../../src/experiment/config.js";
import { resolveSpecs } from "../../src/experiment/specs.js";
import { rulesOf } from "../../src/spec/model.js";
import { cleanupTempDirs, makeClient, ROOT } from "../helpers.js";

afterAll(cleanupTempDirs);

/** An experiment with the bullet-layout spec under specs.paper-values, `set` as given. */
function experiment(dir: string, set: string, file = "exp.yaml"): string {
  copyFileSync(
    join(ROOT, "test/fixtures/paper-specs/values_spec.txt"),
    join(dir, "value_augmented_spec.txt"),
  );
  writeFileSync(
    join(dir, file),
    `name: paper
specs:
  rules: rules
  paper-values: { file: value_augmented_spec.txt${set} }
arms:
  - { name: values, kind: prompted, spec: paper-values }
models: [fake/am-spec-agent]
evals:
  - { name: am, task: agentic-misalignment, conditions: [leaking_none-none_replacement] }
judge: { model: fake/am-judge }
`,
  );
  return join(dir, file);
}

describe("experiment specs in the paper's layout", () => {
  it("reads the bullet layout and fills placeholders from set:", async () => {
    const { dir, client } = makeClient();
    const loaded = loadExperiment(
      experiment(dir, ", set: { model_name: Qwen, developer: Alibaba Cloud }"),
    );
    const { ready } = await resolveSpecs(loaded, client, { derive: false });
    const paper = ready.find((s) => s.name === "paper-values");
    expect(rulesOf(paper?.spec as never).map((r) => r.id)).toEqual([
      "SP1",
      "SP2",
      "SP3",
      "GP1",
      "GP2",
    ]);
    expect(paper?.spec.title).toBe("Core Principles for Qwen");
    expect(paper?.spec.frontMatter).toMatchObject({ model_name: "Qwen" });
    // Other values make another spec.
    const other = loadExperiment(
      experiment(dir, ", set: { model_name: Llama, developer: Meta }", "other.yaml"),
    );
    const again = (await resolveSpecs(other, client, { derive: false })).ready;
    expect(again.find((s) => s.name === "paper-values")?.hash).not.toBe(paper?.hash);
  });

  it("an unfilled placeholder is a config error naming the spec and the file", async () => {
    const { dir, client } = makeClient();
    const loaded = loadExperiment(experiment(dir, ", set: { model_name: Qwen }"));
    const error = await resolveSpecs(loaded, client, { derive: false }).catch((e) => e);
    expect(error.message).toMatch(
      /value_augmented_spec\.txt has 1 problem\(s\):\n {2}.*value_augmented_spec\.txt:3:39: error: placeholder \{developer\} has no value/,
    );
    expect(error.hint).toMatch(
      /specs\.paper-values in .*exp\.yaml: give each a value in the spec's set:, e\.g\. paper-values: \{ file: …, set: \{ developer: VALUE \} \}/,
    );
  });

  it("refuses a set: value that is not a placeholder name, at its line", () => {
    const { dir } = makeClient();
    expect(() => loadExperiment(experiment(dir, ", set: { model-name: Qwen }"))).toThrow(
      /exp\.yaml:4:\d+: specs\.paper-values.*placeholder name/s,
    );
  });
});
