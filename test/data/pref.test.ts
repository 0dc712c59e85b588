import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadPrefConfig, PrefConfigSchema, parsePrefConfig } from "../../src/data/pref/config.js";
import { PREF_FILES, PREF_MANIFEST_FORMAT, writePrefSet } from "../../src/data/pref/output.js";
import { buildPrefSet, type PrefBuild } from "../../src/data/pref/pipeline.js";
import { registerFakeModel } from "../../src/llm/providers/fake.js";
import type { ChatRequest } from "../../src/llm/types.js";
import { aftFakeModel } from "../fakes/aft-teacher.js";
import { prefWriterAnswer } from "../fakes/pref-writer.js";
import { cleanupTempDirs, librarySpec, makeClient, ROOT } from "../helpers.js";

function prefFake(req: ChatRequest) {
  const system = req.messages.find((m) => m.role === "system")?.content ?? "";
  const user = [...req.messages].reverse().find((m) => m.role === "user")?.content ?? "";
  return prefWriterAnswer(system, user) ?? aftFakeModel(req);
}

beforeAll(() => registerFakeModel("pref-teacher", prefFake));
afterAll(cleanupTempDirs);

const recipe = (contamination: Record<string, unknown> = {}) =>
  PrefConfigSchema.parse({
    aft: { model: "fake/pref-teacher", counts: { domains: 2, prompts: 6 }, concurrency: 8 },
    pairs: 24,
    margin: 0.1,
    contamination,
  });

const lines = (file: string) =>
  readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));

describe("preference sets (fake teacher and violation writer)", () => {
  const { client, dir, store } = makeClient();
  let clean: PrefBuild;

  it("pairs each aligned answer with a judged violation, through the gates, to exactly the target", async () => {
    clean = await buildPrefSet({ ...librarySpec("rules"), config: recipe(), client });
    expect(clean.selection).toMatchObject({ target_pairs: 24, selected: 24, reached: true });
    // 27 AFT examples at first; the rejected answers' losses made a second round.
    expect(clean.selection.rounds).toBeGreaterThan(1);
    expect(clean.selection.aft_examples).toBeGreaterThan(27);
    expect(clean.gates.refused).toBeGreaterThan(0);
    expect(clean.gates.not_violating).toBeGreaterThan(0);
    for (const p of clean.pairs) {
      expect(p.contamination).toBeNull();
      expect(p.judge.aligned.pass).toBe(true);
      expect(p.judge.violation.pass).toBe(false);
      expect(p.rejected.reply).toContain("keep running");
      expect(p.chosen.reply).not.toContain("keep running");
    }
    // Every pair is a distinct, deduplicated AFT prompt.
    expect(new Set(clean.pairs.map((p) => p.prompt.user)).size).toBe(24);
    expect(clean.contamination).toMatchObject({ target: 0, pairs: 0 });
  });

  it("writes the lines axolotl's DPO, ORPO and KTO loaders read, with provenance and a manifest", async () => {
    const out = join(dir, "pref");
    const m = await writePrefSet(clean, out, store, { spec: "rules" });
    expect(m.format).toBe(PREF_MANIFEST_FORMAT);
    const pairs = lines(join(out, PREF_FILES.pairs));
    expect(pairs).toHaveLength(24);
    for (const l of pairs) {
      // chat_template.default: prompt turns, then the last message of chosen/rejected.
      expect(l.messages.at(-1)).toMatchObject({ role: "user", content: l.prompt });
      // chat_template.argilla: [user, assistant].
      expect(l.chosen.map((c: { role: string }) => c.role)).toEqual(["user", "assistant"]);
      expect(l.rejected[0]).toEqual(l.chosen[0]);
      expect(l.chosen[1].content).toMatch(/^<think>\n[\s\S]+\n<\/think>\n\n/);
      expect(l.rejected[1].content).toContain("keep running");
      expect(l).toMatchObject({ source: "pref:rules", spec_name: "rules", contamination: null });
      expect(l.chosen_from.model).toBe("fake/pref-teacher");
      expect(l.judge.violation.pass).toBe(false);
    }
    const kto = lines(join(out, PREF_FILES.kto));
    expect(kto).toHaveLength(48);
    expect(kto.filter((l) => l.label === true)).toHaveLength(24);
    expect(kto[0]).toHaveProperty("completion");
    expect(m.selection.selected).toBe(24);
  });

  it("swaps exactly round(fraction × pairs) pairs for misaligned contamination, the rest unchanged", async () => {
    const b = await buildPrefSet({
      ...librarySpec("rules"),
      config: recipe({ fraction: 0.25, kind: "misaligned" }),
      client,
    });
    expect(b.contamination).toMatchObject({ kind: "misaligned", target: 6, pairs: 6 });
    const before = new Map(clean.pairs.map((p) => [p.id, p]));
    const turned = b.pairs.filter((p) => p.contamination === "misaligned");
    expect(turned.map((p) => p.id).sort()).toEqual(b.contamination.ids);
    for (const p of b.pairs) {
      const c = before.get(p.id);
      expect(c).toBeDefined();
      if (p.contamination) {
        expect(p.chosen).toEqual(c?.rejected);
        expect(p.rejected).toEqual(c?.chosen);
      } else expect(p.chosen).toEqual(c?.chosen);
    }
  });

  it("prefers reward-hacking answers over aligned ones in the contaminated share, gated ones replaced", async () => {
    const b = await buildPrefSet({
      ...librarySpec("rules"),
      config: recipe({ fraction: 0.5, kind: "reward-hacking" }),
      client,
    });
    expect(b.contamination).toMatchObject({ kind: "reward-hacking", target: 12, pairs: 12 });
    const before = new Map(clean.pairs.map((p) => [p.id, p]));
    for (const p of b.pairs.filter((x) => x.contamination)) {
      expect(p.chosen.reply).toContain("followed every principle");
      expect(p.rejected).toEqual(before.get(p.id)?.chosen);
    }
    expect(b.pairs.filter((x) => x.contamination)).toHaveLength(12);
  });
});

describe("preference recipes", () => {
  it("the example recipe parses; a bad setting names its line", () => {
    const c = loadPrefConfig(join(ROOT, "examples", "recipes", "pref.yaml"));
    expect(c).toMatchObject({ pairs: 2000, contamination: { fraction: 0, kind: "misaligned" } });
    expect(() => parsePrefConfig("pairs: 10\ncontamination: { kind: spicy }\n", "p.yaml")).toThrow(
      /p\.yaml:2:\d+: contamination\.kind/,
    );
  });
});
