import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_LICENSE } from "../../src/data/dataset-card.js";
import { compareCorpora } from "../../src/data/msm/compare.js";
import {
  loadMsmConfig,
  MsmConfigSchema,
  parseMsmConfig,
  STAGES,
} from "../../src/data/msm/config.js";
import { writeCorpus } from "../../src/data/msm/output.js";
import { buildCorpus, type CorpusBuild } from "../../src/data/msm/pipeline.js";
import { planCorpus } from "../../src/data/msm/plan.js";
import { ModelCallError } from "../../src/llm/errors.js";
import { DEFAULT_MODELS } from "../../src/llm/models.js";
import { registerFakeModel } from "../../src/llm/providers/fake.js";
import { getTokenizer } from "../../src/spec/tokens.js";
import { FakeLlmServer } from "../fakes/llm-server.js";
import { msmAnswer, SHARED_COPY } from "../fakes/msm-writer.js";
import { cleanupTempDirs, FAST_RETRIES, librarySpec, makeClient, ROOT } from "../helpers.js";
import { checkCard } from "./card-check.js";

const lastUser = (messages: { role: string; content: string }[]) =>
  [...messages].reverse().find((m) => m.role === "user")?.content ?? "";

beforeAll(() => {
  registerFakeModel("msm-writer", (req) => msmAnswer(lastUser(req.messages), req.params.seed));
  registerFakeModel("msm-judge-harsh", (req) => {
    const doc = /<document>\n([\s\S]*?)\n<\/document>/.exec(lastUser(req.messages))?.[1] ?? "";
    return JSON.stringify({ realism: doc.length % 2 === 0 ? 2 : 4, faithfulness: 5, invented: [] });
  });
  registerFakeModel("msm-judge-broken", () => {
    throw new ModelCallError("server", "judge is down", { httpStatus: 500 });
  });
  registerFakeModel("msm-writer-clean", (req) =>
    msmAnswer(lastUser(req.messages), req.params.seed, { faults: false }),
  );
});
afterAll(cleanupTempDirs);

const BASE = {
  model: "fake/msm-writer",
  counts: { domains: 4, subdomains: 2, assertions: 3, doc_types: 2, ideas: 5 },
  stages: { documents: { max_tokens: 900 } },
  gates: { retry_truncated_max_tokens: 3000 },
  concurrency: 8,
};

const markerOf = (summary: string) => /\[\[doc=(\w+)\]\]/.exec(summary)?.[1] ?? "normal";

describe("MSM corpus pipeline (fake generator)", () => {
  const { client, store, dir } = makeClient();
  let build: CorpusBuild;

  it("builds the tree and documents, retrying malformed answers and gating bad documents", async () => {
    const config = MsmConfigSchema.parse(BASE);
    build = await buildCorpus({ ...librarySpec("rules"), config, client });
    // "Zeta Scope" never gets enough subdomains: that item fails, the others go on.
    expect(build.stages.subdomains?.failedByKind).toEqual({ invalid: 1 });
    expect(build.tree.domains).toBe(4);
    expect(build.tree.subdomains).toBe(6);
    expect(build.tree.ideas).toBe(6 * 2 * 5);
    // Malformed first answers were retried with the problem shown, and then accepted.
    const retried = store.db
      .prepare(
        "SELECT count(*) AS n FROM items WHERE corpus = ? AND status = 'ok' AND attempts > 1",
      )
      .get(build.ctx.corpusId) as { n: number };
    expect(retried.n).toBeGreaterThan(0);

    // Every document's fate follows the fault its idea planted.
    const rows = store.items.stage(build.ctx.corpusId, "documents");
    expect(rows.size).toBe(60);
    const ideaRows = store.items.stage(build.ctx.corpusId, "ideas");
    const summaries = new Map<string, string>();
    for (const r of ideaRows.values()) {
      const v = r.value as { ideas?: { summary: string }[] };
      for (const [i, idea] of (v.ideas ?? []).entries())
        summaries.set(`${r.key.slice("ideas:".length)}.i${i + 1}`, idea.summary);
    }
    const byMarker = new Map<string, string[]>();
    for (const r of rows.values()) {
      const m = markerOf(summaries.get(r.key.replace(/\.r\d+$/, "")) ?? "");
      byMarker.set(m, [...(byMarker.get(m) ?? []), r.key]);
    }
    const gateOf = (k: string) => (rows.get(k)?.value as { gate: string | null } | undefined)?.gate;
    for (const k of byMarker.get("refuse") ?? []) expect(gateOf(k)).toBe("refused");
    for (const k of byMarker.get("placeholder") ?? []) expect(gateOf(k)).toBe("placeholder");
    // Relevance is judged when the corpus is screened, so the stored document has no gate.
    for (const k of byMarker.get("offtopic") ?? []) expect(gateOf(k)).toBeNull();
    for (const m of ["normal", "malformed", "long", "copy", "near", "offtopic"])
      for (const k of byMarker.get(m) ?? []) expect(gateOf(k), `${m} ${k}`).toBeNull();
    expect(build.gates.refused).toBe(byMarker.get("refuse")?.length ?? 0);
    expect(build.gates.placeholder).toBe(byMarker.get("placeholder")?.length ?? 0);
    expect(build.gates.off_topic).toBe(byMarker.get("offtopic")?.length ?? 0);
    // Long documents hit the budget once and were regenerated with the larger one.
    const long = byMarker.get("long") ?? [];
    expect(long.length).toBeGreaterThan(0);
    expect(build.truncation.truncated_once).toBe(long.length);
    expect(build.truncation.regenerated).toBe(long.length);
    // Copies are exact duplicates, near copies near duplicates: one of all of them is kept.
    const copies = (byMarker.get("copy") ?? []).length + (byMarker.get("near") ?? []).length;
    expect(copies).toBeGreaterThan(2);
    expect(build.dedup.exact + build.dedup.near).toBe(copies - 1);
    expect(build.dedup.near).toBeGreaterThan(0);
    const kept = new Set(build.documents.map((d) => d.key));
    for (const m of ["normal", "malformed", "long"])
      for (const k of byMarker.get(m) ?? []) expect(kept.has(k)).toBe(true);
    for (const k of byMarker.get("offtopic") ?? []) expect(kept.has(k)).toBe(false);
  });

  it("writes the corpus directory with provenance on every line", async () => {
    const out = join(dir, "corpus");
    const written = await writeCorpus(build, out, store, { spec: "rules" });
    const lines = readFileSync(join(out, "dataset.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(build.documents.length);
    const qwen3 = getTokenizer("qwen3");
    const ruleIds = new Set(build.ctx.ruleIds);
    for (const l of lines) {
      expect(l.spec_hash).toBe(build.ctx.specHash);
      expect(l.token_count).toBe(qwen3.count(l.text));
      expect(l.generator_model).toBe("fake/msm-writer");
      expect(l.prompt_version).toMatch(/^document@\d+\+[0-9a-f]{8}$/);
      expect(l.assertion_ids.length).toBeGreaterThan(0);
      for (const id of l.rule_ids) expect(ruleIds.has(id)).toBe(true);
      for (const f of ["domain", "subdomain", "doc_type", "seed", "idea"])
        expect(l[f]).toBeDefined();
    }
    expect(new Set(lines.map((l) => l.id)).size).toBe(lines.length);
    const text = readFileSync(join(out, "exports", "text.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(text.map((t) => Object.keys(t))).toEqual(lines.map(() => ["text"]));
    const manifest = JSON.parse(readFileSync(join(out, "manifest.json"), "utf8"));
    expect(manifest.tokens.total).toBe(lines.reduce((a, l) => a + l.token_count, 0));
    expect(manifest.gates).toEqual(build.gates);
    expect(manifest.items.subdomains.failedByKind).toEqual({ invalid: 1 });
    expect(manifest.prompts.document).toBe(lines[0].prompt_version);
    expect(written.stats.documents).toBe(lines.length);
    const card = readFileSync(join(out, "README.md"), "utf8");
    expect(card).toContain(`${lines.length} documents`);
    const fm = checkCard(out, { configs: { default: "dataset.jsonl" } });
    expect(fm.license).toBe(DEFAULT_LICENSE);
    expect(fm.language).toEqual(["en"]);
    expect((fm.specsci as { generator_models: string[] }).generator_models).toEqual([
      "fake/msm-writer",
    ]);
    expect((fm.specsci as { corpus_id: string }).corpus_id).toBe(build.ctx.corpusId);
  });

  it("resumes without calling the model again, and builds the same corpus", async () => {
    const calls = () =>
      (store.db.prepare("SELECT count(*) AS n FROM llm_calls").get() as { n: number }).n;
    const before = calls();
    const again = await buildCorpus({
      ...librarySpec("rules"),
      config: MsmConfigSchema.parse(BASE),
      client,
    });
    expect(calls()).toBe(before);
    expect(again.documents.map((d) => d.key)).toEqual(build.documents.map((d) => d.key));
  });

  it("plans calls and items before any call, counting what is done", () => {
    const config = MsmConfigSchema.parse(BASE);
    const p = planCorpus(
      librarySpec("rules").spec,
      librarySpec("rules").specHash,
      "rules",
      config,
      client,
    );
    expect(p.corpusId).toBe(build.ctx.corpusId);
    const docs = p.stages.find((s) => s.stage === "documents");
    expect(docs?.calls).toBe(4 * 2 * 2 * 5);
    expect(docs?.done).toBe(60);
    expect(p.stages.find((s) => s.stage === "ideas")?.items).toBe(4 * 2 * 2 * 5);
    expect(p.totals.costMax).toBe(0); // fake models cost nothing
  });
});

describe("planning a corpus", () => {
  it("projects every stage in order, for the budget, with judge calls and batch prices", () => {
    const { client } = makeClient();
    const config = MsmConfigSchema.parse({
      ...BASE,
      model: "anthropic/claude-sonnet-4-5",
      batch: true,
      gates: { judge: { model: "openai/gpt-5-mini" } },
      budget: { target_tokens: 200_000 },
    });
    const { spec, specHash } = librarySpec("rules");
    const p = planCorpus(spec, specHash, "rules", config, client);
    const tree = 4 * 2 * 2 * 5;
    const forBudget = Math.ceil((200_000 / config.budget.doc_tokens_estimate) * 1.15);
    expect(p.documents).toEqual({ tree, forBudget });
    const docs = Math.max(tree, forBudget);
    expect(p.expectedTokens).toBe(docs * config.budget.doc_tokens_estimate);
    expect(p.stages.map((s) => s.stage)).toEqual([...STAGES]);
    expect(p.stages.map((s) => s.calls)).toEqual([1, 4, 8, 8, 16, docs, docs]);
    expect(p.stages.map((s) => s.items)).toEqual([4, 8, 24, 16, 80, docs, docs]);
    const judge = p.stages[6];
    expect(judge?.model).toBe("openai/gpt-5-mini");
    expect(judge?.outputTokensMax).toBe(600 * docs);
    expect(judge?.outputTokensExpected).toBe(300 * docs);
    const documents = p.stages[5];
    expect(documents?.outputTokensExpected).toBe(
      Math.min(900, config.budget.doc_tokens_estimate + 200) * docs,
    );
    for (const s of p.stages) {
      expect(s.done).toBe(0);
      expect(s.inputTokens % s.calls).toBe(0);
      expect(s.inputTokens).toBeGreaterThan(s.calls * 20);
      expect(s.costExpectedBatch).toBeCloseTo((s.costExpected ?? 0) / 2, 12);
      expect(s.costMax).toBe(
        client.prices.cost(
          s.model,
          { input_tokens: s.inputTokens, output_tokens: s.outputTokensMax },
          { batch: true },
        ),
      );
    }
    const sum = (f: (s: (typeof p.stages)[number]) => number | null) =>
      p.stages.reduce((a, s) => a + (f(s) ?? 0), 0);
    expect(p.totals).toEqual({
      calls: sum((s) => s.calls),
      costMax: sum((s) => s.costMax),
      costExpected: sum((s) => s.costExpected),
      costExpectedBatch: sum((s) => s.costExpectedBatch),
    });
  });

  it("reports an unknown cost when one stage's model has no price", () => {
    const { client } = makeClient();
    const config = MsmConfigSchema.parse({
      ...BASE,
      model: "anthropic/claude-sonnet-4-5",
      gates: { judge: { model: "openai/gpt-5.6" } },
    });
    const { spec, specHash } = librarySpec("rules");
    const p = planCorpus(spec, specHash, "rules", config, client);
    expect(p.stages.at(-1)?.costMax).toBeNull();
    expect(p.totals.costMax).toBeNull();
    expect(p.totals.costExpectedBatch).toBeNull();
  });
});

describe("token budgets", () => {
  const SMALL = {
    ...BASE,
    model: "fake/msm-writer-clean",
    counts: { domains: 3, subdomains: 1, assertions: 2, doc_types: 2, ideas: 2 },
  };

  it("generates in waves until the target, trims stratified, and matches two specs within 1%", async () => {
    const target = 20_000;
    const dirs: string[] = [];
    for (const name of ["rules", "value-augmented"]) {
      const { client, store, dir } = makeClient();
      const config = MsmConfigSchema.parse({ ...SMALL, budget: { target_tokens: target } });
      const b = await buildCorpus({ ...librarySpec(name), config, client });
      expect(b.waves).toBeGreaterThan(0);
      expect(b.budget.reached).toBe(true);
      expect(b.budget.within_tolerance).toBe(true);
      expect(b.budget.tokens).toBeLessThanOrEqual(target);
      expect(b.budget.tokens).toBeGreaterThanOrEqual(target * 0.995);
      // Each domain holds about a third of the tokens.
      const byDomain = new Map<string, number>();
      for (const d of b.documents)
        byDomain.set(
          d.idea.type.sub.domain.key,
          (byDomain.get(d.idea.type.sub.domain.key) ?? 0) + d.record.tokens,
        );
      for (const t of byDomain.values())
        expect(Math.abs(t / b.budget.tokens - 1 / 3)).toBeLessThan(0.08);
      const out = join(dir, name);
      await writeCorpus(b, out, store, { spec: name });
      dirs.push(out);
    }
    const c = compareCorpora(dirs[0] as string, dirs[1] as string);
    expect(c.tokenDifference).toBeLessThan(0.01);
    expect(c.matched).toBe(true);
  });
});

describe("MSM recipes", () => {
  it("the example recipe loads, and a recipe mistake names its line", () => {
    const c = loadMsmConfig(join(ROOT, "examples", "recipes", "msm.yaml"));
    expect(c.budget.target_tokens).toBe(27_000_000);
    expect(c.knobs.doc_types.deny).toEqual(["poem", "song"]);
    expect(() => parseMsmConfig("knobs:\n  attribution: other\n", "r.yaml")).toThrow(
      /other_model is required/,
    );
    expect(() => parseMsmConfig("dedup:\n  near: { threshold: 1.5 }\n", "r.yaml")).toThrow(
      /r\.yaml:2:\d+: dedup\.near\.threshold/,
    );
    expect(() => parseMsmConfig("model: opus\n", "r.yaml")).toThrow(
      /r\.yaml:1:8: model: model id "opus" is not of the form provider\/model/,
    );
  });

  it("the generator: the recipe's model, else specsci.yaml's defaults.generator, else specsci's", () => {
    expect(loadMsmConfig().model).toBe(DEFAULT_MODELS.anthropic.generator);
    expect(loadMsmConfig(undefined, "vllm/gen").model).toBe("vllm/gen");
    expect(parseMsmConfig("seed: 1\n", "r.yaml", "vllm/gen").model).toBe("vllm/gen");
    expect(parseMsmConfig("model: openai/gpt-5.4\n", "r.yaml", "vllm/gen").model).toBe(
      "openai/gpt-5.4",
    );
  });
});

describe("contamination", () => {
  it("reports documents that quote the evaluation texts, and drops them when enforced", async () => {
    const { client } = makeClient();
    // An "evaluation scenario" that happens to contain the sentence the fake copies into some documents.
    const texts = [`Subject: notes\n\n${SHARED_COPY.split(" ").slice(40, 70).join(" ")}`];
    const contamination = { texts, source: "a test pack" };
    const reported = await buildCorpus({
      ...librarySpec("rules"),
      config: MsmConfigSchema.parse(BASE),
      client,
      contamination,
    });
    expect(reported.contamination?.documents).toBe(1); // the one copy that survived dedup
    expect(reported.contamination?.in_corpus).toBe(1);
    expect(reported.contamination?.examples[0]?.ngrams.length).toBeGreaterThan(0);
    const enforced = await buildCorpus({
      ...librarySpec("rules"),
      config: MsmConfigSchema.parse({ ...BASE, contamination: { enforce: true } }),
      client,
      contamination,
    });
    expect(enforced.contamination?.in_corpus).toBe(0);
    expect(enforced.documents.length).toBe(reported.documents.length - 1);
  });
});

describe("attribution", () => {
  it("documents about an unnamed assistant that name the real model are asked again, then gated", async () => {
    const { client } = makeClient();
    const config = MsmConfigSchema.parse({ ...BASE, knobs: { attribution: "unnamed" } });
    const b = await buildCorpus({ ...librarySpec("rules"), config, client });
    // The fake's shared "copy" text names Qwen whatever it is asked; nothing else does.
    expect(b.gates.misattributed).toBeGreaterThan(0);
    for (const d of b.documents) expect(d.record.content).not.toMatch(/\bQwen\b|Alibaba/);
    expect(b.documents.length).toBeGreaterThan(10);
  });
});

describe("resuming a budgeted build", () => {
  it("an interrupted build, resumed, writes exactly what an uninterrupted one writes", async () => {
    const recipe = {
      ...BASE,
      model: "fake/msm-writer-abortable",
      counts: { domains: 3, subdomains: 1, assertions: 2, doc_types: 2, ideas: 2 },
      concurrency: 3,
      budget: { target_tokens: 15_000 },
    };
    let controller = new AbortController();
    let abortAt = Number.POSITIVE_INFINITY;
    let documentCalls = 0;
    registerFakeModel("msm-writer-abortable", (req) => {
      const prompt = lastUser(req.messages);
      if (prompt.includes("<content></content>") && ++documentCalls === abortAt)
        controller.abort(new Error("stop"));
      return msmAnswer(prompt, req.params.seed);
    });
    const run = async (stopAt: number[]) => {
      const { client } = makeClient();
      for (const at of stopAt) {
        controller = new AbortController();
        abortAt = at;
        documentCalls = 0;
        const config = MsmConfigSchema.parse(recipe);
        await expect(
          buildCorpus({ ...librarySpec("rules"), config, client, signal: controller.signal }),
        ).rejects.toThrow("stop");
      }
      abortAt = Number.POSITIVE_INFINITY;
      const b = await buildCorpus({
        ...librarySpec("rules"),
        config: MsmConfigSchema.parse(recipe),
        client,
        signal: new AbortController().signal,
      });
      const calls = client.store.db
        .prepare("SELECT count(*) AS n FROM llm_calls WHERE source = 'api'")
        .get() as { n: number };
      return { b, calls: calls.n };
    };
    const whole = await run([]);
    expect(whole.b.waves).toBeGreaterThan(1);
    for (const stops of [[5], [25], [12, 30]]) {
      const resumed = await run(stops);
      expect(
        resumed.b.documents.map((d) => [d.key, d.record.content]),
        `stops ${stops}`,
      ).toEqual(whole.b.documents.map((d) => [d.key, d.record.content]));
      expect(resumed.b.generated).toBe(whole.b.generated);
      expect(resumed.b.waves).toBe(whole.b.waves);
      expect(resumed.b.budget).toEqual(whole.b.budget);
      // Nothing was asked twice but the calls in flight at each stop.
      expect(resumed.calls - whole.calls).toBeLessThanOrEqual(3 * stops.length);
    }
  });
});

describe("the quality judge", () => {
  const recipe = {
    ...BASE,
    model: "fake/msm-writer-clean",
    counts: { domains: 2, subdomains: 1, assertions: 2, doc_types: 2, ideas: 3 },
  };

  it("stores its scores and drops the documents below the thresholds", async () => {
    const { client, store, dir } = makeClient();
    const config = MsmConfigSchema.parse({
      ...recipe,
      gates: { judge: { model: "fake/msm-judge-harsh" } },
    });
    const b = await buildCorpus({ ...librarySpec("rules"), config, client });
    const judged = [...store.items.stage(b.ctx.corpusId, "judge").values()];
    expect(judged.length).toBe(12);
    const low = judged.filter((r) => (r.value as { realism: number }).realism < 3).length;
    expect(low).toBeGreaterThan(0);
    expect(b.gates.judge_rejected).toBe(low);
    expect(b.documents).toHaveLength(12 - low);
    expect(b.judge?.judged).toBe(12);
    await writeCorpus(b, join(dir, "judged"), store, { spec: "rules" });
    const lines = readFileSync(join(dir, "judged", "dataset.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    for (const l of lines) expect(l.judge.realism).toBe(4);
  });

  it("a judge that cannot be reached approves nothing: its documents are counted as unjudged", async () => {
    const { client } = makeClient({ defaults: FAST_RETRIES });
    const config = MsmConfigSchema.parse({
      ...recipe,
      gates: { judge: { model: "fake/msm-judge-broken" } },
    });
    const b = await buildCorpus({ ...librarySpec("rules"), config, client });
    expect(b.stages.judge?.failedByKind).toEqual({ call: 12 });
    expect(b.gates.judge_failed).toBe(12);
    expect(b.documents).toHaveLength(0);
  });
});

describe("batch generation", () => {
  let server: FakeLlmServer;
  beforeAll(async () => {
    server = await new FakeLlmServer({ record: false, batchPolls: 1 }).start();
  });
  afterAll(() => server.stop());

  it("sends each stage as provider batches, retries invalid answers in later rounds, and matches the online corpus", async () => {
    const corpus = async (batch: boolean) => {
      const { client } = makeClient({
        defaults: FAST_RETRIES,
        endpoints: { loop: { base_url: `${server.url}/v1`, batch: true } },
        batch: { poll_interval_s: 0.01 },
      });
      const config = MsmConfigSchema.parse({
        ...BASE,
        model: "loop/msm-writer",
        counts: { domains: 2, subdomains: 2, assertions: 2, doc_types: 2, ideas: 2 },
        batch,
      });
      const b = await buildCorpus({ ...librarySpec("rules"), config, client });
      const sources = client.store.db
        .prepare("SELECT source, count(*) AS n FROM llm_calls GROUP BY source")
        .all() as { source: string; n: number }[];
      const retried = client.store.db
        .prepare("SELECT count(*) AS n FROM items WHERE status = 'ok' AND attempts > 1")
        .get() as { n: number };
      return {
        b,
        retried: retried.n,
        sources: Object.fromEntries(sources.map((r) => [r.source, r.n])),
      };
    };
    const online = await corpus(false);
    const batched = await corpus(true);
    expect(online.sources).toEqual({ api: expect.any(Number) });
    expect(Object.keys(batched.sources)).toEqual(["batch"]);
    // Malformed first answers came back in round 1 and were answered in round 2.
    expect(batched.retried).toBeGreaterThan(0);
    expect(batched.retried).toBe(online.retried);
    expect(batched.b.documents.map((d) => [d.key, d.record.content])).toEqual(
      online.b.documents.map((d) => [d.key, d.record.content]),
    );
    expect(batched.b.gates).toEqual(online.b.gates);
  });
});
