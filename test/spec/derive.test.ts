import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { SpecsciError } from "../../src/core/errors.js";
import { loadExperiment } from "../../src/experiment/config.js";
import { resolveSpecs } from "../../src/experiment/specs.js";
import { deriveCheckedSpec, UnsoundDerivedSpec } from "../../src/spec/derive.js";
import { lintSpec } from "../../src/spec/lint.js";
import { parseSpec } from "../../src/spec/parse.js";
import { renderSpec } from "../../src/spec/render.js";
import { deriveSpec } from "../../src/spec/transforms/index.js";
import { cleanupTempDirs, makeClient } from "../helpers.js";

afterAll(cleanupTempDirs);

/** A1 is cited by A2: selecting A2 alone leaves a reference to a rule the variant lacks. */
const CITING = `---
name: citing
---

# Rules

## A1: Be honest

Always.

## A2: Be kind

As A1 says, be kind.
`;

describe("deriveCheckedSpec", () => {
  it("returns the derived spec with the Markdown that is written, which reads back clean", async () => {
    const parent = parseSpec(CITING).spec;
    const r = await deriveCheckedSpec(parent, "select", { rules: ["A1"] }, { name: "honest" });
    const plain = await deriveSpec(parent, "select", { rules: ["A1"] }, { name: "honest" });
    expect(r.lineage).toEqual(plain.lineage);
    expect(r.markdown).toBe(renderSpec(plain.spec));
    expect(r.markdown).toContain("name: honest");
    expect(lintSpec(parseSpec(r.markdown).spec)).toEqual([]);
  });

  it("refuses a variant whose Markdown does not lint clean, naming where", async () => {
    const parent = parseSpec(CITING).spec;
    const e = await deriveCheckedSpec(parent, "select", { rules: ["A2"] }).catch((x) => x);
    expect(e).toBeInstanceOf(UnsoundDerivedSpec);
    expect(e.problems.map((d: { code: string }) => d.code)).toEqual(["unknown-reference"]);
    expect(e.message).toMatch(
      /^derived spec does not lint clean: \d+:\d+ reference to A1, which this spec does not define$/,
    );
  });

  it("an experiment's unsound derived spec is a user error naming the file and the spec", async () => {
    const { dir, client } = makeClient();
    writeFileSync(join(dir, "citing.md"), CITING);
    const file = join(dir, "exp.yaml");
    writeFileSync(
      file,
      `name: unsound
specs:
  citing: { file: citing.md }
  kind-only: { derive: { from: citing, transform: select, params: { rules: [A2] } } }
arms:
  - { name: kind, kind: prompted, spec: kind-only }
models: [fake/echo]
evals:
  - { name: am, task: agentic-misalignment, conditions: [leaking_none-none_replacement] }
judge: { model: fake/echo }
`,
    );
    const e = await resolveSpecs(loadExperiment(file), client, { derive: false }).catch((x) => x);
    expect(e).toBeInstanceOf(SpecsciError);
    expect(e.message).toBe(
      `${file}: spec "kind-only": the derived variant does not lint clean: reference to A1, which this spec does not define`,
    );
    expect(e.hint).toMatch(/derive it with `specsci spec derive` and use the file/);
  });
});
