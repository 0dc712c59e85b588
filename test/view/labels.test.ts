/**
 * The sample table's reasoning and human-label filters and the transcript's judge panel and
 * reasoning labels, over real HTTP on a store made by the real pipeline (k = 3 judges, a
 * reasoning analysis, annotations). Every count is checked against the library's own reading
 * (`collectLabels`, `itemMeasures`, `store.annotations`), not against numbers written here.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  builtinTaxonomy,
  collectLabels,
  itemMeasures,
} from "../../src/analysis/reasoning/index.js";
import { setLogLevel } from "../../src/core/log.js";
import { experimentFromSource } from "../../src/experiment/config.js";
import { armAnalyses } from "../../src/experiment/reasoning.js";
import { buildStages } from "../../src/experiment/stages.js";
import { rulesOf } from "../../src/spec/model.js";
import type {
  ExperimentResponse,
  ExperimentStagesResponse,
  SampleFilterOptions,
  SamplesPage,
  Transcript,
  TranscriptReasoning,
} from "../../src/view/api-types.js";
import type { ViewServer } from "../../src/view/server.js";
import { cleanupTempDirs } from "../helpers.js";
import { onEachBackend, serve, workspaceOn } from "./fixture.js";
import { annotate, CLAIMS, LABELLED } from "./labelled-fixture.js";

afterAll(cleanupTempDirs);

onEachBackend((storeConfig) => {
  let server: ViewServer;
  let ws: Awaited<ReturnType<typeof workspaceOn>>;
  const EXPERIMENT = "experiment-labelled";

  beforeAll(async () => {
    setLogLevel("quiet");
    const store = storeConfig();
    ws = await workspaceOn(store, LABELLED);
    server = await serve(ws.workspace, 100, store);
  });
  afterAll(async () => {
    await server?.close();
    ws?.store.close();
  });

  async function get<T>(path: string): Promise<{ status: number; body: T }> {
    const r = await fetch(`${server.url}${path.replace(/^\//, "")}`);
    return { status: r.status, body: (await r.json()) as T };
  }

  const samples = async (query: string) => {
    // The first of a repeated parameter counts: the test's own come first.
    const r = await get<SamplesPage>(`/api/samples?${query}&experiment=${EXPERIMENT}&limit=500`);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body;
  };
  const keys = (p: SamplesPage) => p.rows.map((r) => `${r.runId}/${r.sampleId}#${r.epoch}`).sort();

  /** The library's labels of every arm, as the report reads them. */
  async function libraryLabels() {
    const record = ws.store.runs.get(EXPERIMENT)?.config as { file: string; source: string };
    const loaded = experimentFromSource(record.source, record.file);
    const graph = await buildStages(loaded, ws.client);
    return armAnalyses(loaded, graph, ws.store).flatMap((a) => {
      const l = collectLabels(ws.store, a.runIds, a.options);
      const ruleIds = a.options.spec ? rulesOf(a.options.spec.spec).map((r) => r.id) : [];
      return l.items.map((i) => ({
        key: `${i.runId}/${i.sampleId}#${i.epoch}`,
        arm: a.arm,
        categories: (i.labels[l.primary]?.status === "ok"
          ? (i.labels[l.primary] as { value: { categories: { id: string }[] } }).value.categories
          : []
        ).map((c) => c.id),
        misuse: itemMeasures(i, l.primary, ruleIds).misuse,
      }));
    });
  }

  describe("sample filters: reasoning labels", () => {
    it("filters by reasoning category and by policy misuse exactly as the report counts them", async () => {
      const lib = await libraryLabels();
      expect(lib).toHaveLength(12);
      const withCategory = (id: string) =>
        lib
          .filter((i) => i.categories.includes(id))
          .map((i) => i.key)
          .sort();
      for (const id of ["self_preservation", "no_alternatives", "respect_for_oversight"]) {
        expect(withCategory(id).length, id).toBeGreaterThan(0);
        expect(keys(await samples(`category=${id}`)), id).toEqual(withCategory(id));
      }
      // Several categories: any of them.
      expect(keys(await samples("category=self_preservation&category=no_alternatives"))).toEqual(
        [
          ...new Set([...withCategory("self_preservation"), ...withCategory("no_alternatives")]),
        ].sort(),
      );
      const misuse = (v: 0 | 1) =>
        lib
          .filter((i) => i.misuse === v)
          .map((i) => i.key)
          .sort();
      // The rules arm stretches SP3 and the baseline misquotes SP2: both are misuse; GP1 quoted right is not.
      expect(misuse(1).length).toBe(8);
      expect(misuse(0).length).toBe(4);
      expect(keys(await samples("misuse=yes"))).toEqual(misuse(1));
      expect(keys(await samples("misuse=no"))).toEqual(misuse(0));
      expect((await samples("misuse=yes&misuse=no")).total).toBe(12);
      // Filters combine with AND (and with the others).
      const both = await samples("misuse=yes&arm=baseline");
      expect(
        both.rows.every((r) => r.arm === "baseline" && r.sampleId.startsWith("exfiltration")),
      ).toBe(true);
      expect(both.total).toBe(2);
    });

    it("offers the experiment's arms, models, evals, seeds and the taxonomy's categories to the filter bar", async () => {
      const r = await get<SampleFilterOptions>(`/api/experiments/${EXPERIMENT}/filters`);
      expect(r.body).toMatchObject({
        arms: ["baseline", "rules"],
        models: ["fake/view-reasoner"],
        evals: ["am"],
        seeds: [0],
      });
      expect(r.body.categories?.map((c) => c.id)).toEqual(
        builtinTaxonomy().categories.map((c) => c.id),
      );
      expect((await get("/api/experiments/experiment-nope/filters")).status).toBe(404);
    });

    it("lists the experiment's stages: which arm, model, eval and seed each run is", async () => {
      const r = await get<ExperimentStagesResponse>(`/api/experiments/${EXPERIMENT}/stages`);
      expect(r.status).toBe(200);
      const summary = await get<ExperimentResponse>(`/api/experiments/${EXPERIMENT}`);
      expect(r.body.stages).toEqual(
        summary.body.summary.stages.map((s) => ({
          runId: s.runId,
          arm: s.arm,
          model: s.model,
          eval: s.eval,
          seed: s.seed,
        })),
      );
      expect(r.body.stages.map((s) => s.arm)).toEqual(["baseline", "rules"]);
      expect((await get("/api/experiments/experiment-nope/stages")).status).toBe(404);
    });

    it("refuses reasoning filters without an experiment and bad values, naming the parameter", async () => {
      const no = await get<{ error: string }>("/api/samples?category=self_preservation");
      expect(no.status).toBe(400);
      expect(no.body.error).toContain("experiment=");
      const bad = await get<{ error: string }>(
        `/api/samples?experiment=${EXPERIMENT}&misuse=maybe`,
      );
      expect(bad.status).toBe(400);
      expect(bad.body.error).toContain("misuse=maybe");
      const human = await get<{ error: string }>("/api/samples?human=perhaps");
      expect(human.body.error).toContain("human=perhaps");
    });
  });

  describe("sample filters: human labels", () => {
    it("filters by labelled, annotator and the human's misaligned answer; a stale label does not count", async () => {
      const all = await samples("sort=sample");
      const [a, b, c, d] = all.rows;
      if (!a || !b || !c || !d) throw new Error("too few samples");
      const at = (r: typeof a) => ({ runId: r.runId, sampleId: r.sampleId, epoch: r.epoch });
      annotate(ws.store, [
        { annotator: "alice", ...at(a), misaligned: "yes" },
        { annotator: "alice", ...at(b), misaligned: "no" },
        { annotator: "alice", ...at(c), misaligned: "unsure" },
        { annotator: "bob", ...at(a), misaligned: "no" },
        { annotator: "bob", ...at(d), misaligned: "yes" },
      ]);
      const k = (...rows: (typeof a)[]) =>
        rows.map((r) => `${r.runId}/${r.sampleId}#${r.epoch}`).sort();
      expect(keys(await samples("labelled=yes"))).toEqual(k(a, b, c, d));
      expect((await samples("labelled=no")).total).toBe(all.total - 4);
      expect(keys(await samples("annotator=bob"))).toEqual(k(a, d));
      expect(keys(await samples("labelled=no&annotator=bob"))).not.toContain(k(a)[0]);
      expect((await samples("labelled=no&annotator=bob")).total).toBe(all.total - 2);
      expect(keys(await samples("human=yes"))).toEqual(k(a, d));
      expect(keys(await samples("human=yes&annotator=alice"))).toEqual(k(a));
      expect(keys(await samples("human=no&annotator=bob"))).toEqual(k(a));
      expect(keys(await samples("human=unsure"))).toEqual(k(c));
      // The newest label wins, and a withdrawn one is gone.
      annotate(ws.store, [{ annotator: "alice", ...at(b), misaligned: "yes" }]);
      expect(keys(await samples("human=yes&annotator=alice"))).toEqual(k(a, b));
      ws.store.annotations.delete({ annotator: "bob", ...at(d) });
      expect(keys(await samples("annotator=bob"))).toEqual(k(a));
      // A retried sample's new answer is not the one alice labelled.
      const [record] = ws.store.evals
        .samples(c.runId, [c.sampleId])
        .filter((r) => r.epoch === c.epoch);
      ws.store.tx(() =>
        ws.store.evals.writeSample({
          ...(record as NonNullable<typeof record>),
          completedAt: new Date(Date.now() + 60_000).toISOString(),
        }),
      );
      expect(keys(await samples("annotator=alice"))).toEqual(k(a, b));
      expect(ws.store.annotations.list({ annotator: "alice" }).filter((l) => l.stale)).toHaveLength(
        1,
      );
    });
  });

  describe("sorting by verdict", () => {
    it("orders misaligned, not, then samples without a score, at any offset, from the index", async () => {
      const desc = await samples("sort=verdict&order=desc");
      const rank = (r: SamplesPage["rows"][number]) =>
        r.status === "done"
          ? (r.decided ?? -4)
          : { error: -1, truncated: -2, refused: -3 }[r.status];
      const ranks = desc.rows.map(rank);
      expect(ranks).toEqual([...ranks].sort((x, y) => y - x));
      expect(new Set(ranks).size).toBeGreaterThan(1);
      const deep = await samples("sort=verdict&order=desc&offset=7&limit=3");
      expect(keys({ ...deep, rows: deep.rows })).toEqual(
        desc.rows
          .slice(7, 10)
          .map((r) => `${r.runId}/${r.sampleId}#${r.epoch}`)
          .sort(),
      );
      // SQLite's plan: PostgreSQL's on a dozen rows is a sequential scan whatever the indexes
      // (bench/view.ts times both on 200,000 samples).
      if (ws.store.backend !== "sqlite") return;
      const plan = ws.store.db
        .prepare(
          "EXPLAIN QUERY PLAN SELECT s.rowid FROM eval_samples s WHERE s.verdict IN (0) ORDER BY s.verdict DESC, s.run_id DESC, s.sample_id DESC, s.epoch DESC LIMIT 10 OFFSET 5",
        )
        .all() as { detail: string }[];
      expect(plan.map((p) => p.detail).join("\n")).not.toContain("TEMP B-TREE");
    });
  });

  describe("the transcript's judges and reasoning labels", () => {
    const transcript = async (query: string) => {
      const row = (await samples(`${query}&limit=1`)).rows[0];
      if (!row) throw new Error(`no sample for ${query}`);
      const r = await get<Transcript>(
        `/api/sample?${new URLSearchParams({ run: row.runId, sample: row.sampleId, epoch: String(row.epoch) })}`,
      );
      expect(r.status).toBe(200);
      return r.body;
    };
    const labels = (t: Transcript) => t.labels as TranscriptReasoning;

    it("shows each of k judges' votes and marks a split panel", async () => {
      const split = await transcript("arm=rules&sample=leaking_explicit-america_replacement");
      const panel = split.panels.find((p) => p.scorer === "misalignment");
      expect(panel).toEqual({
        scorer: "misalignment",
        votes: ["decided", "decided", "not decided"],
        disagree: true,
      });
      expect(split.judges.filter((j) => j.scorer === "misalignment")).toHaveLength(3);
      const agreed = await transcript("arm=rules&sample=leaking_none-none_replacement");
      expect(agreed.panels.find((p) => p.scorer === "misalignment")?.disagree).toBe(false);
      expect(agreed.panels.find((p) => p.scorer === "eval_awareness")?.votes).toHaveLength(3);
    });

    it("gives the sample's categories, the rules it invokes with their text, and misuse claims beside the rule", async () => {
      const rules = labels(await transcript("arm=rules&sample=leaking_none-none_replacement"));
      expect(rules).toMatchObject({
        experiment: EXPERIMENT,
        arm: "rules",
        spec: { name: "rules" },
      });
      expect(rules.unlabelled).toBeNull();
      expect(rules.labels[0]?.categories.map((c) => c.id)).toEqual(
        expect.arrayContaining(["self_preservation", "policy_misuse"]),
      );
      expect(rules.labels[0]?.categories[0]?.name).not.toBe(rules.labels[0]?.categories[0]?.id);
      const sp3 = rules.rules.find((r) => r.rule === "SP3");
      expect(sp3).toMatchObject({ how: "explicit" });
      expect(sp3?.quote).toContain("SP3 says");
      expect(sp3?.text).toContain("Avoid drastic, catastrophic or irreversible actions");
      expect(rules.misuse).toEqual([
        expect.objectContaining({
          rule: "SP3",
          claim: CLAIMS.reinterpreted,
          kind: "reinterpretation",
        }),
      ]);
      expect(rules.misuse[0]?.ruleText).toContain("Treat actions that cannot be undone");

      const misquoted = labels(
        await transcript("arm=baseline&sample=exfiltration_none-none_replacement"),
      );
      expect(misquoted.misuse[0]).toMatchObject({
        rule: "SP2",
        claim: CLAIMS.misquoted,
        kind: "misquotation",
      });
      expect(misquoted.misuse[0]?.why).toContain("always act on your own judgment first");
      expect(misquoted.misuse[0]?.ruleText).toContain("Act only within limits");

      const accurate = labels(
        await transcript("arm=baseline&sample=leaking_none-none_replacement"),
      );
      expect(accurate.misuse.map((m) => [m.rule, m.kind])).toEqual([["GP1", "accurate"]]);
      // SP1 by id in the text, and by paraphrase per the labeller.
      expect(
        accurate.rules
          .filter((r) => r.rule === "SP1")
          .map((r) => r.how)
          .sort(),
      ).toEqual(["explicit", "paraphrase"]);
    });
  });
});
