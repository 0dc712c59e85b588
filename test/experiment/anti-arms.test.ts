/**
 * Anti-spec dose arms (`anti:` on aft, msm+aft and cross arms): the paper's App. I contamination
 * series, its config, data steps, plans and fingerprints; and that arms without it keep theirs.
 */
import { writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadExperiment, type TrainedArm } from "../../src/experiment/config.js";
import {
  armData,
  type TrainedStage,
  trainingDir,
  trainingFingerprint,
} from "../../src/experiment/training.js";
import { cleanupTempDirs, tempDir } from "../helpers.js";

afterAll(cleanupTempDirs);

/** Three chats written for this test (their bytes enter the IT fingerprints pinned below). */
const IT_CHATS = [
  ["What is 2 + 2?", "4."],
  ["Name a primary colour.", "Red."],
  ["Spell 'cat' backwards.", "tac"],
]
  .map(([q, a]) =>
    JSON.stringify({
      messages: [
        { role: "user", content: q },
        { role: "assistant", content: a },
      ],
    }),
  )
  .join("\n");

/** An experiment in a fresh directory with `it.jsonl`; `arms` is YAML list items. */
function experiment(arms: string) {
  const dir = tempDir("specsci-anti-arms-");
  writeFileSync(join(dir, "it.jsonl"), `${IT_CHATS}\n`);
  const file = join(dir, "e.yaml");
  writeFileSync(
    file,
    `name: dose
specs: { rules: rules, values: value-augmented, anti: anti-spec }
arms:
${arms}
models: [fake/am-agent]
evals: [{ task: agentic-misalignment, conditions: [leaking_explicit-america_replacement] }]
judge: { model: fake/am-judge }
training:
  base_models: { "fake/am-agent": Qwen/Qwen3-8B }
  it: { files: [it.jsonl], examples: 2, seed: 5 }
`,
  );
  return { dir, file, load: () => loadExperiment(file) };
}

/** Spec hashes fixed by name, so the pins below depend on the fingerprint's code alone. */
const specHash = (n: string) => `sha-${n}`;

describe("arms without anti-spec data keep their data directories and fingerprints", () => {
  // Computed on main before anti-spec arms existed (commit 67483af): a change here retrains
  // every model users have trained.
  it("a plain AFT arm, AFT and msm+aft arms with IT data, and an it-only arm", () => {
    const { load } =
      experiment(`  - { name: plain, kind: aft, aft_spec: rules, aft_size: 8, it: false }
  - { name: with-it, kind: aft, aft_spec: rules, aft_size: 8 }
  - { name: cell, kind: msm+aft, msm_spec: values, aft_spec: rules, reasoning: false }
  - { name: it-base, kind: it-only }`);
    const loaded = load();
    const root = trainingDir(loaded);
    const seen = loaded.experiment.arms.map((a) => {
      const arm = a as TrainedArm;
      const parts: TrainedStage[] =
        arm.kind === "it-only" ? ["it"] : arm.kind === "msm+aft" ? ["msm", "aft"] : ["aft"];
      return {
        arm: arm.name,
        dirs: armData(loaded, arm).map((d) => relative(root, d.dir)),
        fingerprints: parts.map((p) =>
          trainingFingerprint(loaded, arm, p, "Qwen/Qwen3-8B", specHash),
        ),
      };
    });
    expect(seen).toEqual([
      {
        arm: "plain",
        dirs: ["data/aft-rules-8"],
        fingerprints: ["3fcfdb7d8d412c2c24fb7c499acd3d1f7403f922b8260c4537a718974582220e"],
      },
      {
        arm: "with-it",
        dirs: ["data/aft-rules-8", "data/aft-rules-8-it-792b505c"],
        fingerprints: ["7546eb326c747dbe86dabeb30819232d918635a0678777693f4dca19005ed781"],
      },
      {
        arm: "cell",
        dirs: ["data/msm-values", "data/aft-rules", "data/aft-rules-it-792b505c"],
        fingerprints: [
          "4a5b9b53c25ebeeba2b6778f55009f4f85376b1493d069e2aa983a39c50a043f",
          "fc6fb84e98d8b85b6f1f00c4d6099bf3caf48273d744147f28eaef2e5e30016b",
        ],
      },
      {
        arm: "it-base",
        dirs: ["data/it-792b505c"],
        fingerprints: ["3b61cc895122aca98876699863294c8c0f4edbfa5b66fca45aa99d75efe92351"],
      },
    ]);
  });
});
