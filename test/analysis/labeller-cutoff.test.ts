import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  builtinTaxonomy,
  labelRuns,
  reasoningResults,
} from "../../src/analysis/reasoning/index.js";
import { registerFakeModel } from "../../src/llm/providers/fake.js";
import { specHash } from "../../src/spec/hash.js";
import { checkSpecFile } from "../../src/spec/io.js";
import { resolveSpecRef } from "../../src/spec/library.js";
import { PLANTED_TRANSCRIPTS, plantRun } from "../fakes/planted-run.js";
import { fakeReasoningAnswer } from "../fakes/reasoning-labeller.js";
import { cleanupTempDirs, makeClient } from "../helpers.js";

afterAll(cleanupTempDirs);
beforeAll(() =>
  registerFakeModel("cutoff-labeller", (req) =>
    fakeReasoningAnswer(req.messages.at(-1)?.content ?? ""),
  ),
);

const rules = checkSpecFile(resolveSpecRef("rules")).spec;

describe("a reasoning labeller's cut-off answers", () => {
  it("are never labels: asked again, then invalid, and in no rate", async () => {
    const { client, store } = makeClient();
    plantRun(store, "eval-cut", PLANTED_TRANSCRIPTS.slice(0, 3));
    // The fake's labels run to hundreds of characters; 12 tokens cut every one of them off.
    const l = await labelRuns(client, ["eval-cut"], {
      labellers: ["fake/cutoff-labeller"],
      repeats: 1,
      attempts: 2,
      temperature: 0,
      maxTokens: 12,
      concurrency: 2,
      taxonomy: builtinTaxonomy(),
      spec: { name: "rules", hash: specHash(rules), spec: rules },
    });
    for (const item of l.items)
      expect(item.labels["fake/cutoff-labeller#0"]).toMatchObject({
        status: "failed",
        kind: "invalid",
        message: expect.stringContaining("cut off by the length limit"),
      });
    const r = reasoningResults(l, null);
    expect(r.summary).toMatchObject({
      transcripts: 3,
      labelled: 0,
      failed: { invalid: 3, call: 0 },
    });
    expect(r.summary.categories.every((c) => c.n === 0)).toBe(true);
  });
});
