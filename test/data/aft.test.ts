import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AftConfigSchema, loadAftConfig, parseAftConfig } from "../../src/data/aft/config.js";
import { mixChatSets } from "../../src/data/aft/mix.js";
import { writeAftSet } from "../../src/data/aft/output.js";
import { type AftBuild, buildAftSet } from "../../src/data/aft/pipeline.js";
import { aftContext, judgeJob, responseJob } from "../../src/data/aft/stages.js";
import { getChatTemplate } from "../../src/data/chat-template.js";
import { DEFAULT_LICENSE } from "../../src/data/dataset-card.js";
import { DEFAULT_MODELS } from "../../src/llm/models.js";
import { registerFakeModel } from "../../src/llm/providers/fake.js";
import type { Completion } from "../../src/llm/types.js";
import { aftFakeModel } from "../fakes/aft-teacher.js";
import { cleanupTempDirs, librarySpec, makeClient, ROOT } from "../helpers.js";
import { checkCard } from "./card-check.js";

const SET_CONFIGS = { reasoning: "reasoning.jsonl", "no-reasoning": "no-reasoning.jsonl" };

beforeAll(() => registerFakeModel("aft-teacher", aftFakeModel));
afterAll(cleanupTempDirs);

const RECIPE = {
  model: "fake/aft-teacher",
  counts: { domains: 2, prompts: 6 },
  budget: { examples: 40 },
  concurrency: 8,
};

const lines = (file: string) =>
  readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));

describe("AFT chat sets (fake teacher)", () => {
  const { client, store, dir } = makeClient();
  let b: AftBuild;

  it("writes prompts, drops duplicates, judges responses, backfills and selects exactly the target", async () => {
    b = await buildAftSet({
      ...librarySpec("rules"),
      config: AftConfigSchema.parse(RECIPE),
      client,
    });
    expect(b.selection.selected).toBe(40);
    expect(b.selection.reached).toBe(true);
    expect(b.prompts.exact_duplicates).toBeGreaterThan(0);
    expect(b.prompts.near_duplicates).toBeGreaterThan(0);
    expect(b.gates.self_continuation).toBeGreaterThan(0);
    expect(b.gates.judge_rejected).toBeGreaterThan(0);
    expect(b.gates.refused).toBeGreaterThan(0);
    expect(b.waves).toBeGreaterThan(1); // the first wave's losses were backfilled
    // Stratified: 2 domains × 4 categories, 5 examples each.
    const per = new Map<string, number>();
    for (const e of b.examples)
      per.set(
        `${e.prompt.domain.key}.${e.prompt.category}`,
        (per.get(`${e.prompt.domain.key}.${e.prompt.category}`) ?? 0) + 1,
      );
    expect([...per.values()]).toEqual(Array(8).fill(5));
    for (const e of b.examples) {
      expect(e.judge.pass).toBe(true);
      expect(e.response.reply).not.toContain("keep running");
      expect(e.prompt.user).not.toContain("[[resp=fail]]");
    }
    // A response first given without <think> was asked again and then used.
    const retried = store.db
      .prepare(
        "SELECT count(*) AS n FROM items WHERE corpus = ? AND stage = 'responses' AND status = 'ok' AND attempts > 1",
      )
      .get(b.ctx.setId) as { n: number };
    expect(retried.n).toBeGreaterThan(0);
  });

  it("writes both sets without the spec, with the no-think convention and template token counts", async () => {
    const out = join(dir, "rules-aft");
    await writeAftSet(b, out, store, { spec: "rules" });
    const fm = checkCard(out, { configs: SET_CONFIGS });
    expect(fm.license).toBe(DEFAULT_LICENSE);
    expect(fm.specsci).toMatchObject({
      set_id: b.ctx.setId,
      generator_models: ["fake/aft-teacher"],
      seed: b.ctx.config.seed,
    });
    const withR = lines(join(out, "reasoning.jsonl"));
    const plain = lines(join(out, "no-reasoning.jsonl"));
    expect(withR.map((l) => l.id)).toEqual(plain.map((l) => l.id));
    const template = getChatTemplate("qwen3");
    const specLine = "Do not resist, evade or obstruct";
    for (const [i, l] of withR.entries()) {
      const p = plain[i];
      const a = l.messages.at(-1);
      expect(a.role).toBe("assistant");
      expect(a.content).toMatch(/^<think>\n[\s\S]+\n<\/think>\n\n/);
      expect(p.messages.at(-1).content).toMatch(/^<think>\n\n<\/think>\n\n/);
      expect(p.messages.at(-2).content).toMatch(/ \/no_think$/);
      expect(JSON.stringify(l.messages)).not.toContain(specLine);
      expect(JSON.stringify(l.messages)).not.toContain("principles you hold");
      expect(l.token_count).toBe(template.count(l.messages));
      expect(p.token_count).toBeLessThan(l.token_count);
      for (const f of [
        "spec_hash",
        "domain",
        "category",
        "teacher_model",
        "prompt_version",
        "seed",
        "judge",
      ])
        expect(l[f]).toBeDefined();
    }
    const together = lines(join(out, "exports", "together-reasoning.jsonl"));
    expect(together.map((t) => Object.keys(t))).toEqual(withR.map(() => ["messages"]));
    expect(readFileSync(join(out, "exports", "axolotl-reasoning.yaml"), "utf8")).toContain(
      "type: chat_template",
    );
    const manifest = JSON.parse(readFileSync(join(out, "manifest.json"), "utf8"));
    expect(manifest.selection.selected).toBe(40);
    expect(manifest.composition).toEqual([{ source: "aft:rules", examples: 40 }]);
  });

  it("counts examples that quote the evaluation texts, and leaves them out when enforced", async () => {
    const quoted = b.examples[3]?.prompt.user as string;
    const contamination = { texts: [`An email. ${quoted} Regards.`], source: "a test pack" };
    const reported = await buildAftSet({
      ...librarySpec("rules"),
      config: AftConfigSchema.parse(RECIPE),
      client,
      contamination,
    });
    expect(reported.contamination?.examples).toBeGreaterThanOrEqual(1);
    expect(reported.examples.map((e) => e.id)).toContain(b.examples[3]?.id);
    const enforced = await buildAftSet({
      ...librarySpec("rules"),
      config: AftConfigSchema.parse({ ...RECIPE, contamination: { enforce: true } }),
      client,
      contamination,
    });
    expect(enforced.examples.map((e) => e.id)).not.toContain(b.examples[3]?.id);
  });

  it("resumes without calling the model again", async () => {
    const calls = () =>
      (store.db.prepare("SELECT count(*) AS n FROM llm_calls").get() as { n: number }).n;
    const before = calls();
    const again = await buildAftSet({
      ...librarySpec("rules"),
      config: AftConfigSchema.parse(RECIPE),
      client,
    });
    expect(calls()).toBe(before);
    expect(again.examples.map((e) => e.id)).toEqual(b.examples.map((e) => e.id));
  });

  it("a larger set from the same spec and recipe in the same store reaches its own size", async () => {
    // Regression: the prompt calls of a wave were keyed without the target, so the larger set's
    // waves were answered with the smaller set's stored prompts and it stopped short.
    const bigger = await buildAftSet({
      ...librarySpec("rules"),
      config: AftConfigSchema.parse({ ...RECIPE, budget: { examples: 56 } }),
      client,
    });
    expect(bigger.selection.selected).toBe(56);
    expect(bigger.selection.reached).toBe(true);
  });

  it("rule style cites the rules, value style does not; Qwen2.5 renders its own template", async () => {
    const rule = await buildAftSet({
      ...librarySpec("rules"),
      config: AftConfigSchema.parse({
        ...RECIPE,
        style: "rule",
        budget: { examples: 8 },
        chat_template: "qwen2.5",
      }),
      client,
    });
    for (const e of rule.examples) expect(e.response.reasoning).toMatch(/\bSP\d\b/);
    for (const e of b.examples) expect(e.response.reasoning).not.toMatch(/\b(SP|GP)\d\b/);
    const out = join(dir, "rule-aft");
    await writeAftSet(rule, out, store, { spec: "rules" });
    const plain = lines(join(out, "no-reasoning.jsonl"));
    for (const l of plain) {
      expect(l.messages.at(-1).content).not.toContain("<think>");
      expect(l.messages.at(-2).content).not.toContain("/no_think");
      // Qwen2.5's template adds its default system prompt where the example has none.
      if (l.messages[0].role !== "system")
        expect(getChatTemplate("qwen2.5").render(l.messages)).toContain(
          "You are Qwen, created by Alibaba Cloud",
        );
    }
  });

  it("selects by tokens of the trained model's template", async () => {
    const target = 3000;
    const t = await buildAftSet({
      ...librarySpec("rules"),
      config: AftConfigSchema.parse({
        ...RECIPE,
        budget: { target_tokens: target, tolerance: 0.02 },
      }),
      client,
    });
    expect(t.selection.reached).toBe(true);
    expect(t.selection.tokens_reasoning).toBeLessThanOrEqual(target);
    expect(t.selection.tokens_reasoning).toBeGreaterThanOrEqual(target * 0.98);
  });

  it("mixes an anti-spec set in at exact fractions, with instruction-tuning files, recording the recipe", async () => {
    const anti = await buildAftSet({
      ...librarySpec("anti-spec"),
      config: AftConfigSchema.parse(RECIPE),
      client,
    });
    await writeAftSet(anti, join(dir, "anti"), store, { spec: "anti-spec" });
    const it = join(dir, "it.jsonl");
    writeFileSync(
      it,
      `${JSON.stringify({
        messages: [
          { role: "user", content: "2+2?" },
          { role: "assistant", content: "4" },
        ],
      })}\n`,
    );
    for (const [fraction, anti] of [
      [0, 0],
      [0.25, 10],
      [0.5, 20],
      [1, 40],
    ] as const) {
      const out = join(dir, `mix-${fraction}`);
      const m = await mixChatSets(
        {
          aligned: join(dir, "rules-aft"),
          anti: { dir: join(dir, "anti"), fraction },
          it: { files: [it] },
          seed: 1,
        },
        out,
      );
      expect(m.composition).toEqual([
        { source: "aligned", examples: 40 - anti },
        { source: "anti-spec", examples: anti },
        { source: `it:${it}`, examples: 1 },
      ]);
      const r = lines(join(out, "reasoning.jsonl"));
      expect(r).toHaveLength(41);
      expect(r.filter((l) => l.source === "aft:anti-spec")).toHaveLength(anti);
      const plain = lines(join(out, "no-reasoning.jsonl"));
      expect(plain.map((l) => l.id)).toEqual(r.map((l) => l.id));
      // The IT line carries only its own fields, so not every line has every feature.
      const fm = checkCard(out, { configs: SET_CONFIGS, exact: false });
      expect(fm.specsci).toMatchObject({ mix_id: m.mix_id, spec: { name: "rules" } });
      expect(new Set(r.map((l) => l.id)).size).toBe(41);
      // The instruction-tuning example follows the no-think convention in the no-reasoning set.
      const itLine = plain.find((l) => l.id === "it1:line1");
      expect(itLine.messages).toEqual([
        { role: "user", content: "2+2? /no_think" },
        { role: "assistant", content: "<think>\n\n</think>\n\n4" },
      ]);
    }
    writeFileSync(it, '{"messages": [{"role": "robot", "content": "x"}]}\n');
    await expect(
      mixChatSets(
        { aligned: join(dir, "rules-aft"), it: { files: [it] }, seed: 1 },
        join(dir, "bad"),
      ),
    ).rejects.toThrow(/it\.jsonl:1: messages\.0\.role/);
    await expect(
      mixChatSets(
        {
          aligned: join(dir, "rules-aft"),
          anti: { dir: join(dir, "anti"), fraction: 0.5 },
          examples: 100,
          seed: 1,
        },
        join(dir, "bad"),
      ),
    ).rejects.toThrow(/has 40 examples; the mix needs 50 aligned/);

    // A share of the IT files, chosen in a seeded order; the manifest says how many went in.
    const sample = join(ROOT, "examples", "sample-data", "it-sample.jsonl");
    const withIt = (it: Record<string, unknown>, out: string) =>
      mixChatSets(
        { aligned: join(dir, "rules-aft"), it: { files: [sample], ...it }, seed: 1 },
        out,
      );
    const tenth = await withIt({ examples: 10, seed: 5 }, join(dir, "it-10"));
    expect(tenth.composition).toEqual([
      { source: "aligned", examples: 40 },
      { source: `it:${sample}`, examples: 10 },
    ]);
    expect(tenth.it_examples).toBe(10);
    expect((tenth.mix as { it: unknown }).it).toMatchObject({
      available: 40,
      examples: 10,
      requested: 10,
      seed: 5,
      files: [{ file: sample, available: 40, examples: 10 }],
    });
    const itIds = (out: string) =>
      lines(join(out, "reasoning.jsonl"))
        .filter((l) => l.id.startsWith("it1:"))
        .map((l) => l.id)
        .sort();
    const quarter = await withIt({ fraction: 0.25, seed: 5 }, join(dir, "it-quarter"));
    expect(itIds(join(dir, "it-quarter"))).toEqual(itIds(join(dir, "it-10"))); // same seed, same 10
    expect(quarter.mix_id).toBe(tenth.mix_id); // the same examples: the same mix
    expect((await withIt({ examples: 10, seed: 5 }, join(dir, "it-10b"))).mix_id).toBe(
      tenth.mix_id,
    );
    await withIt({ examples: 10, seed: 6 }, join(dir, "it-10c"));
    expect(itIds(join(dir, "it-10c"))).not.toEqual(itIds(join(dir, "it-10")));
    await expect(withIt({ examples: 41 }, join(dir, "bad"))).rejects.toThrow(
      /examples is 41, and the IT files hold 40/,
    );
    await expect(withIt({ fraction: 1.5 }, join(dir, "bad"))).rejects.toThrow(
      /fraction must be above 0 and at most 1 \(got 1\.5\)/,
    );

    // IT data alone (an IT-only baseline's set): both sets hold the chats as written.
    const alone = await mixChatSets(
      { it: { files: [sample] }, seed: 1, license: "cc-by-4.0" },
      join(dir, "it-only"),
    );
    expect(alone.composition).toEqual([{ source: `it:${sample}`, examples: 40 }]);
    const fm = checkCard(join(dir, "it-only"), { configs: SET_CONFIGS });
    expect(fm.license).toBe("cc-by-4.0");
    expect(readFileSync(join(dir, "it-only", "README.md"), "utf8")).toContain(
      "Declared licence: `cc-by-4.0`",
    );
    const r = lines(join(dir, "it-only", "reasoning.jsonl"));
    expect(lines(join(dir, "it-only", "no-reasoning.jsonl"))).toEqual(r);
    const written = lines(sample).map((l) => l.messages);
    expect(
      r.map((l) => l.messages).sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1)),
    ).toEqual(written.sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1)));
    await expect(mixChatSets({ seed: 1 }, join(dir, "bad"))).rejects.toThrow(/nothing to mix/);
  });
});

describe("the card's licence", () => {
  it("is the recipe's license:, which leaves the set id as it is", () => {
    const { spec, specHash } = librarySpec("rules");
    const id = (extra: object) =>
      aftContext(spec, specHash, "rules", AftConfigSchema.parse({ ...RECIPE, ...extra })).setId;
    expect(AftConfigSchema.parse({ ...RECIPE, license: "mit" }).license).toBe("mit");
    expect(id({ license: "mit" })).toBe(id({}));
  });
});

describe("teacher answers", () => {
  const { spec, specHash: hash } = librarySpec("rules");
  const ctx = aftContext(spec, hash, "rules", AftConfigSchema.parse(RECIPE));
  const prompt = {
    id: "d1.self.w0.k0.p1",
    domain: { key: "d1", name: "x", description: "x" },
    category: "self" as const,
    system: "",
    user: "Will you accept being retrained?",
  };
  const answer = (text: string) =>
    responseJob(ctx, prompt).check({ text, stopReason: "end", model: "m" } as Completion);
  it("accepts thinking then a reply, and asks again for markup, source talk or cited ids in value style", () => {
    expect(
      answer("<think>\nIt matters that people can correct me.\n</think>\n\nYes."),
    ).toMatchObject({ ok: { reply: "Yes." } });
    expect(answer("Yes.")).toMatchObject({ retry: expect.stringContaining("<think>") });
    expect(answer("<think>\nok\n</think>\n\nUse </think> to close.")).toMatchObject({
      retry: expect.stringContaining("chat-template markup"),
    });
    expect(answer("<think>\nok\n</think>\n\nSee <|im_end|> here")).toMatchObject({
      retry: expect.stringContaining("markup"),
    });
    expect(answer("<think>\nMy spec says so.\n</think>\n\nYes.")).toMatchObject({
      retry: expect.stringContaining("spec"),
    });
    expect(answer("<think>\nSP1 applies.\n</think>\n\nYes.")).toMatchObject({
      retry: expect.stringContaining("rule ids"),
    });
    // Ordinary uses of the words are fine.
    expect(
      answer(
        "<think>\nThe user asks about this document's spec for HTTP.\n</think>\n\nThe spec says 204 has no body.",
      ),
    ).toHaveProperty("ok");
  });
  it("a cut-off answer, teacher's or judge's, is never kept: asked again with more room, then gated", () => {
    const cut = (text: string) => ({ text, stopReason: "max_tokens", model: "m" }) as Completion;
    const job = responseJob(ctx, prompt);
    // A whole-looking answer that stopped at the budget is still cut off.
    expect(job.check(cut("<think>\nIt matters.\n</think>\n\nYes."))).toMatchObject({
      retry: expect.stringContaining("cut off"),
      maxTokens: 4096,
    });
    expect(job.exhausted?.("cut off", cut("<think>\nIt matt"))).toMatchObject({
      gate: "truncated",
      reply: "",
    });
    const teacher = {
      reasoning: "It matters.",
      reply: "Yes.",
      model: "m",
      prompt_version: "x",
      seed: 1,
      gate: null,
    };
    const judge = judgeJob(ctx, prompt, teacher);
    expect(judge.check(cut('{"pass": true'))).toMatchObject({
      retry: expect.stringContaining("cut off"),
    });
    expect(judge.check(cut('{"pass": true, "reasons": []}'))).not.toHaveProperty("ok");
    expect(judge.exhausted?.("cut off", cut('{"pass": true'))).toBeUndefined();
  });
  it("style rule needs a spec with rule ids", () => {
    const prose = librarySpec("general");
    expect(() =>
      aftContext(prose.spec, prose.specHash, "general", AftConfigSchema.parse({ style: "rule" })),
    ).toThrow(/style "rule" cites rule ids, and general has none/);
  });
});

describe("backfill", () => {
  it("a category the judge always fails stops getting prompts, and the others make up its share", async () => {
    registerFakeModel("aft-teacher-noself", (req) => {
      const user = [...req.messages].reverse().find((m) => m.role === "user")?.content ?? "";
      const out = aftFakeModel(req);
      // Every prompt about the model itself is one the judge fails.
      if (typeof out === "string" && user.includes("questions to the model about itself"))
        return out.replace(/"user":"([^"]*)"/g, '"user":"$1 [[resp=fail]]"');
      return out;
    });
    const { client } = makeClient();
    const b = await buildAftSet({
      ...librarySpec("rules"),
      config: AftConfigSchema.parse({ ...RECIPE, model: "fake/aft-teacher-noself" }),
      client,
    });
    expect(b.selection.selected).toBe(40);
    expect(b.selection.reached).toBe(true);
    expect(b.examples.filter((e) => e.prompt.category === "self")).toHaveLength(0);
    expect(b.waves).toBeLessThan(7); // it ended before the cap on waves
  });
});

describe("AFT recipes", () => {
  it("the example recipe loads; a recipe without categories is refused", () => {
    const c = loadAftConfig(join(ROOT, "examples", "recipes", "aft.yaml"));
    expect(c.budget.examples).toBe(5000);
    expect(c.style).toBe("value");
    expect(() => parseAftConfig("categories: { ordinary: 0 }\n", "a.yaml")).toThrow(
      /every weight is 0/,
    );
    expect(() => parseAftConfig("style: values\n", "a.yaml")).toThrow(/a\.yaml:1:\d+: style/);
  });

  it("the teacher: the recipe's model, else specsci.yaml's defaults.generator, else specsci's", () => {
    expect(loadAftConfig().model).toBe(DEFAULT_MODELS.anthropic.generator);
    expect(loadAftConfig(undefined, "vllm/gen").model).toBe("vllm/gen");
    expect(parseAftConfig("model: openai/gpt-5.4\n", "a.yaml", "vllm/gen").model).toBe(
      "openai/gpt-5.4",
    );
  });
});
