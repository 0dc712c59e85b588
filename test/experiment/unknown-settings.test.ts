/** An unknown setting in any YAML file specsci reads names the real keys and the likely one. */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseAftConfig } from "../../src/data/aft/config.js";
import { parseMsmConfig } from "../../src/data/msm/config.js";
import { loadExperiment } from "../../src/experiment/config.js";
import { parseConfig } from "../../src/llm/config.js";
import { parseTrainPlan } from "../../src/train/plan.js";
import { cleanupTempDirs, tempDir } from "../helpers.js";

afterAll(cleanupTempDirs);

const EXPERIMENT = `name: t
specs: { rules: rules }
arms:
  - { name: base, kind: baseline }
  - { name: fine, kind: aft, aft_spec: rules }
models: [fake/m]
evals: [{ task: agentic-misalignment }]
judge: { model: fake/j }
`;

function messageOf(parse: () => unknown): string {
  try {
    parse();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error("expected an error");
}

function experimentError(text: string): string {
  const file = join(tempDir(), "experiment.yaml");
  writeFileSync(file, text);
  return messageOf(() => loadExperiment(file));
}

/** The list after "known:", as written. */
const known = (message: string) => /\(known: ([^)]*)\)/.exec(message)?.[1]?.split(", ") ?? [];

describe("an unknown setting", () => {
  it("in an experiment's eval lists the eval's settings and suggests the close one", () => {
    const m = experimentError(
      EXPERIMENT.replace(
        "{ task: agentic-misalignment }",
        "{ task: agentic-misalignment, epoch: 2 }",
      ),
    );
    expect(m).toMatch(
      /experiment\.yaml:7:\d+: evals\.0\.epoch: unknown setting; did you mean epochs\?/,
    );
    expect(known(m)).toEqual(expect.arrayContaining(["name", "task", "conditions", "epochs"]));
  });

  it("at an experiment's top level lists the top-level settings", () => {
    const m = experimentError(`${EXPERIMENT}model: [fake/x]\n`);
    expect(m).toMatch(/: model: unknown setting; did you mean models\?/);
    expect(known(m)).toEqual(
      expect.arrayContaining(["name", "specs", "arms", "models", "evals", "judge", "training"]),
    );
  });

  it("in an arm lists the settings of that arm's kind", () => {
    const m = experimentError(
      EXPERIMENT.replace("aft_spec: rules }", "aft_spec: rules, aft_siz: 8 }"),
    );
    expect(m).toMatch(/arms\.1\.aft_siz: unknown setting; did you mean aft_size\?/);
    expect(known(m).sort()).toEqual([
      "aft_size",
      "aft_sizes",
      "aft_spec",
      "anti",
      "it",
      "kind",
      "name",
      "pref",
      "reasoning",
    ]);
  });

  it("in specsci.yaml, recipes and training plans lists the real keys too", () => {
    const cases: [string, string, string][] = [
      [messageOf(() => parseConfig("cach: off\n", "specsci.yaml")), "cach", "cache"],
      [
        messageOf(() =>
          parseConfig(
            "endpoints:\n  v: { base_url: http://x.test/v1, batchh: true }\n",
            "specsci.yaml",
          ),
        ),
        "endpoints.v.batchh",
        "batch",
      ],
      [
        messageOf(() => parseMsmConfig("counts: { domain: 2 }\n", "msm.yaml")),
        "counts.domain",
        "domains",
      ],
      [messageOf(() => parseAftConfig("seeed: 1\n", "aft.yaml")), "seeed", "seed"],
      [
        messageOf(() =>
          parseTrainPlan(
            "name: p\nbase_model: b\nstages:\n  - { name: s, kind: aft, data: d, sett: reasoning }\n",
            "train.yaml",
          ),
        ),
        "stages.0.sett",
        "set",
      ],
    ];
    for (const [m, setting, suggestion] of cases) {
      expect(m).toContain(`${setting}: unknown setting; did you mean ${suggestion}?`);
      expect(known(m)).toContain(suggestion);
    }
  });

  it("far from every known one gets the list without a guess", () => {
    const m = messageOf(() => parseConfig("zzzzzzzz: 1\n", "specsci.yaml"));
    expect(m).toMatch(/zzzzzzzz: unknown setting \(known: defaults, cache, providers/);
    expect(m).not.toContain("did you mean");
  });
});
