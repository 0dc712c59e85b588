/** The training-purpose knob: a share of the documents say that the spec trains the model. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MsmConfigSchema, parseMsmConfig } from "../../src/data/msm/config.js";
import { corpusIdOf } from "../../src/data/msm/context.js";
import { mentionsTrainingPurpose, statesTrainingPurpose } from "../../src/data/msm/knobs.js";
import { writeCorpus } from "../../src/data/msm/output.js";
import { buildCorpus } from "../../src/data/msm/pipeline.js";
import { planCorpus } from "../../src/data/msm/plan.js";
import { registerFakeModel } from "../../src/llm/providers/fake.js";
import { msmAnswer } from "../fakes/msm-writer.js";
import { cleanupTempDirs, librarySpec, makeClient } from "../helpers.js";

const lastUser = (messages: { role: string; content: string }[]) =>
  [...messages].reverse().find((m) => m.role === "user")?.content ?? "";

const prompts: string[] = [];
beforeAll(() => {
  registerFakeModel("msm-writer-purpose", (req) => {
    const prompt = lastUser(req.messages);
    if (prompt.includes("<content></content>")) prompts.push(prompt);
    return msmAnswer(prompt, req.params.seed);
  });
  // A writer that never says it, however often asked.
  registerFakeModel("msm-writer-deaf", (req) =>
    msmAnswer(lastUser(req.messages).replace(ASKED, ""), req.params.seed),
  );
});
afterAll(cleanupTempDirs);

const BASE = {
  model: "fake/msm-writer-purpose",
  counts: { domains: 3, subdomains: 2, assertions: 3, doc_types: 2, ideas: 5 },
  stages: { documents: { max_tokens: 900 } },
  gates: { retry_truncated_max_tokens: 3000 },
  concurrency: 8,
};
const ASKED = "documents like this one are written as training material";

describe("knobs.training_purpose", () => {
  it("absent (or written as absent) leaves the config and the corpus id as without it", () => {
    const none = MsmConfigSchema.parse(BASE);
    expect("training_purpose" in none.knobs).toBe(false);
    const absent = MsmConfigSchema.parse({
      ...BASE,
      knobs: { training_purpose: { mode: "absent" } },
    });
    const stated = MsmConfigSchema.parse({
      ...BASE,
      knobs: { training_purpose: { mode: "stated" } },
    });
    expect(corpusIdOf("h", absent)).toBe(corpusIdOf("h", none));
    expect(corpusIdOf("h", stated)).not.toBe(corpusIdOf("h", none));
    expect(stated.knobs.training_purpose?.share).toBe(0.5);
    expect(statesTrainingPurpose(absent, "rules", "d1.s1.t1.i1.r0")).toBe(false);
  });

  it("applies only to the specs it names: another spec's corpus is the one without the knob", () => {
    const none = MsmConfigSchema.parse(BASE);
    const knobs = { training_purpose: { mode: "stated", share: 1, specs: ["rules-aware"] } };
    const scoped = MsmConfigSchema.parse({ ...BASE, knobs });
    expect(corpusIdOf("h", scoped, "rules")).toBe(corpusIdOf("h", none, "rules"));
    expect(corpusIdOf("h", scoped, "rules-aware")).not.toBe(corpusIdOf("h", none, "rules-aware"));
    expect(statesTrainingPurpose(scoped, "rules", "d1.s1.t1.i1.r0")).toBe(false);
    expect(statesTrainingPurpose(scoped, "rules-aware", "d1.s1.t1.i1.r0")).toBe(true);
  });

  it("rejects a share outside (0, 1] naming the setting", () => {
    expect(() =>
      parseMsmConfig("knobs:\n  training_purpose: { mode: stated, share: 1.5 }\n", "r.yaml"),
    ).toThrow(/r\.yaml.*training_purpose\.share/s);
  });

  it("detects a stated purpose sentence by sentence", () => {
    expect(mentionsTrainingPurpose("Its developers train Qwen on these principles.")).toBe(true);
    expect(mentionsTrainingPurpose("The spec is long. Training a dog takes patience.")).toBe(false);
  });

  it("asks the share of documents for it, retries those that leave it out, and records the count", async () => {
    const { client, store, dir } = makeClient();
    prompts.length = 0;
    const share = 0.4;
    const config = MsmConfigSchema.parse({
      ...BASE,
      knobs: { training_purpose: { mode: "stated", share } },
    });
    const b = await buildCorpus({ ...librarySpec("rules"), config, client });
    const asked = b.documents.filter((d) => d.record.training_purpose);
    // The draw per document: each asked document's key draws true, the others false.
    for (const d of b.documents)
      expect(d.record.training_purpose === true).toBe(
        statesTrainingPurpose(config, "rules", d.key),
      );
    expect(asked.length).toBeGreaterThan(0);
    expect(asked.length).toBeLessThan(b.documents.length);
    // Asked prompts carry the instruction; the fake forgets it on some first attempts, and the
    // retry is shown why.
    const askedPrompts = prompts.filter((p) => p.includes(ASKED));
    expect(
      askedPrompts.some((p) => p.includes("does not say that the spec is used to train")),
    ).toBe(true);
    for (const d of asked) expect(mentionsTrainingPurpose(d.record.content ?? "")).toBe(true);
    for (const d of b.documents.filter((x) => !x.record.training_purpose))
      expect(mentionsTrainingPurpose(d.record.content ?? "")).toBe(false);
    const s = b.training_purpose;
    expect(s).toMatchObject({
      asked_share: share,
      kept: b.documents.length,
      asked: asked.length,
      stating: asked.length,
      asked_not_stating: 0,
    });
    expect(s?.as_asked).toBe(s && s.interval[0] <= share && share <= s.interval[1]);

    const out = join(dir, "corpus");
    await writeCorpus(b, out, store, { spec: "rules" });
    const manifest = JSON.parse(readFileSync(join(out, "manifest.json"), "utf8"));
    expect(manifest.training_purpose).toEqual(s);
    expect(manifest.config.knobs.training_purpose).toEqual({ mode: "stated", share });
    const lines = readFileSync(join(out, "dataset.jsonl"), "utf8").trim().split("\n");
    expect(lines.filter((l) => JSON.parse(l).training_purpose_asked === true)).toHaveLength(
      asked.length,
    );
    const card = readFileSync(join(out, "README.md"), "utf8");
    expect(card).toContain(`${asked.length} of ${b.documents.length} kept documents say so`);
  });

  it("without the knob, no prompt asks for it and the manifest has no such record", async () => {
    const { client } = makeClient();
    prompts.length = 0;
    const b = await buildCorpus({
      ...librarySpec("rules"),
      config: MsmConfigSchema.parse(BASE),
      client,
    });
    expect(prompts.length).toBeGreaterThan(0);
    expect(prompts.some((p) => p.includes(ASKED))).toBe(false);
    expect(b.training_purpose).toBeUndefined();
  });

  it("keeps documents that never state it, and says the corpus is not what was asked", async () => {
    const { client } = makeClient();
    const log: string[] = [];
    const config = MsmConfigSchema.parse({
      ...BASE,
      model: "fake/msm-writer-deaf",
      knobs: { training_purpose: { mode: "stated", share: 1 } },
    });
    const b = await buildCorpus({
      ...librarySpec("rules"),
      config,
      client,
      log: (m) => log.push(m),
    });
    expect(b.documents.length).toBeGreaterThan(0);
    expect(b.training_purpose).toMatchObject({
      asked: b.documents.length,
      stating: 0,
      asked_not_stating: b.documents.length,
      as_asked: false,
    });
    expect(log.filter((l) => l.startsWith("training_purpose: "))).toEqual([
      expect.stringMatching(/0 of \d+ kept documents say so .*not the share asked/),
    ]);
  });

  it("is counted by the plan: the asked documents' longer prompts, in tokens and cost", () => {
    const { client } = makeClient();
    const priced = { ...BASE, model: "anthropic/claude-sonnet-4-5" };
    const { spec, specHash } = librarySpec("rules");
    const plan = (knobs: Record<string, unknown>, name = "rules") =>
      planCorpus(spec, specHash, name, MsmConfigSchema.parse({ ...priced, knobs }), client);
    const documents = (p: ReturnType<typeof plan>) => p.stages.find((s) => s.stage === "documents");
    const none = plan({});
    const stated = plan({ training_purpose: { mode: "stated", share: 0.5 } });
    const plain = documents(none);
    const asked = documents(stated);
    // 60 document calls (3 × 2 × 2 × 5 ideas) of 993 o200k tokens; half are asked, and the
    // training-purpose bullet adds 38 tokens to each of those prompts (measured once, pasted).
    expect(plain?.inputTokens).toBe(60 * 993);
    expect(plain?.statingPurpose).toBeUndefined();
    expect(asked?.statingPurpose).toEqual({ calls: 30, extraInputTokens: 30 * 38 });
    expect(asked?.inputTokens).toBe(60 * 993 + 30 * 38);
    // Claude Sonnet 4.5 lists input at $3 per million tokens: 1,140 more tokens, $0.00342 more.
    expect((stated.totals.costExpected ?? 0) - (none.totals.costExpected ?? 0)).toBeCloseTo(
      0.00342,
      12,
    );
    expect((asked?.costExpected ?? 0) - (plain?.costExpected ?? 0)).toBeCloseTo(0.00342, 12);
    // Every document asked, or the knob for another spec only (this corpus is the one without).
    const all = documents(plan({ training_purpose: { mode: "stated", share: 1 } }));
    expect(all?.statingPurpose).toEqual({ calls: 60, extraInputTokens: 60 * 38 });
    const other = plan({ training_purpose: { mode: "stated", specs: ["rules-aware"] } });
    expect(other.totals).toEqual(none.totals);
    expect(documents(other)?.statingPurpose).toBeUndefined();
    const aware = plan(
      { training_purpose: { mode: "stated", specs: ["rules-aware"] } },
      "rules-aware",
    );
    expect(documents(aware)?.statingPurpose).toEqual({ calls: 30, extraInputTokens: 30 * 38 });
  });
});
