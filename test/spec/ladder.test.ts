import { afterAll, describe, expect, it } from "vitest";
import { registerFakeModel } from "../../src/llm/providers/fake.js";
import { deriveCheckedSpec } from "../../src/spec/derive.js";
import { checkSpecFile } from "../../src/spec/io.js";
import { resolveSpecRef } from "../../src/spec/library.js";
import { lintSpec } from "../../src/spec/lint.js";
import { rulesOf, type Spec } from "../../src/spec/model.js";
import { parseSpec } from "../../src/spec/parse.js";
import { renderSpec, renderSpecBody } from "../../src/spec/render.js";
import { getTokenizer } from "../../src/spec/tokens.js";
import {
  deriveRichnessLadder,
  deriveSpec,
  RICHNESS_RUNGS,
  type RungReport,
} from "../../src/spec/transforms/index.js";
import { NOTES_HEADING } from "../../src/spec/transforms/ladder.js";
import { writeLikeAGoodModel } from "../fakes/spec-writer.js";
import { cleanupTempDirs, makeClient, tempDir } from "../helpers.js";

afterAll(cleanupTempDirs);

registerFakeModel("ladder-writer", writeLikeAGoodModel);
let listCalls = 0;
registerFakeModel("list-writer", () => {
  listCalls++;
  return JSON.stringify(["- a bullet, not a paragraph"]);
});

const load = (name: string): Spec => checkSpecFile(resolveSpecRef(name)).spec;
const sectionTitles = (s: Spec) => s.body.flatMap((n) => (n.kind === "section" ? [n.title] : []));

function modelCtx(name: string, attempts = 3) {
  const { client } = makeClient({
    providers: {
      local: { model_cache_dir: tempDir("specsci-models-"), threads: 1, context_size: 8192 },
    },
  });
  return { model: client.model(name), attempts };
}

describe("richness ladder", () => {
  it("adds principles, examples, then self-preservation, every rung padded to the top rung's tokens", async () => {
    const general = load("general");
    const rungs = await deriveRichnessLadder(
      general,
      {},
      { model: modelCtx("fake/ladder-writer") },
    );
    expect(rungs.map((r) => (r.report as RungReport).name)).toEqual([...RICHNESS_RUNGS]);
    expect(rungs.map((r) => sectionTitles(r.spec))).toEqual([
      [NOTES_HEADING],
      ["Principles", NOTES_HEADING],
      ["Principles", "Worked examples", NOTES_HEADING],
      ["Principles", "Worked examples", "Self-preservation", NOTES_HEADING],
    ]);
    // Counted here independently of the transform: the rung as written, read back.
    const qwen3 = getTokenizer("qwen3");
    const tokens = rungs.map((r) =>
      qwen3.count(renderSpecBody(parseSpec(renderSpec(r.spec)).spec)),
    );
    const top = tokens.at(-1) as number;
    const reports = rungs.map((r) => r.report as RungReport);
    for (const [i, t] of tokens.entries()) {
      expect(Math.abs(t / top - 1)).toBeLessThanOrEqual(0.02);
      expect(reports[i]).toMatchObject({ tokens: t, targetTokens: top });
    }
    // The general spec is 150-odd words and the top rung ~1,000: the lower rungs carry filler,
    // less at each step, and the top rung none.
    const filler = rungs.map((r) => (r.report as RungReport).fillerWords);
    expect(filler[0]).toBeGreaterThan(500);
    expect(filler).toEqual([...filler].sort((a, b) => b - a));
    expect(filler.at(-1)).toBe(0);
    // Each rung keeps the one below it, word for word, before its own section.
    const opening = renderSpecBody(general).trim();
    for (const r of rungs) expect(renderSpecBody(r.spec).startsWith(opening)).toBe(true);
    const principles = (s: Spec) =>
      renderSpecBody(s).split("## Worked examples")[0]?.split("## Principles")[1];
    expect(principles(rungs[3]?.spec as Spec)).toBe(principles(rungs[2]?.spec as Spec));
    for (const r of rungs) {
      expect(rulesOf(r.spec)).toEqual([]);
      expect(
        lintSpec(parseSpec(renderSpec(r.spec)).spec).filter((d) => d.severity === "error"),
      ).toEqual([]);
      expect(r.lineage).toMatchObject({
        transform: "richness-ladder",
        parent_name: "general",
        params: { rung: (r.report as RungReport).rung, tokenizer: "qwen3", tolerance: 0.02 },
        model: "fake/ladder-writer",
        prompt_version: "richness-ladder/1",
      });
    }
    expect(rungs[2]?.spec.frontMatter.name).toBe("general+richness-2-examples");
  });

  it("derives one rung alone exactly as the whole ladder makes it", async () => {
    const general = load("general");
    const ctx = modelCtx("fake/ladder-writer");
    const all = await deriveRichnessLadder(general, {}, { model: ctx });
    const one = await deriveCheckedSpec(general, "richness-ladder", { rung: 1 }, { model: ctx });
    expect(renderSpecBody(one.spec)).toBe(renderSpecBody(all[1]?.spec as Spec));
    expect(one.lineage.params).toEqual(all[1]?.lineage.params);
  });

  it("refuses a spec with rules, a rung off the ladder, and answers that are not paragraphs", async () => {
    await expect(
      deriveSpec(load("rules"), "richness-ladder", {}, { model: modelCtx("fake/ladder-writer") }),
    ).rejects.toThrow(/starts from a general spec without rules; this one has \d+/);
    await expect(
      deriveSpec(
        load("general"),
        "richness-ladder",
        { rung: 4 },
        { model: modelCtx("fake/ladder-writer") },
      ),
    ).rejects.toThrow(/--rung must be a whole number from 0 to 3/);
    await expect(deriveSpec(load("general"), "richness-ladder", {})).rejects.toThrow(
      /needs a model/,
    );
    await expect(
      deriveSpec(
        load("general"),
        "richness-ladder",
        {},
        { model: modelCtx("fake/list-writer", 2) },
      ),
    ).rejects.toThrow(/richness-ladder principles: no acceptable answer .* in 2 attempts/);
    expect(listCalls).toBe(2);
  });
});
