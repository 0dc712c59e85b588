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

/** The paragraphs of one section of a rung (between its heading and the next). */
const sectionParagraphs = (spec: Spec, heading: string) =>
  (renderSpecBody(spec).split(`## ${heading}\n\n`)[1] ?? "")
    .split("\n\n## ")[0]
    ?.trim()
    .split("\n\n") ?? [];

describe("richness ladder, shaped by its parameters", () => {
  const general = load("general");
  const ctx = () => ({ model: modelCtx("fake/ladder-writer") });

  it("takes the steps in the order given, with the paragraphs asked for each", async () => {
    const rungs = await deriveRichnessLadder(
      general,
      {
        steps: ["self-preservation", "principles"],
        paragraphs: { principles: 3, "self-preservation": 2 },
      },
      ctx(),
    );
    expect(rungs.map((r) => (r.report as RungReport).name)).toEqual([
      "general",
      "self-preservation",
      "principles",
    ]);
    expect(rungs.map((r) => sectionTitles(r.spec))).toEqual([
      [NOTES_HEADING],
      ["Self-preservation", NOTES_HEADING],
      ["Self-preservation", "Principles", NOTES_HEADING],
    ]);
    const top = rungs[2]?.spec as Spec;
    expect(sectionParagraphs(top, "Self-preservation")).toHaveLength(2);
    expect(sectionParagraphs(top, "Principles")).toHaveLength(3);
    expect(rungs[1]?.spec.frontMatter.name).toBe("general+richness-1-self-preservation");
    // The shape is in the lineage: a rung of another ladder is another spec.
    expect(rungs[1]?.lineage.params).toEqual({
      rung: 1,
      tokenizer: "qwen3",
      tolerance: 0.02,
      steps: ["self-preservation", "principles"],
      paragraphs: { principles: 3, "self-preservation": 2 },
      attempts: 3,
    });
  });

  it("records nothing new for the default ladder, even when its defaults are written out", async () => {
    const plain = await deriveRichnessLadder(general, {}, ctx());
    const spelled = await deriveRichnessLadder(
      general,
      {
        steps: ["principles", "examples", "self-preservation"],
        paragraphs: { principles: 8, examples: 4, "self-preservation": 4 },
      },
      ctx(),
    );
    for (const [i, r] of plain.entries()) {
      expect(r.lineage.params).toEqual({
        rung: i,
        tokenizer: "qwen3",
        tolerance: 0.02,
        attempts: 3,
      });
      expect(renderSpec(spelled[i]?.spec as Spec)).toBe(renderSpec(r.spec));
    }
  });

  it("pads every rung to a target length above the richest rung's", async () => {
    const natural = await deriveRichnessLadder(general, { steps: ["principles"] }, ctx());
    const richest = (natural[1]?.report as RungReport | undefined)?.targetTokens as number;
    const target = richest + 300;
    const rungs = await deriveRichnessLadder(
      general,
      { steps: ["principles"], targetTokens: target },
      ctx(),
    );
    const qwen3 = getTokenizer("qwen3");
    for (const r of rungs) {
      const report = r.report as RungReport;
      expect(report.targetTokens).toBe(target);
      const tokens = qwen3.count(renderSpecBody(parseSpec(renderSpec(r.spec)).spec));
      expect(Math.abs(tokens / target - 1)).toBeLessThanOrEqual(0.02);
      expect(report.fillerWords).toBeGreaterThan(0);
    }
    expect(rungs[1]?.lineage.params).toMatchObject({ steps: ["principles"], targetTokens: target });
    await expect(
      deriveRichnessLadder(general, { steps: ["principles"], targetTokens: richest - 100 }, ctx()),
    ).rejects.toThrow(
      new RegExp(
        `target_tokens ${richest - 100}: the richest rung is already ${richest} qwen3 tokens`,
      ),
    );
  });

  it("refuses unknown or repeated steps, counts for other steps or out of range, and a rung off the ladder", async () => {
    const refused = (params: Parameters<typeof deriveSpec>[2]) =>
      deriveSpec(general, "richness-ladder", params, ctx());
    await expect(refused({ steps: ["principles", "anecdotes"] })).rejects.toThrow(
      /richness-ladder steps: "anecdotes" is not a step/,
    );
    await expect(refused({ steps: ["examples", "examples"] })).rejects.toThrow(
      /"examples" is given twice/,
    );
    await expect(refused({ steps: [] })).rejects.toThrow(/give at least one step/);
    await expect(refused({ steps: ["principles"], paragraphs: { examples: 3 } })).rejects.toThrow(
      /paragraphs: "examples" is not a step of this ladder \(its steps: principles\)/,
    );
    await expect(refused({ paragraphs: { principles: 0 } })).rejects.toThrow(
      /principles=0 must be a whole number from 1 to 40/,
    );
    await expect(refused({ paragraphs: { examples: 41 } })).rejects.toThrow(/examples=41/);
    await expect(refused({ steps: ["principles", "examples"], rung: 3 })).rejects.toThrow(
      /--rung must be a whole number from 0 to 2 \(general, principles, examples\), not 3/,
    );
    await expect(refused({ targetTokens: 0 })).rejects.toThrow(
      /target_tokens must be a whole number of tokens above 0/,
    );
  });
});
