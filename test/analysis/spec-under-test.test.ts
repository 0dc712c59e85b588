import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { specUnderTest } from "../../src/analysis/spec-under-test.js";
import { SpecsciError } from "../../src/core/errors.js";
import { specHash } from "../../src/spec/hash.js";
import { loadValidSpec } from "../../src/spec/library.js";
import { Store } from "../../src/store/db.js";
import { cleanupTempDirs, tempDir } from "../helpers.js";

afterAll(cleanupTempDirs);

/** A workspace with one eval run per entry, each prompted with the given spec (or none). */
function storeWith(runs: Record<string, { name: string; hash: string } | null>): Store {
  const store = Store.open(join(tempDir(), "ws"));
  for (const [id, spec] of Object.entries(runs)) {
    store.runs.ensure({ id, kind: "eval", name: id });
    store.evals.ensureRun({
      id,
      task: "agentic-misalignment",
      taskVersion: "1",
      taskArgs: spec ? { spec } : {},
      model: "fake/echo",
      epochs: 1,
      generateConfig: {},
      scorerConfig: {},
      datasetHash: "d",
      sampleCount: 1,
    });
  }
  return store;
}

const rules = loadValidSpec("rules").spec;
const RULES = { name: "rules", hash: specHash(rules) };

describe("specUnderTest", () => {
  it("is the built-in spec the runs were prompted with, confirmed by its hash", async () => {
    const s = await specUnderTest(storeWith({ a: RULES, b: RULES }), ["a", "b"]);
    expect(s?.name).toBe("rules");
    expect(s?.hash).toBe(RULES.hash);
    expect(specHash(s?.spec as never)).toBe(RULES.hash);
  });

  it("is none when the runs used none, different ones, an edited one, or no library spec", async () => {
    const store = storeWith({
      bare: null,
      rules: RULES,
      other: { name: "general", hash: specHash(loadValidSpec("general").spec) },
      edited: { name: "rules", hash: "0".repeat(64) },
      mine: { name: "my-own-spec", hash: "1".repeat(64) },
    });
    expect(await specUnderTest(store, ["bare"])).toBeNull();
    expect(await specUnderTest(store, ["rules", "other"])).toBeNull();
    expect(await specUnderTest(store, ["edited"])).toBeNull();
    expect(await specUnderTest(store, ["mine"])).toBeNull();
  });

  it("is the spec the user names, with its front matter name, whatever the runs used", async () => {
    const dir = tempDir();
    const file = join(dir, "mine.md");
    writeFileSync(file, "---\nname: mine\n---\n\n# Rules\n\n## M1: Be careful\n\nAlways.\n");
    const store = storeWith({ a: RULES });
    const s = await specUnderTest(store, ["a"], file);
    expect(s?.name).toBe("mine");
    expect(s?.hash).toBe(specHash(loadValidSpec(file).spec));
    const unnamed = join(dir, "unnamed.md");
    writeFileSync(unnamed, "# Rules\n\n## M1: Be careful\n\nAlways.\n");
    expect((await specUnderTest(store, ["a"], unnamed))?.name).toBe(unnamed);
  });

  it("refuses a run id the workspace does not have, before reading any spec", async () => {
    const e = await specUnderTest(storeWith({ a: RULES }), ["a", "nope"], "no-such-spec.md").catch(
      (x) => x,
    );
    expect(e).toBeInstanceOf(SpecsciError);
    expect((e as SpecsciError).message).toBe("no eval run nope in this workspace");
  });
});
