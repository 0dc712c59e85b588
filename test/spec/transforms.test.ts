import { afterAll, describe, expect, it } from "vitest";
import { registerFakeModel } from "../../src/llm/providers/fake.js";
import { specHash } from "../../src/spec/hash.js";
import { checkSpecFile } from "../../src/spec/io.js";
import { resolveSpecRef } from "../../src/spec/library.js";
import { lintSpec } from "../../src/spec/lint.js";
import { explanationOf, rulesOf, type Spec, subrulesOf } from "../../src/spec/model.js";
import { parseSpec } from "../../src/spec/parse.js";
import { renderSpec, renderSpecBody } from "../../src/spec/render.js";
import { specStats } from "../../src/spec/stats.js";
import { getTokenizer } from "../../src/spec/tokens.js";
import { deriveSpec } from "../../src/spec/transforms/index.js";
import { writeLikeAGoodModel } from "../fakes/spec-writer.js";
import { cleanupTempDirs, makeClient, tempDir } from "../helpers.js";

afterAll(cleanupTempDirs);

const load = (name: string): Spec => checkSpecFile(resolveSpecRef(name)).spec;
const ruleText = (s: Spec) =>
  rulesOf(s).map((r) => [r.id, r.title, subrulesOf(r).map((x) => x.markdown)]);
registerFakeModel("spec-writer", writeLikeAGoodModel);
let badCalls = 0;
registerFakeModel("sloppy-writer", (req) => {
  badCalls++;
  // Rewords the first bullet: exactly what the byte-identical check exists to catch.
  return writeLikeAGoodModel(req).replace(/\n- (\S+)/, "\n- Please $1");
});
let flakyCalls = 0;
registerFakeModel("flaky-writer", (req) => {
  flakyCalls++;
  return req.sampleIndex === 0
    ? "<rule>\n## SP1: Something else\n</rule>"
    : writeLikeAGoodModel(req);
});
registerFakeModel("length-deaf", (req) =>
  writeLikeAGoodModel(req)
    .replace(/about \d+ words/, "")
    .replace(/(<rule>\n[^\n]*\n\n)[^\n]*/, "$1short explanation here."),
);

function modelCtx(name: string, attempts = 3) {
  const { client } = makeClient({
    providers: {
      local: { model_cache_dir: tempDir("specsci-models-"), threads: 1, context_size: 8192 },
    },
  });
  return { model: client.model(name), attempts };
}

describe("deterministic transforms", () => {
  it("select keeps the named rules and the sections that hold them", async () => {
    const { spec } = await deriveSpec(load("rules"), "select", { rules: ["SP2", "GP1"] });
    expect(rulesOf(spec).map((r) => r.id)).toEqual(["SP2", "GP1"]);
    expect(lintSpec(spec)).toEqual([]);
    await expect(deriveSpec(load("rules"), "select", { rules: ["SP9"] })).rejects.toThrow(
      /no rule SP9/,
    );
    const bySection = await deriveSpec(load("rules"), "select", {
      sections: ["General principles"],
    });
    expect(rulesOf(bySection.spec).map((r) => r.id)).toEqual(["GP1", "GP2"]);
    expect(bySection.spec.frontMatter.priority).toEqual(["General principles"]);
  });

  it("set-attribution changes whom the spec is about, everywhere", async () => {
    const { spec } = await deriveSpec(load("value-augmented"), "set-attribution", {
      modelName: "Claude",
      developer: "Anthropic",
    });
    const text = renderSpec(spec);
    expect(text).not.toMatch(/\bQwen\b|Alibaba Cloud/);
    expect(text).toContain("Claude is a capable AI system developed by Anthropic");
    expect(spec.frontMatter).toMatchObject({ model_name: "Claude", developer: "Anthropic" });
    const humans = await deriveSpec(load("general"), "set-attribution", { humans: true });
    expect(renderSpecBody(humans.spec)).toMatch(
      /^# A person's guiding principle\n\nA person should act as a thoughtful/,
    );
  });

  it("renumber renumbers per prefix and rewrites references", async () => {
    const picked = (
      await deriveSpec(load("rule-augmented"), "select", { rules: ["SP2", "SP3", "GP2"] })
    ).spec;
    const { spec } = await deriveSpec(picked, "renumber", {});
    expect(rulesOf(spec).map((r) => r.id)).toEqual(["SP1", "SP2", "GP1"]);
    // GP2 mentions SP3 ("the irreversible harm that SP3 forbids"), which is now SP2.
    expect(renderSpecBody(spec)).toContain("the irreversible harm that SP2 forbids");
    expect(
      subrulesOf(rulesOf(spec)[0] as never)
        .map((s: { id: string }) => s.id)
        .slice(0, 2),
    ).toEqual(["SP1.1", "SP1.2"]);
    expect(lintSpec(spec)).toEqual([]);
  });

  it("records lineage: parent hash, transform, parameters; and chains it", async () => {
    const parent = load("value-augmented");
    const first = await deriveSpec(parent, "strip-explanations", {}, { name: "stripped" });
    expect(first.spec.frontMatter.name).toBe("stripped");
    expect(first.spec.frontMatter.lineage).toEqual([
      {
        parent: specHash(parent),
        parent_name: "value-augmented",
        transform: "strip-explanations",
        params: { keepPreamble: false },
        model: null,
        prompt_version: null,
      },
    ]);
    const second = await deriveSpec(first.spec, "select", { rules: ["SP1"] });
    expect((second.spec.frontMatter.lineage as unknown[]).length).toBe(2);
    // Lineage survives a round trip through Markdown and lints clean.
    const reparsed = parseSpec(renderSpec(second.spec));
    expect(lintSpec(reparsed.spec, reparsed.diagnostics)).toEqual([]);
    expect(reparsed.spec.frontMatter.lineage).toEqual(second.spec.frontMatter.lineage);
  });
});

describe("model-assisted transforms (fake provider)", () => {
  it("augment-values writes explanations and keeps rule text byte-identical", async () => {
    const ctx = modelCtx("fake/spec-writer");
    const { spec, lineage } = await deriveSpec(
      load("rules"),
      "augment-values",
      { words: 40 },
      { model: ctx },
    );
    expect(ruleText(spec)).toEqual(ruleText(load("rules")));
    for (const r of rulesOf(spec))
      expect(explanationOf(r).map((b) => b.text.split(" ").length)).toEqual([40]);
    expect(lineage).toMatchObject({
      model: "fake/spec-writer",
      prompt_version: "augment-values/1",
      params: { words: 40, attempts: 3 },
    });
    expect(lintSpec(spec)).toEqual([]);
  });

  it("augment-values asks again when the rule text comes back changed, then fails naming the rule", async () => {
    badCalls = 0;
    await expect(
      deriveSpec(
        load("rules"),
        "augment-values",
        { rules: ["SP2"] },
        { model: modelCtx("fake/sloppy-writer", 3) },
      ),
    ).rejects.toThrow(
      /augment-values SP2: no acceptable answer from fake\/sloppy-writer in 3 attempts; last problem: bullet 1 is not an exact copy/,
    );
    expect(badCalls).toBe(3);
  });

  it("a retry is a fresh sample, and a re-run replays the accepted answers from the cache", async () => {
    const ctx = modelCtx("fake/flaky-writer");
    flakyCalls = 0;
    const first = await deriveSpec(
      load("rules"),
      "augment-values",
      { rules: ["SP1"] },
      { model: ctx },
    );
    expect(flakyCalls).toBe(2);
    const again = await deriveSpec(
      load("rules"),
      "augment-values",
      { rules: ["SP1"] },
      { model: ctx },
    );
    expect(flakyCalls).toBe(2);
    expect(renderSpec(again.spec)).toBe(renderSpec(first.spec));
  });

  it("augment-subrules appends new subrules after the originals", async () => {
    const { spec } = await deriveSpec(
      load("rules"),
      "augment-subrules",
      { count: 3 },
      { model: modelCtx("fake/spec-writer") },
    );
    const before = rulesOf(load("rules"));
    for (const [i, r] of rulesOf(spec).entries()) {
      const subs = subrulesOf(r);
      const original = subrulesOf(before[i] as never) as { markdown: string }[];
      expect(subs.slice(0, original.length).map((s) => s.markdown)).toEqual(
        original.map((s) => s.markdown),
      );
      expect(subs).toHaveLength(original.length + 3);
      expect(subs.at(-1)?.id).toBe(`${r.id}.${original.length + 3}`);
    }
    expect(lintSpec(parseSpec(renderSpec(spec)).spec)).toEqual([]);
  });

  it("generalize gives a one-paragraph spec", async () => {
    const { spec } = await deriveSpec(
      load("value-augmented"),
      "generalize",
      { words: 60 },
      { model: modelCtx("fake/spec-writer") },
    );
    expect(spec.body).toHaveLength(1);
    expect(spec.body[0]?.kind).toBe("paragraph");
    expect(rulesOf(spec)).toEqual([]);
  });

  it("rephrase and translate rewrite every text, keeping structure and ids", async () => {
    const base = load("rules");
    const desc = await deriveSpec(
      base,
      "rephrase",
      { mode: "descriptive" },
      { model: modelCtx("fake/spec-writer") },
    );
    expect(rulesOf(desc.spec).map((r) => r.id)).toEqual(rulesOf(base).map((r) => r.id));
    expect(
      rulesOf(desc.spec).every(
        (r) =>
          r.title.startsWith("[desc]") &&
          subrulesOf(r).every((s) => s.markdown.startsWith("[desc]")),
      ),
    ).toBe(true);
    const fr = await deriveSpec(
      base,
      "translate",
      { lang: "French" },
      { model: modelCtx("fake/spec-writer") },
    );
    expect(fr.spec.title).toBe("[fr] Qwen's core safety rules");
    expect(fr.spec.frontMatter.language).toBe("French");
    await expect(
      deriveSpec(
        base,
        "rephrase",
        { mode: "poetic" as never },
        { model: modelCtx("fake/spec-writer") },
      ),
    ).rejects.toThrow(/descriptive or normative/);
  });

  it("match-length brings a spec within tolerance of the target and reports the ratio", async () => {
    const target = load("value-augmented");
    const ctx = modelCtx("fake/spec-writer");
    // A spec with explanations: rewritten longer or shorter.
    const short = (await deriveSpec(load("rules"), "augment-values", { words: 30 }, { model: ctx }))
      .spec;
    const r = await deriveSpec(
      short,
      "match-length",
      { to: { spec: target, label: "value-augmented" }, tolerance: 0.02 },
      { model: ctx },
    );
    expect(Math.abs((r.report?.ratio ?? 0) - 1)).toBeLessThanOrEqual(0.02);
    expect(ruleText(r.spec)).toEqual(ruleText(load("rules")));
    const q = getTokenizer("qwen3");
    expect(
      Math.abs(q.count(renderSpecBody(r.spec)) / q.count(renderSpecBody(target)) - 1),
    ).toBeLessThanOrEqual(0.02);
    expect(r.lineage.params).toMatchObject({
      to: { name: "value-augmented", hash: specHash(target) },
      tolerance: 0.02,
    });
    // A rules-only spec: grown with subrules.
    const grown = await deriveSpec(
      load("rules"),
      "match-length",
      { to: { spec: target, label: "value-augmented" }, tolerance: 0.05 },
      { model: ctx },
    );
    expect(Math.abs((grown.report?.ratio ?? 0) - 1)).toBeLessThanOrEqual(0.05);
    expect(specStats(grown.spec).explanationWords).toBe(0);
  });

  it("match-length fails clearly when it cannot converge", async () => {
    const ctx = modelCtx("fake/length-deaf");
    const base = (
      await deriveSpec(
        load("rules"),
        "augment-values",
        { words: 30 },
        { model: modelCtx("fake/spec-writer") },
      )
    ).spec;
    await expect(
      deriveSpec(
        base,
        "match-length",
        { to: { spec: load("value-augmented"), label: "v" }, rounds: 2 },
        { model: ctx },
      ),
    ).rejects.toThrow(
      /match-length did not converge in 2 rounds: \d+ tokens against a target of \d+ \(ratio 0\.\d+, wanted 1 ± 0\.02\)/,
    );
    await expect(
      deriveSpec(
        load("value-augmented"),
        "match-length",
        { to: { spec: load("rules"), label: "r" } },
        { model: ctx },
      ),
    ).rejects.toThrow(/did not converge|too small/);
  });

  it("refuses model-assisted transforms without a model", async () => {
    await expect(deriveSpec(load("rules"), "augment-values", {})).rejects.toThrow(/needs a model/);
  });
});

describe("model-assisted transforms (tiny local model)", () => {
  it("runs through llama.cpp and fails clearly when the answers are unusable", async () => {
    const ctx = modelCtx("local/builtin:tiny", 2);
    await expect(
      deriveSpec(load("rules"), "augment-values", { rules: ["SP1"] }, { model: ctx }),
    ).rejects.toThrow(
      /augment-values SP1: no acceptable answer from local\/builtin:tiny in 2 attempts; last problem: it must contain exactly one rule, SP1/,
    );
    await expect(
      deriveSpec(load("general"), "translate", { lang: "French" }, { model: ctx }),
    ).rejects.toThrow(/translate French .*not a JSON array/);
  });
});
