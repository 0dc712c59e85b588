/** An experiment with preference arms, in a fresh directory, for the pref-* tests. */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadExperiment } from "../../src/experiment/config.js";
import { tempDir } from "../helpers.js";

/** `arms`: YAML list items; `data`: the training.data map; `recipe`: pref.yaml's text. */
export function prefExperiment(
  arms: string,
  o: { data?: string; recipe?: string } = {},
): { dir: string; file: string; load: () => ReturnType<typeof loadExperiment> } {
  const dir = tempDir("specsci-pref-arms-");
  writeFileSync(
    join(dir, "pref.yaml"),
    o.recipe ?? "aft: { model: fake/pref-teacher }\npairs: 4\n",
  );
  const file = join(dir, "e.yaml");
  writeFileSync(
    file,
    `name: pressure
specs: { rules: rules, values: value-augmented }
arms:
${arms}
models: [fake/am-agent]
evals: [{ task: agentic-misalignment, conditions: [leaking_explicit-america_replacement] }]
judge: { model: fake/am-judge }
training:
  base_models: { "fake/am-agent": Qwen/Qwen3-8B }
  data: ${o.data ?? "{ pref: pref.yaml }"}
`,
  );
  return { dir, file, load: () => loadExperiment(file) };
}
