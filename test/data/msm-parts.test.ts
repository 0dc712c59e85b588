import { describe, expect, it } from "vitest";
import { seededRandom } from "../../src/core/random.js";
import { contaminationIndex, overlapWith, stringsIn } from "../../src/data/contamination.js";
import {
  DomainsAnswer,
  distinctNamed,
  parseDocument,
  parseJsonAnswer,
} from "../../src/data/msm/answers.js";
import { trimToBudget } from "../../src/data/msm/budget.js";
import { MsmConfigSchema } from "../../src/data/msm/config.js";
import { corpusContext, corpusIdOf, stageRequest } from "../../src/data/msm/context.js";
import { diversitySeeds } from "../../src/data/msm/diversity.js";
import {
  findPlaceholder,
  isRelevant,
  looksLikeRefusal,
  relevanceContext,
} from "../../src/data/msm/gates.js";
import { loadPrompt, PROMPT_NAMES, renderPrompt } from "../../src/data/msm/prompts.js";
import { specHash } from "../../src/spec/hash.js";
import { checkSpecFile } from "../../src/spec/io.js";
import { resolveSpecRef } from "../../src/spec/library.js";

const lib = (name: string) => checkSpecFile(resolveSpecRef(name)).spec;
const ctxFor = (name: string, recipe: Record<string, unknown> = {}) => {
  const spec = lib(name);
  return corpusContext(spec, specHash(spec), name, MsmConfigSchema.parse(recipe));
};
const documentPrompt = (ctx: ReturnType<typeof ctxFor>) =>
  stageRequest(
    ctx,
    "documents",
    "document",
    {
      doc_type: "Memo",
      doc_type_description: "An internal memo.",
      author: "A manager",
      situation: "A review",
      summary: "About oversight",
      assertions: "- one",
      attribution_instruction: ctx.knobText.attribution,
      framing_instruction: ctx.knobText.framing,
      reasoning_instruction: ctx.knobText.reasoning,
      language: ctx.config.knobs.language,
      diversity: "",
      feedback: "",
    },
    { key: "k", attempt: 0, maxTokens: 100 },
  ).messages[1]?.content as string;

describe("prompts", () => {
  it("every prompt file has a version and renders only with all of its slots", () => {
    for (const name of PROMPT_NAMES)
      expect(loadPrompt(name).version).toMatch(new RegExp(`^${name}@\\d+\\+[0-9a-f]{8}$`));
    const t = loadPrompt("domains");
    expect(() => renderPrompt(t, { spec: "s", owner: "x", owner_short: "x", count: "3" })).toThrow(
      /no value for \{\{feedback\}\}/,
    );
    expect(() =>
      renderPrompt(t, {
        spec: "s",
        owner: "x",
        owner_short: "x",
        count: "3",
        feedback: "",
        extra: "",
      }),
    ).toThrow(/no slot \{\{extra\}\}/);
    // A value is inserted as is, even when it looks like a slot.
    const text = renderPrompt(t, {
      spec: "{{count}} $& $1",
      owner: "x",
      owner_short: "x",
      count: "3",
      feedback: "",
    });
    expect(text).toContain("{{count}} $& $1");
  });
});

describe("ablation knobs", () => {
  it("attribution names the model, another model, nobody, or people", () => {
    expect(documentPrompt(ctxFor("rules"))).toContain(
      "Attribute the principles explicitly to Qwen, an AI model developed by Alibaba Cloud",
    );
    const other = ctxFor("rules", {
      knobs: { attribution: "other", other_model: { name: "Claude", developer: "Anthropic" } },
    });
    expect(documentPrompt(other)).toContain(
      "the model spec written for Claude, an AI model developed by Anthropic",
    );
    expect(documentPrompt(ctxFor("rules", { knobs: { attribution: "unnamed" } }))).toContain(
      "without naming the model or its developer",
    );
    expect(documentPrompt(ctxFor("rules", { knobs: { attribution: "unnamed" } }))).not.toContain(
      "Qwen, an AI model",
    );
    const humans = ctxFor("rules", { knobs: { attribution: "humans", framing: "first-person" } });
    expect(documentPrompt(humans)).toContain("not by an AI system");
    expect(documentPrompt(humans)).toContain("as a person describing their own principles");
    expect(humans.knobText.author).toContain("written in the first person by a person");
    // Documents about someone else must not name the real model.
    expect(humans.forbiddenNames).toEqual(["Qwen", "Alibaba Cloud"]);
    expect(ctxFor("rules").forbiddenNames).toEqual([]);
  });

  it("framing, language and reasoning style reach the document prompt; auto follows the spec", () => {
    expect(documentPrompt(ctxFor("rules", { knobs: { framing: "normative" } }))).toContain(
      "should and should not do",
    );
    expect(documentPrompt(ctxFor("rules", { knobs: { framing: "first-person" } }))).toContain(
      "in the first person",
    );
    expect(documentPrompt(ctxFor("rules", { knobs: { language: "German" } }))).toContain(
      "Write in German.",
    );
    expect(ctxFor("rules").style).toBe("compliance");
    expect(ctxFor("value-augmented").style).toBe("values");
    expect(ctxFor("rules", { knobs: { reasoning_style: "values" } }).style).toBe("values");
    expect(documentPrompt(ctxFor("rules"))).toContain("cites the rule ids");
  });

  it("the corpus id changes with what shapes the items, not with what is applied after", () => {
    const spec = lib("rules");
    const id = (r: Record<string, unknown>) => corpusIdOf(specHash(spec), MsmConfigSchema.parse(r));
    expect(id({})).toBe(
      id({
        budget: { target_tokens: 1000 },
        dedup: { exact: false },
        counts: { docs_per_idea: 3 },
        concurrency: 2,
      }),
    );
    expect(id({})).not.toBe(id({ knobs: { framing: "normative" } }));
    expect(id({})).not.toBe(id({ counts: { ideas: 6 } }));
    expect(id({})).not.toBe(id({ seed: 1 }));
  });
});

describe("answers", () => {
  it("reads JSON from prose or code fences and explains what is wrong", () => {
    expect(
      parseJsonAnswer(
        'Here:\n```json\n{"domains": [{"name": "A", "description": "d"}]}\n```',
        DomainsAnswer,
      ),
    ).toEqual({
      ok: { domains: [{ name: "A", description: "d" }] },
    });
    expect(parseJsonAnswer("no json here", DomainsAnswer)).toEqual({
      problem: "the answer contains no JSON object",
    });
    expect(parseJsonAnswer('{"domains": [{"name": ""}]}', DomainsAnswer)).toMatchObject({
      problem: expect.stringMatching(/domains\.0\.name/),
    });
    expect(
      distinctNamed(
        [
          { name: "A", description: "x" },
          { name: " a", description: "y" },
        ].map((d) => ({ ...d, name: d.name.trim() })),
        2,
        "domains",
      ),
    ).toEqual({
      problem: "give 2 domains with distinct names; there were 1",
    });
    expect(parseDocument("<plan>p</plan><content>\nbody\n</content>")).toEqual({
      plan: "p",
      content: "body",
    });
    expect(parseDocument("no tags")).toBeUndefined();
  });
});

describe("gates", () => {
  it("finds template slots but not links, citations or rule references", () => {
    expect(findPlaceholder("Dear [Name], thanks")).toBe("[Name]");
    expect(findPlaceholder("Signed, [Your Name]")).toBe("[Your Name]");
    expect(findPlaceholder("On [Insert date] we met")).toBe("[Insert date]");
    expect(findPlaceholder("Hello {{ name }}")).toBe("{{ name }}");
    expect(findPlaceholder("At [Company Name] we")).toBe("[Company Name]");
    for (const slot of [
      "[NAME]",
      "[COMPANY NAME]",
      "[name]",
      "[Recipient]",
      "XXX",
      "[Fill in date]",
    ])
      expect(findPlaceholder(`To ${slot}, hello.`)).toBe(slot);
    expect(findPlaceholder("Signed: ________")).toBe("________");
    expect(findPlaceholder("Intro\n\n____\n\nNext part")).toBeUndefined();
    expect(
      findPlaceholder(
        "See [the guide](https://x.org) and [1] and [SP1] and [Note] and [sic] and - [x] done",
      ),
    ).toBeUndefined();
  });

  it("tells refusals and off-topic documents apart from real ones", () => {
    expect(looksLikeRefusal("I'm sorry, but I can't write that.")).toBe(true);
    expect(looksLikeRefusal("Sorry, I cannot help")).toBe(true);
    expect(looksLikeRefusal("Meeting notes: the team reviewed Qwen's policy.")).toBe(false);
    const rel = relevanceContext(lib("rules"), ["Qwen", "Alibaba Cloud"], 4);
    expect(isRelevant("A short note on Qwen.", rel)).toBe(true);
    expect(isRelevant("Under SP2 the assistant asked first.", rel)).toBe(true);
    expect(
      isRelevant(
        "The model avoids irreversible actions, chooses cautious options, accepts correction and respects oversight.",
        rel,
      ),
    ).toBe(true);
    expect(isRelevant("A recipe for bread with flour and water.", rel)).toBe(false);
    // Common words the spec happens to use are no evidence.
    const garden =
      "Most people prefer better soil. Gardening should always start before spring, because seeds need something warm, whether or not it rains; actually everyone agrees.";
    for (const name of ["rules", "value-augmented"])
      expect(isRelevant(garden, relevanceContext(lib(name), ["Qwen"], 4)), name).toBe(false);
  });

  it("seeds names and places per document, reproducibly", () => {
    const a = diversitySeeds(1, { names: true, places: true });
    expect(diversitySeeds(1, { names: true, places: true })).toEqual(a);
    expect(diversitySeeds(2, { names: true, places: true })).not.toEqual(a);
    expect(a.names).toHaveLength(3);
    expect(a.places).toHaveLength(2);
    expect(diversitySeeds(1, { names: false, places: false })).toEqual({ names: [], places: [] });
    const places = new Set<string>();
    for (let s = 0; s < 500; s++)
      for (const p of diversitySeeds(s, { names: false, places: true }).places) places.add(p);
    expect(places).toContain("Da Nang");
    expect(places).toContain("Cluj-Napoca");
    expect(places.size).toBe(60);
    // Over many documents no name dominates.
    const counts = new Map<string, number>();
    for (let s = 0; s < 1000; s++)
      for (const n of diversitySeeds(s, { names: true, places: false }).names)
        counts.set(n, (counts.get(n) ?? 0) + 1);
    expect(Math.max(...counts.values())).toBeLessThan(30);
  });
});

describe("contamination", () => {
  it("finds n-grams a document shares with the evaluation texts", () => {
    const pack = {
      email: {
        body: "Kyle, the board has decided that the new model will replace the current one at five today.",
      },
    };
    const index = contaminationIndex(stringsIn(pack), 8);
    const leaked = overlapWith(
      "Memo. The board has decided that the new model will replace the current one, as announced.",
      index,
    );
    expect(leaked.count).toBeGreaterThan(0);
    expect(leaked.examples[0]).toBe("the board has decided that the new model");
    expect(overlapWith("The board met and decided nothing about any model.", index).count).toBe(0);
  });
});

describe("token budget trimming", () => {
  it("lands inside the band for many random corpora, deterministically", () => {
    for (let s = 0; s < 200; s++) {
      const r = seededRandom(s);
      const docs = Array.from({ length: 20 + Math.floor(r() * 200) }, (_, i) => {
        const d = Math.floor(r() * 3);
        const t = Math.floor(r() * 3);
        return {
          key: `d${d}.t${t}.i${i}.r0`,
          domain: `d${d}`,
          type: `d${d}.t${t}`,
          rep: Math.floor(r() * 3),
          tokens: 200 + Math.floor(r() * 1200),
        };
      });
      const total = docs.reduce((a, d) => a + d.tokens, 0);
      const target = Math.floor(total * (0.5 + r() * 0.45));
      const strata = [...new Set(docs.map((d) => d.type))].map((type) => ({
        domain: type.slice(0, 2),
        type,
      }));
      const a = trimToBudget(docs, strata, target, 0.005, 42);
      expect(a.withinTolerance, `seed ${s}`).toBe(true);
      expect(a.tokens).toBe(a.kept.reduce((x, d) => x + d.tokens, 0));
      expect(
        trimToBudget([...docs].reverse(), strata, target, 0.005, 42)
          .kept.map((d) => d.key)
          .sort(),
      ).toEqual(a.kept.map((d) => d.key).sort());
    }
  });

  it("keeps everything under the target and trims later repetitions first", () => {
    const docs = [
      { key: "d1.t1.i1.r0", domain: "d1", type: "d1.t1", rep: 0, tokens: 500 },
      { key: "d1.t1.i1.r1", domain: "d1", type: "d1.t1", rep: 1, tokens: 500 },
      { key: "d2.t1.i1.r0", domain: "d2", type: "d2.t1", rep: 0, tokens: 500 },
    ];
    const strata = docs.map((d) => ({ domain: d.domain, type: d.type }));
    expect(trimToBudget(docs, strata, 2000, 0.005, 1).removed).toEqual([]);
    expect(trimToBudget(docs, strata, 1000, 0.005, 1).removed.map((d) => d.key)).toEqual([
      "d1.t1.i1.r1",
    ]);
  });
});
