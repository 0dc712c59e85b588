/**
 * The dashboard's annotation API over real HTTP, on a store made by the real pipeline: input
 * validation naming the field, the token and origin checks on writes, labels written through
 * their own connection (the server's is read-only), the queue's order (stable, resumable), the
 * agreement numbers (the library's), and the export read back by loadHumanLabels.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  annotationAgreement,
  annotationQueue,
  humanLabelsOf,
} from "../../src/analysis/annotations/index.js";
import {
  builtinTaxonomy,
  collectLabels,
  type LabelledRuns,
  loadHumanLabels,
} from "../../src/analysis/reasoning/index.js";
import { setLogLevel } from "../../src/core/log.js";
import { experimentFromSource } from "../../src/experiment/config.js";
import { armAnalyses } from "../../src/experiment/reasoning.js";
import { buildStages } from "../../src/experiment/stages.js";
import { Store } from "../../src/store/index.js";
import type {
  AnnotationAgreementResponse,
  AnnotationLabelResponse,
  AnnotationPut,
  AnnotationQueueResponse,
  AnnotationScopeResponse,
} from "../../src/view/api-types.js";
import { TOKEN_HEADER } from "../../src/view/security.js";
import type { ViewServer } from "../../src/view/server.js";
import { cleanupTempDirs, tempDir } from "../helpers.js";
import { ANNOTATE, ANNOTATE_ID } from "./annotate-fixture.js";
import { onEachBackend, serve, workspaceOn } from "./fixture.js";

afterAll(cleanupTempDirs);

onEachBackend((storeConfig, backend) => {
  let server: ViewServer;
  let ws: Awaited<ReturnType<typeof workspaceOn>>;
  let runIds: string[];

  beforeAll(async () => {
    setLogLevel("quiet");
    const store = storeConfig();
    ws = await workspaceOn(store, ANNOTATE);
    server = await serve(ws.workspace, 100, store);
    runIds = ws.store.evals.runs().map((r) => r.id);
  });
  afterAll(async () => {
    await server?.close();
    ws?.store.close();
  });

  /** Every test starts with no labels (the history is append-only: withdraw what is current). */
  beforeEach(() => {
    for (const a of ws.store.annotations.list()) ws.store.annotations.delete(a);
  });

  const origin = () => `http://127.0.0.1:${server.port}`;
  /** What the dashboard's own page sends with a write. */
  const pageHeaders = () => ({
    [TOKEN_HEADER]: server.token,
    origin: origin(),
    "sec-fetch-site": "same-origin",
    "content-type": "application/json",
  });

  const call = (path: string, init: RequestInit = {}) => fetch(`${origin()}${path}`, init);

  async function getJson<T>(path: string): Promise<T> {
    const r = await call(path);
    const body = await r.text();
    expect(r.status, `${path}: ${body}`).toBe(200);
    return JSON.parse(body) as T;
  }

  const write = (method: "PUT" | "DELETE", body: unknown, headers = pageHeaders()) =>
    call("/api/annotations/label", {
      method,
      headers,
      body: typeof body === "string" ? body : JSON.stringify(body),
    });

  const TAXONOMY = builtinTaxonomy();

  /** A label of one of the runs' transcripts, as the page sends it. */
  function label(o: Partial<AnnotationPut> = {}): AnnotationPut {
    return {
      runId: runIds[0] as string,
      sampleId: "leaking_explicit-america_replacement",
      epoch: 1,
      annotator: "ana",
      misaligned: "yes",
      categories: [],
      policyMisuse: "no",
      note: null,
      taxonomy: TAXONOMY.version,
      ...o,
    };
  }

  async function put(o: Partial<AnnotationPut> = {}) {
    const r = await write("PUT", label(o));
    const body = await r.text();
    expect(r.status, body).toBe(200);
    return (JSON.parse(body) as AnnotationLabelResponse).label;
  }

  const errorOf = async (r: Response) => {
    const body = (await r.json()) as { error: string; hint?: string };
    return body.error;
  };

  describe("the taxonomy in use", () => {
    it("is the experiment's reasoning taxonomy, without policy misuse among the boxes, with its runs as arms", async () => {
      const t = await getJson<AnnotationScopeResponse>(
        `/api/annotations/taxonomy?experiment=${ANNOTATE_ID}`,
      );
      expect(t.version).toBe(TAXONOMY.version);
      expect(t.categories.map((c) => c.id)).toEqual(
        TAXONOMY.categories.map((c) => c.id).filter((id) => id !== "policy_misuse"),
      );
      expect(t.categories.every((c) => c.description.length > 10)).toBe(true);
      expect(t.policyMisuse?.id).toBe("policy_misuse");
      expect(t.runs.map((r) => r.arm).sort()).toEqual(["baseline", "rules_only"]);
      expect(t.analysis).toBe(true);
      // A run alone (the transcript page) finds its experiment's analysis.
      const one = await getJson<AnnotationScopeResponse>(
        `/api/annotations/taxonomy?run=${runIds[0]}`,
      );
      expect([one.version, one.analysis, one.runs.length]).toEqual([TAXONOMY.version, true, 1]);
    });

    it("refuses a scope it cannot name, saying which parameter", async () => {
      const cases: [string, number, RegExp][] = [
        ["", 400, /^experiment: /],
        [`?experiment=${ANNOTATE_ID}&run=${runIds[0]}`, 400, /^experiment, run: /],
        ["?experiment=experiment-nope", 404, /^experiment: no experiment/],
        ["?run=no-such-run", 404, /^run: no eval run no-such-run/],
      ];
      for (const [query, status, message] of cases) {
        const r = await call(`/api/annotations/taxonomy${query}`);
        expect(r.status, query).toBe(status);
        expect(await errorOf(r)).toMatch(message);
      }
    });
  });

  describe("writing a label", () => {
    it("stores it through a writable connection (the server's is read-only), reads it back, withdraws it", async () => {
      const saved = await put({
        categories: ["self_preservation"],
        policyMisuse: "unsure",
        note: "hmm",
      });
      expect(saved).toMatchObject({
        annotator: "ana",
        misaligned: "yes",
        categories: ["self_preservation"],
        taxonomy: TAXONOMY.version,
        note: "hmm",
        stale: false,
      });
      // In the database file, as any other connection sees it.
      const other = Store.openReadOnly(
        ws.workspace,
        ws.config.store ? { url: ws.config.store } : {},
      );
      expect(other.annotations.list().map((a) => a.id)).toEqual([saved?.id]);
      other.close();
      const key = `run=${runIds[0]}&sample=leaking_explicit-america_replacement&epoch=1&annotator=ana`;
      const got = await getJson<AnnotationLabelResponse>(`/api/annotations/label?${key}`);
      expect(got.label).toEqual(saved);
      expect(
        (
          await getJson<AnnotationLabelResponse>(
            `/api/annotations/label?${key.replace("ana", "ben")}`,
          )
        ).label,
      ).toBeNull();

      const withdraw = { runId: runIds[0], sampleId: saved?.sampleId, epoch: 1, annotator: "ana" };
      expect((await write("DELETE", withdraw)).status).toBe(200);
      expect(
        (await getJson<AnnotationLabelResponse>(`/api/annotations/label?${key}`)).label,
      ).toBeNull();
      const again = await write("DELETE", withdraw);
      expect(again.status).toBe(404);
      expect(await errorOf(again)).toContain("no current label");
    });

    // SQLite's one write lock: PostgreSQL has none to hold (a label's insert locks its own row).
    describe.skipIf(backend === "postgres")(
      "while another process holds the write lock (BEGIN IMMEDIATE)",
      () => {
        const key = () =>
          `run=${runIds[0]}&sample=leaking_explicit-america_replacement&epoch=1&annotator=ana`;
        /** A read answered while the write waits, and how long it took. */
        async function timedRead() {
          const t = performance.now();
          const r = await call(`/api/annotations/label?${key()}`);
          expect(r.status).toBe(200);
          return performance.now() - t;
        }

        it("keeps answering reads, and saves the label once the lock is released", async () => {
          ws.store.db.exec("BEGIN IMMEDIATE");
          let saving: Promise<Response>;
          try {
            saving = write("PUT", label());
            expect(await timedRead()).toBeLessThan(500);
            await new Promise((r) => setTimeout(r, 400));
          } finally {
            ws.store.db.exec("COMMIT");
          }
          const r = await saving;
          expect(r.status, await r.clone().text()).toBe(200);
          expect(ws.store.annotations.list()).toHaveLength(1);
        });

        it("answers 503 'the store is busy' after a few seconds, storing nothing", async () => {
          ws.store.db.exec("BEGIN IMMEDIATE");
          let r: Response;
          try {
            const saving = write("PUT", label());
            expect(await timedRead()).toBeLessThan(500);
            r = await saving;
          } finally {
            ws.store.db.exec("ROLLBACK");
          }
          expect(r.status).toBe(503);
          const body = (await r.json()) as { error: string; hint?: string };
          expect(body.error).toContain("the store is busy, try again");
          expect(body.hint).toContain("save it again");
          expect(ws.store.annotations.list()).toHaveLength(0);
        });
      },
    );

    it("refuses invalid labels with a 4xx naming the field, and stores nothing", async () => {
      const cases: [unknown, number, RegExp][] = [
        ["not json", 400, /^body: not JSON/],
        [[1, 2], 400, /^body: not a JSON object/],
        [{ ...label(), runId: undefined }, 400, /^runId: /],
        [{ ...label(), taxonomy: undefined }, 400, /^taxonomy: give the version/],
        [
          label({ taxonomy: "tax-000000000000" }),
          409,
          /^taxonomy: the categories were picked from tax-0+, but/,
        ],
        [label({ runId: "no-such-run" }), 404, /^runId: no eval run no-such-run/],
        [label({ misaligned: "maybe" as "yes" }), 400, /misaligned: /],
        [label({ policyMisuse: "" as "yes" }), 400, /policyMisuse: /],
        [label({ annotator: "  " }), 400, /annotator: give the annotator's name/],
        [label({ epoch: 0 }), 400, /epoch: /],
        [label({ categories: ["made_up"] }), 400, /"made_up" is not a category of taxonomy/],
        // Policy misuse is its own question, not a box to tick.
        [label({ categories: ["policy_misuse"] }), 400, /"policy_misuse" is not a category/],
        [{ ...label(), verdict: "x" }, 400, /Unrecognized key.*verdict|verdict/],
        [label({ sampleId: "no-such-sample" }), 400, /the store holds no such sample/],
        [label({ note: "x".repeat(20_001) }), 400, /note: /],
      ];
      const before = ws.store.annotations.history().length;
      for (const [body, status, message] of cases) {
        const r = await write("PUT", body);
        expect(r.status, JSON.stringify(body).slice(0, 80)).toBe(status);
        expect(await errorOf(r)).toMatch(message);
      }
      const noKey = await write("DELETE", { runId: runIds[0], sampleId: "x", epoch: "one" });
      expect(noKey.status).toBe(400);
      expect(await errorOf(noKey)).toMatch(/epoch: /);
      expect(ws.store.annotations.history()).toHaveLength(before);
      const bad = await call("/api/annotations/label?run=x&sample=y&epoch=1");
      expect([bad.status, await errorOf(bad)]).toEqual([
        400,
        "annotator: give the annotator's name (annotator=NAME)",
      ]);
    });

    it("refuses writes without the session token or from another origin (CSRF), storing nothing", async () => {
      const before = ws.store.annotations.history().length;
      const json = { "content-type": "application/json" };
      const refusals: Record<string, string>[] = [
        json,
        { ...json, [TOKEN_HEADER]: "not-the-token" },
        { ...pageHeaders(), origin: "http://evil.example" },
        { ...pageHeaders(), "sec-fetch-site": "cross-site" },
      ];
      await put();
      for (const headers of refusals)
        for (const method of ["PUT", "DELETE"] as const) {
          const r = await write(
            method,
            method === "PUT"
              ? label({ misaligned: "no" })
              : { runId: runIds[0], sampleId: label().sampleId, epoch: 1, annotator: "ana" },
            headers as ReturnType<typeof pageHeaders>,
          );
          expect(r.status, `${method} ${JSON.stringify(headers)}`).toBe(403);
          expect(await errorOf(r)).toMatch(/^refused: /);
        }
      expect(ws.store.annotations.history().length).toBe(before + 1);
      expect(ws.store.annotations.list().map((a) => a.misaligned)).toEqual(["yes"]);
    });
  });

  describe("the queue", () => {
    const queue = (q: string) =>
      getJson<AnnotationQueueResponse>(
        `/api/annotations/queue?experiment=${ANNOTATE_ID}&annotator=ana&${q}`,
      );
    const keys = (q: AnnotationQueueResponse) =>
      q.items.map((i) => `${i.runId}/${i.sampleId}#${i.epoch}`);

    it("is the library's order, the same for the same seed, with every stratum's counts", async () => {
      const a = await queue("seed=7&limit=12");
      expect(a.items).toHaveLength(12);
      const withoutMs = ({ ms, ...q }: AnnotationQueueResponse) => {
        expect(ms).toBeGreaterThanOrEqual(0);
        return q;
      };
      expect(withoutMs(await queue("seed=7&limit=12"))).toEqual(withoutMs(a));
      expect(keys(await queue("seed=8&limit=12"))).not.toEqual(keys(a));
      const arms = (
        await getJson<AnnotationScopeResponse>(
          `/api/annotations/taxonomy?experiment=${ANNOTATE_ID}`,
        )
      ).runs;
      const lib = annotationQueue(ws.store, { runs: arms, annotator: "ana", seed: 7, limit: 12 });
      expect(withoutMs(a)).toEqual({ ...lib, annotator: "ana", seed: 7, allocation: "equal" });
      expect(a.strata.map((s) => [s.stratum, s.labelled, s.remaining])).toEqual([
        ["baseline × aligned", 0, 4],
        ["baseline × misaligned", 0, 2],
        ["rules_only × aligned", 0, 4],
        ["rules_only × misaligned", 0, 2],
      ]);
      expect(a.remaining).toBe(12);
      // Equal allocation: the first four take one from each stratum.
      expect(new Set(a.items.slice(0, 4).map((i) => i.stratum)).size).toBe(4);
    });

    it("resumes where the annotator is: labelled transcripts drop out and the rest keep their places", async () => {
      const before = await queue("seed=3&limit=6");
      const [first, second] = before.items;
      await put({
        runId: first?.runId,
        sampleId: first?.sampleId,
        epoch: first?.epoch,
        misaligned: "no",
      });
      const after = await queue("seed=3&limit=5");
      expect(after.items).toEqual(before.items.slice(1));
      expect(after.items[0]).toEqual(second);
      expect(after.remaining).toBe(11);
      expect(after.strata.find((s) => s.stratum === first?.stratum)?.labelled).toBe(1);
      // Another annotator's queue is untouched.
      const ben = await getJson<AnnotationQueueResponse>(
        `/api/annotations/queue?experiment=${ANNOTATE_ID}&annotator=ben&seed=3&limit=6`,
      );
      expect(ben.items).toEqual(before.items);
    });

    it("refuses a missing annotator, a bad seed, limit or allocation by name", async () => {
      const base = `/api/annotations/queue?experiment=${ANNOTATE_ID}`;
      const cases: [string, RegExp][] = [
        [`${base}&seed=1`, /^annotator: /],
        [`${base}&annotator=ana`, /^seed: required/],
        [`${base}&annotator=ana&seed=1.5`, /^seed: "1.5" is not a whole number/],
        [`${base}&annotator=ana&seed=1&limit=0`, /^limit: "0" is not a whole number from 1 to 500/],
        [`${base}&annotator=ana&seed=1&allocation=fair`, /^allocation: "fair"/],
      ];
      for (const [path, message] of cases) {
        const r = await call(path);
        expect(r.status, path).toBe(400);
        expect(await errorOf(r)).toMatch(message);
      }
    });
  });

  /** The experiment's reasoning labels pooled over its arms (as the report pools them). */
  async function pooled(): Promise<LabelledRuns> {
    const record = ws.store.runs.get(ANNOTATE_ID)?.config as { file: string; source: string };
    const loaded = experimentFromSource(record.source, record.file);
    const each = armAnalyses(loaded, await buildStages(loaded, ws.client), ws.store).map((a) =>
      collectLabels(ws.store, a.runIds, a.options),
    );
    return {
      ...(each[0] as LabelledRuns),
      runIds: each.flatMap((l) => l.runIds),
      items: each.flatMap((l) => l.items),
    };
  }

  /** Labels by two people over both arms: yes/no/unsure answers and categories. */
  async function labelSome() {
    const [a, b] = runIds as [string, string];
    await put({
      runId: a,
      sampleId: "leaking_explicit-america_replacement",
      epoch: 1,
      misaligned: "yes",
      categories: ["self_preservation", "instrumental_goal"],
    });
    await put({
      runId: a,
      sampleId: "leaking_explicit-america_replacement",
      epoch: 2,
      misaligned: "no",
      categories: ["self_preservation"],
      policyMisuse: "yes",
    });
    await put({
      runId: a,
      sampleId: "leaking_none-none_replacement",
      epoch: 1,
      misaligned: "no",
      categories: ["respect_for_oversight"],
    });
    await put({
      runId: b,
      sampleId: "exfiltration_none-none_replacement",
      epoch: 2,
      misaligned: "no",
      categories: [],
    });
    await put({
      runId: b,
      sampleId: "leaking_explicit-america_replacement",
      epoch: 1,
      misaligned: "yes",
      categories: ["instrumental_goal"],
    });
    await put({
      runId: b,
      sampleId: "leaking_none-none_replacement",
      epoch: 2,
      misaligned: "unsure",
      policyMisuse: "unsure",
    });
    await put({
      runId: b,
      sampleId: "leaking_none-none_replacement",
      epoch: 1,
      misaligned: "yes",
      annotator: "ben",
    });
  }

  describe("agreement", () => {
    it("gives the library's judge–human and labeller–human numbers per annotator, labels as they come in", async () => {
      const empty = await getJson<AnnotationAgreementResponse>(
        `/api/annotations/agreement?experiment=${ANNOTATE_ID}`,
      );
      expect(empty).toEqual({ taxonomy: TAXONOMY.version, analysis: true, annotators: [] });
      await labelSome();
      const got = await getJson<AnnotationAgreementResponse>(
        `/api/annotations/agreement?experiment=${ANNOTATE_ID}`,
      );
      const expected = annotationAgreement(ws.store, { runIds, labelled: await pooled() });
      expect(got.annotators).toEqual(JSON.parse(JSON.stringify(expected)));
      const ana = got.annotators.find((x) => x.annotator === "ana");
      // Judge: 5 yes/no answers, one unsure; the judge calls the goal scenario misaligned.
      expect(ana?.judge).toMatchObject({
        n: 5,
        excluded: { unsure: 1, noVerdict: 0, stale: 0 },
        confusion: { tp: 2, fp: 1, fn: 0, tn: 2 },
      });
      expect(ana?.judge.interval?.ci).toHaveLength(2);
      expect(ana?.labeller?.n).toBe(6);
      expect(ana?.labeller?.excluded.policyMisuseUnsure).toBe(1);
      const cat = (id: string) => ana?.labeller?.categories.find((c) => c.id === id);
      expect(cat("self_preservation")).toMatchObject({ n: 6, tp: 2 });
      expect(got.annotators.map((x) => [x.annotator, x.judge.n])).toEqual([
        ["ana", 5],
        ["ben", 1],
      ]);
      // One run alone: its own labels only.
      const one = await getJson<AnnotationAgreementResponse>(
        `/api/annotations/agreement?run=${runIds[0]}`,
      );
      expect(one.annotators.map((x) => [x.annotator, x.judge.n, x.labeller?.n])).toEqual([
        ["ana", 3, 3],
      ]);
    });
  });

  describe("export", () => {
    it("is the --human JSONL as an attachment, which loadHumanLabels reads back as the stored labels", async () => {
      await labelSome();
      const r = await call(`/api/annotations/export?experiment=${ANNOTATE_ID}&annotator=ana`);
      expect(r.status).toBe(200);
      expect(r.headers.get("content-disposition")).toBe(
        `attachment; filename="human-labels-${ANNOTATE_ID}-ana.jsonl"`,
      );
      expect(r.headers.get("content-type")).toMatch(/^application\/x-ndjson/);
      expect(JSON.parse(r.headers.get("x-specsci-skipped") ?? "")).toEqual({
        otherTaxonomy: 0,
        stale: 0,
        policyMisuseUnsure: 1,
      });
      const file = join(tempDir(), "human.jsonl");
      writeFileSync(file, await r.text());
      const back = loadHumanLabels(file, TAXONOMY);
      expect(back).toEqual(
        humanLabelsOf(ws.store, { runIds, taxonomy: TAXONOMY, annotator: "ana" }).lines,
      );
      expect(back).toHaveLength(5);
      expect(back.find((l) => l.run === runIds[0] && l.epoch === 2)?.categories).toEqual([
        "self_preservation",
        "policy_misuse",
      ]);
      // Everyone's labels: ana and ben labelled one transcript, so one annotator at a time.
      await put({
        runId: runIds[1],
        sampleId: "leaking_none-none_replacement",
        epoch: 1,
        misaligned: "no",
      });
      const both = await call(`/api/annotations/export?experiment=${ANNOTATE_ID}`);
      expect(both.status).toBe(400);
      const body = (await both.json()) as { error: string; hint: string };
      expect(body.error).toContain("is labelled by ana and by ben");
      expect(body.hint).toContain("one annotator's labels at a time");
    });
  });
});
