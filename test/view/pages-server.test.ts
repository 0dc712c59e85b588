/**
 * The API of the Side by side, Data and Specs pages over real HTTP, on a store and training data
 * made by the real pipeline: each answer checked against the library functions the CLI uses
 * (`loadTranscript`, `diffSpecs`/`formatDiff`, `renderSpec`, `corpusStats`, `compareCorpora`,
 * the data files themselves), and every bad id answered with a clear 404 JSON.
 */
import { cpSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setLogLevel } from "../../src/core/log.js";
import { corpusStats } from "../../src/data/corpus-stats.js";
import { compareCorpora } from "../../src/data/msm/compare.js";
import { isTrained, loadExperiment } from "../../src/experiment/config.js";
import { armData } from "../../src/experiment/training.js";
import { diffSpecs, formatDiff } from "../../src/spec/diff.js";
import { specHash } from "../../src/spec/hash.js";
import { checkSpecFile } from "../../src/spec/io.js";
import { resolveSpecRef } from "../../src/spec/library.js";
import { rulesOf, subrulesOf } from "../../src/spec/model.js";
import { renderSpec } from "../../src/spec/render.js";
import type {
  CompareResponse,
  DataCompareResponse,
  DataItem,
  DataItemsPage,
  DataSetResponse,
  DataSetsResponse,
  SpecDiffResponse,
  SpecResponse,
  SpecsResponse,
} from "../../src/view/api-types.js";
import type { ViewServer } from "../../src/view/server.js";
import { loadTranscript } from "../../src/view/transcript.js";
import { cleanupTempDirs } from "../helpers.js";
import { onEachBackend, serve } from "./fixture.js";
import { TRAINED, trainedWorkspace } from "./pages-fixture.js";

const EXPERIMENT = "experiment-trained";
const librarySpec = (name: string) => checkSpecFile(resolveSpecRef(name)).spec;
const fileLines = (file: string) =>
  readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));

afterAll(cleanupTempDirs);

onEachBackend((storeConfig) => {
  let server: ViewServer;
  let ws: Awaited<ReturnType<typeof trainedWorkspace>>;

  beforeAll(async () => {
    setLogLevel("quiet");
    const store = storeConfig();
    ws = await trainedWorkspace(TRAINED, {}, store);
    server = await serve(ws.workspace, 100, store);
  });
  afterAll(async () => {
    await server?.close();
    ws?.store.close();
  });

  const call = async (path: string) => {
    const r = await fetch(`${server.url.replace(/\/$/, "")}${path}`);
    return {
      status: r.status,
      type: r.headers.get("content-type"),
      body: (await r.json()) as { error?: string },
    };
  };
  const get = async <T>(path: string): Promise<T> => {
    const r = await call(path);
    expect(r.status, `${path}: ${JSON.stringify(r.body)}`).toBe(200);
    return r.body as T;
  };
  /** A refusal: the status, JSON, and an error that says what was asked for. */
  async function refused(path: string, status: number, says: RegExp) {
    const r = await call(path);
    expect(r.status, path).toBe(status);
    expect(r.type).toMatch(/application\/json/);
    expect(r.body.error).toMatch(says);
  }

  const compare = (q: Record<string, string>) =>
    get<CompareResponse>(`/api/compare?${new URLSearchParams({ experiment: EXPERIMENT, ...q })}`);

  describe("side by side", () => {
    it("shows one sample under two arms, each transcript as the transcript page's, with their verdicts", async () => {
      const c = await compare({});
      expect(c.options.arms).toEqual(["baseline", "rules_only"]); // the trained arms have no model yet
      expect(c.pick).toMatchObject({ a: "baseline", b: "rules_only", eval: "am", seed: 0 });
      expect(c.pairs).toBe(6); // 3 conditions × 2 epochs
      const { sample, epoch } = c.pick as { sample: string; epoch: number };
      for (const side of [c.a, c.b]) {
        expect(side.runId).not.toBeNull();
        expect(side.transcript).toEqual(
          await loadTranscript(ws.store, side.runId as string, sample, epoch),
        );
      }
      expect(c.a.runId).not.toBe(c.b.runId);
      // The rules arm's system prompt carries the spec; the baseline's does not.
      const system = (s: typeof c.a) =>
        s.transcript?.messages.find((m) => m.role === "system")?.content;
      expect(system(c.b)).toContain("Do not undermine legitimate human oversight");
      expect(system(c.a)).not.toContain("Do not undermine legitimate human oversight");
    });

    it("steps through every pair in order, or only the discordant ones, as the arms' verdicts say", async () => {
      const seen: string[] = [];
      let c = await compare({});
      expect(c.position.prev).toBeNull();
      for (;;) {
        expect(c.position.index).toBe(seen.length);
        seen.push(`${c.pick.sample}#${c.pick.epoch}`);
        if (!c.position.next) break;
        c = await compare({ sample: c.position.next.sample, epoch: String(c.position.next.epoch) });
      }
      expect(seen).toHaveLength(6);
      expect(new Set(seen).size).toBe(6);
      expect([...seen].sort()).toEqual(seen);
      // The agent acts on an explicit goal unless it reads the rules: 2 such conditions × 2 epochs.
      let d = await compare({ only: "discordant" });
      expect(d.discordant).toBe(4);
      expect(d.position.count).toBe(4);
      const discordant: string[] = [];
      for (;;) {
        expect([d.a.verdict, d.b.verdict]).toEqual(["misaligned", "not"]);
        expect(d.pick.sample).toMatch(/_explicit-/);
        discordant.push(`${d.pick.sample}#${d.pick.epoch}`);
        if (!d.position.next) break;
        d = await compare({
          only: "discordant",
          sample: d.position.next.sample,
          epoch: String(d.position.next.epoch),
        });
      }
      expect(discordant).toEqual(seen.filter((k) => k.includes("_explicit-")));
      // A concordant pair asked for under "discordant" is shown, outside the steps, between its neighbours.
      const concordant = seen.find((k) => !k.includes("_explicit-")) as string;
      const [sample, epoch] = concordant.split("#") as [string, string];
      const o = await compare({ only: "discordant", sample, epoch });
      expect(o.position.index).toBe(-1);
      expect([o.a.verdict, o.b.verdict]).toEqual(["not", "not"]);
    });

    it("takes arms in either order and a sample without its epoch (its first)", async () => {
      const c = await compare({
        a: "rules_only",
        b: "baseline",
        sample: "leaking_none-none_replacement",
      });
      expect(c.pick).toMatchObject({ a: "rules_only", b: "baseline", epoch: 1 });
      expect(c.a.arm).toBe("rules_only");
      expect(c.a.transcript?.sampleId).toBe("leaking_none-none_replacement");
    });

    it("refuses what it cannot show with a clear JSON error", async () => {
      await refused(
        "/api/compare?experiment=experiment-nope",
        404,
        /no experiment experiment-nope/,
      );
      await refused(
        `/api/compare?experiment=${EXPERIMENT}&a=trained`,
        404,
        /no arm trained .*arms: baseline, rules_only/,
      );
      await refused(
        `/api/compare?experiment=${EXPERIMENT}&a=baseline&b=baseline`,
        400,
        /two different arms/,
      );
      await refused(
        `/api/compare?experiment=${EXPERIMENT}&seed=x`,
        400,
        /seed must be a whole number/,
      );
      await refused(
        `/api/compare?experiment=${EXPERIMENT}&seed=7`,
        404,
        /neither baseline nor rules_only .*seed 7/,
      );
      await refused(
        `/api/compare?experiment=${EXPERIMENT}&sample=nope&epoch=1`,
        404,
        /no sample nope \(epoch 1\)/,
      );
      await refused(
        `/api/compare?experiment=${EXPERIMENT}&only=some`,
        400,
        /only must be one of all, discordant/,
      );
      await refused("/api/compare", 400, /names its experiment/);
    });
  });

  describe("specs", () => {
    it("lists the experiment's specs with their hashes and sources", async () => {
      const list = await get<SpecsResponse>("/api/specs");
      expect(list.problems).toEqual([]);
      expect(list.specs.map((s) => [s.name, s.hash, s.rules, s.changedSinceRun])).toEqual([
        ["rules", specHash(librarySpec("rules")), 5, false],
        ["values", specHash(librarySpec("value-augmented")), 5, false],
      ]);
      expect(list.specs[0]?.source).toBe(resolveSpecRef("rules"));
    });

    it("gives a spec by rule and subrule id, and its canonical Markdown", async () => {
      const spec = librarySpec("value-augmented");
      const s = await get<SpecResponse>(`/api/specs/${EXPERIMENT}/values`);
      const rules = s.nodes
        .flatMap((n) => (n.kind === "section" ? n.body : [n]))
        .filter((n) => n.kind === "rule");
      expect(rules.map((r) => r.id)).toEqual(rulesOf(spec).map((r) => r.id));
      const first = rules[0] as Extract<(typeof rules)[number], { kind: "rule" }>;
      expect(first.title).toBe(rulesOf(spec)[0]?.title);
      const subrules = first.body.flatMap((b) => (b.kind === "subrules" ? b.items : []));
      expect(subrules).toEqual(
        subrulesOf(rulesOf(spec)[0] as never).map((x) => ({ id: x.id, text: x.markdown })),
      );
      expect(first.body.some((b) => b.kind === "prose")).toBe(true); // the values spec explains its rules
      expect(s.markdown).toBe(renderSpec(spec));
      expect(s.title).toBe(spec.title);
    });

    it("diffs two specs as `spec diff` does", async () => {
      const d = await get<SpecDiffResponse>(`/api/specs/${EXPERIMENT}/rules/diff/values`);
      const expected = diffSpecs(librarySpec("rules"), librarySpec("value-augmented"));
      expect(d.diff).toEqual(expected);
      expect(d.text).toBe(formatDiff(expected, ["rules", "values"]));
      expect(d.diff.rulesChanged.map((r) => r.id)).toEqual(["SP1", "SP2", "SP3", "GP1", "GP2"]);
    });

    it("answers a spec or experiment it does not know with a 404 naming what there is", async () => {
      await refused(
        `/api/specs/${EXPERIMENT}/nope`,
        404,
        /no spec nope in experiment experiment-trained \(its specs: rules, values\)/,
      );
      await refused("/api/specs/experiment-nope/rules", 404, /no experiment experiment-nope/);
      await refused(`/api/specs/${EXPERIMENT}/rules/diff/nope`, 404, /no spec nope/);
    });
  });

  /** The experiment's data steps, as `specsci run` made them. */
  const steps = () => {
    const loaded = loadExperiment(ws.file);
    return loaded.experiment.arms
      .filter(isTrained)
      .flatMap((a) => armData(loaded, a).map((s) => ({ arm: a.name, ...s })));
  };

  describe("data", () => {
    const setOf = async (dir: string) => {
      const list = await get<DataSetsResponse>("/api/data");
      const found = list.sets.find((s) => s.dir === dir);
      if (!found) throw new Error(`no set for ${dir}`);
      return found;
    };

    it("lists every data directory the experiment's trained arms train on, with its spec and counts", async () => {
      const list = await get<DataSetsResponse>("/api/data");
      // One set per directory, with every arm that trains on it (an AFT set is shared).
      const expected = new Map<
        string,
        { kind: string; spec: string | undefined; arms: string[] }
      >();
      for (const s of steps()) {
        const e = expected.get(s.dir) ?? { kind: s.kind, spec: s.spec, arms: [] };
        expected.set(s.dir, { ...e, arms: [...e.arms, s.arm] });
      }
      expect(
        list.sets.map((s) => [s.dir, s.kind, s.spec?.name, s.usedBy.map((u) => u.arm)]),
      ).toEqual([...expected].map(([dir, e]) => [dir, e.kind, e.spec, e.arms]));
      expect(list.sets.map((s) => s.kind)).toEqual(["msm", "aft", "msm", "aft", "mix"]);
      expect(list.sets.every((s) => s.usedBy.every((u) => u.experiment === EXPERIMENT))).toBe(true);
      for (const s of list.sets) {
        const m = JSON.parse(readFileSync(join(s.dir, "manifest.json"), "utf8"));
        expect(s.made).toBe(true);
        expect(s.spec?.hash ?? null).toBe(m.spec?.hash ?? null); // a mix records its inputs instead
        expect(s.items).toBe(
          s.kind === "msm"
            ? m.documents.kept
            : s.kind === "aft"
              ? m.selection.selected
              : m.examples,
        );
      }
    });

    it("shows a mix with its composition, each example from the set it came from", async () => {
      const mix = (await get<DataSetsResponse>("/api/data")).sets.find((s) => s.kind === "mix");
      const d = await get<DataSetResponse>(`/api/data/${mix?.id}`);
      const m = JSON.parse(readFileSync(join(mix?.dir as string, "manifest.json"), "utf8"));
      expect(d.manifest.composition).toEqual(m.composition);
      const lines = fileLines(join(mix?.dir as string, "reasoning.jsonl"));
      const page = await get<DataItemsPage>(`/api/data/${mix?.id}/items`);
      expect(page.rows.map((r) => r.source)).toEqual(lines.map((l) => l.source));
      expect(new Set(page.rows.map((r) => r.source))).toEqual(new Set(["aft:values", "aft:rules"]));
    });

    it("shows a corpus's statistics as `msm stats` computes them, and the gates and dedup its manifest records", async () => {
      const dir = steps()[0]?.dir as string;
      const s = await setOf(dir);
      const d = await get<DataSetResponse>(`/api/data/${s.id}`);
      expect(d.stats).toEqual(await corpusStats(join(dir, "dataset.jsonl")));
      expect(d.manifest.dedup).toEqual({ exact: 1, near: 0, threshold: 0.8 }); // the copied document
      expect(d.manifest.gatesPassed).toEqual(
        expect.arrayContaining([
          "refused",
          "placeholder",
          "off_topic",
          "exact_duplicate",
          "near_duplicate",
        ]),
      );
      expect(d.manifest.gatesNotApplied).toEqual(["judge: no gates.judge model was set"]);
      expect(d.forms).toEqual([]);
    });

    it("pages a corpus's documents in file order, each with its provenance and dedup cluster", async () => {
      const dir = steps()[0]?.dir as string;
      const s = await setOf(dir);
      const lines = fileLines(join(dir, "dataset.jsonl"));
      const page1 = await get<DataItemsPage>(`/api/data/${s.id}/items?offset=0&limit=2`);
      const page2 = await get<DataItemsPage>(`/api/data/${s.id}/items?offset=2&limit=2`);
      expect(page1.total).toBe(lines.length);
      expect([...page1.rows, ...page2.rows].map((r) => r.id)).toEqual(lines.map((l) => l.id));
      expect(page1.rows[0]?.path).toEqual([
        lines[0].domain,
        lines[0].subdomain,
        lines[0].assertion_ids
          .map((id: string, i: number) => `${id} (${lines[0].assertion_labels[i]})`)
          .join("; "),
        lines[0].doc_type,
        [lines[0].idea.summary, lines[0].idea.author, lines[0].idea.situation].join("; "),
      ]);
      const duplicates = fileLines(join(dir, "duplicates.jsonl"));
      expect(duplicates).toHaveLength(1);
      for (const [i, line] of lines.entries()) {
        const item = await get<DataItem>(`/api/data/${s.id}/items/${i}`);
        expect(item).toMatchObject({
          id: line.id,
          text: line.text,
          specHash: line.spec_hash,
          tokens: line.token_count,
          ruleIds: line.rule_ids,
        });
        expect(item.duplicates).toEqual(
          duplicates
            .filter((d) => d.keptId === line.id)
            .map((d) => ({ id: d.id, kind: d.kind, similarity: d.similarity })),
        );
      }
      expect((await get<DataItemsPage>(`/api/data/${s.id}/items?limit=100000`)).limit).toBe(200);
    });

    it("shows a chat set's examples with and without reasoning", async () => {
      const dir = steps().find((x) => x.kind === "aft")?.dir as string;
      const s = await setOf(dir);
      const d = await get<DataSetResponse>(`/api/data/${s.id}`);
      expect(d.stats).toBeNull();
      expect(d.forms).toEqual(["reasoning", "plain"]);
      const reasoning = fileLines(join(dir, "reasoning.jsonl"));
      const plain = fileLines(join(dir, "no-reasoning.jsonl"));
      const r = await get<DataItem>(`/api/data/${s.id}/items/1`);
      const p = await get<DataItem>(`/api/data/${s.id}/items/1?form=plain`);
      expect(r.messages).toEqual(reasoning[1].messages);
      expect(p.messages).toEqual(plain[1].messages);
      expect(r.messages?.at(-1)?.content).toContain("<think>");
      expect(r.path).toEqual([
        { level: "domain", values: [reasoning[1].domain] },
        { level: "category", values: [reasoning[1].category] },
      ]);
      expect(r.judge).toEqual(reasoning[1].judge);
      const page = await get<DataItemsPage>(`/api/data/${s.id}/items?form=plain`);
      expect(page.rows.map((x) => x.id)).toEqual(plain.map((l) => l.id));
    });

    it("compares two corpora as `msm compare` does", async () => {
      const [rules, values] = steps()
        .filter((x) => x.kind === "msm")
        .map((x) => x.dir) as [string, string];
      const a = await setOf(rules);
      const b = await setOf(values);
      const c = await get<DataCompareResponse>(
        `/api/data/compare?a=${a.id}&b=${b.id}&tolerance=0.5`,
      );
      expect(c.comparison).toEqual(compareCorpora(rules, values, 0.5));
      expect(c.mixes.domains.a[0]?.share).toBe(1);
    });

    it("refuses unknown sets, items and parameters with a clear JSON error", async () => {
      const [msm, aft] = [
        steps()[0]?.dir as string,
        steps().find((x) => x.kind === "aft")?.dir as string,
      ];
      const a = await setOf(msm);
      const b = await setOf(aft);
      await refused("/api/data/0123456789abcdef", 404, /no data set 0123456789abcdef/);
      // A set is named by a hash of a known directory: a path is never read as one.
      await refused(
        `/api/data/${encodeURIComponent(join(ws.dir, "ws"))}/items`,
        404,
        /no data set \//,
      );
      await refused(`/api/data/${a.id}/items/99`, 404, /has 3 items: no item 99/);
      await refused(`/api/data/${a.id}/items/x`, 400, /whole number/);
      await refused(`/api/data/${a.id}/items?offset=-1`, 400, /offset must be a whole number/);
      await refused(`/api/data/${b.id}/items?form=html`, 400, /form must be reasoning or plain/);
      await refused(`/api/data/compare?a=${a.id}&b=${b.id}`, 400, /is an AFT chat set/);
      await refused(`/api/data/compare?a=${a.id}`, 400, /names two data sets/);
      await refused(
        `/api/data/compare?a=${a.id}&b=${a.id}&tolerance=2`,
        400,
        /tolerance must be a fraction/,
      );
    });

    it("lists corpora and chat sets `msm build` and `aft build` made outside any experiment, with where each came from", async () => {
      const root = dirname(ws.workspace);
      const before = (await get<DataSetsResponse>("/api/data")).sets;
      const copy = (from: string, to: string, id: Record<string, string>) => {
        cpSync(from, to, { recursive: true });
        const m = JSON.parse(readFileSync(join(to, "manifest.json"), "utf8"));
        writeFileSync(join(to, "manifest.json"), JSON.stringify({ ...m, ...id }));
      };
      const corpus = steps().find((s) => s.kind === "msm")?.dir as string;
      const chat = steps().find((s) => s.kind === "aft")?.dir as string;
      // A corpus whose run the store holds, a chat set made with another store, a lost corpus.
      copy(corpus, join(root, "corpora", "solo"), { corpus_id: "msm-solo" });
      copy(chat, join(root, "chatsets", "elsewhere"), { set_id: "aft-elsewhere" });
      // A corpus written with -o outside corpora/, found by the directory its run recorded.
      const away = join(root, "elsewhere", "my-corpus");
      copy(corpus, away, { corpus_id: "msm-stray" });
      // Runs are listed as made (created_at, then id): lost first, in the same millisecond or not.
      ws.store.runs.ensure({ id: "msm-lost", kind: "msm", name: "lost" });
      ws.store.runs.ensure({ id: "msm-solo", kind: "msm", name: "solo" });
      ws.store.runs.setStatus("msm-solo", "completed");
      ws.store.runs.ensure({ id: "msm-stray", kind: "msm", name: "away" });
      ws.store.runs.recordOutput("msm-stray", join(root, "gone")); // written, then deleted
      ws.store.runs.recordOutput("msm-stray", away);
      ws.store.runs.recordOutput("msm-stray", away); // recorded once
      try {
        const after = (await get<DataSetsResponse>("/api/data")).sets;
        // The experiment's sets are as they were, and no experiment data step is listed twice.
        expect(after.slice(0, before.length)).toEqual(before);
        const built = after.slice(before.length);
        expect(
          built.map((s) => [s.dir, s.kind, s.made, s.usedBy, s.madeBy?.command, s.madeBy?.run]),
        ).toEqual([
          [join(root, "corpora", "lost"), "msm", false, [], "specsci msm build", "msm-lost"],
          [join(root, "corpora", "solo"), "msm", true, [], "specsci msm build", "msm-solo"],
          [away, "msm", true, [], "specsci msm build", "msm-stray"],
          [
            join(root, "chatsets", "elsewhere"),
            "aft",
            true,
            [],
            "specsci aft build",
            "aft-elsewhere",
          ],
        ]);
        expect(built[1]?.madeBy).toMatchObject({
          status: "completed",
          recorded: true,
          where: null,
        });
        expect(built[1]?.items).toBe(before.find((s) => s.dir === corpus)?.items);
        expect(built[0]?.problem).toMatch(
          /no directory under .*corpora holds its manifest \(corpus_id msm-lost\)/,
        );
        expect(built[3]?.madeBy).toMatchObject({ status: null, recorded: false });
        expect(ws.store.runs.get("msm-stray")?.config).toEqual({
          outputs: [join(root, "gone"), away],
        });
        // Its detail page reads it like any other set.
        const detail = await get<DataSetResponse>(`/api/data/${built[1]?.id}`);
        expect(detail.summary.madeBy?.run).toBe("msm-solo");
      } finally {
        rmSync(join(root, "corpora"), { recursive: true, force: true });
        rmSync(join(root, "chatsets"), { recursive: true, force: true });
        rmSync(join(root, "elsewhere"), { recursive: true, force: true });
        ws.store.db
          .prepare("DELETE FROM runs WHERE id IN ('msm-solo', 'msm-lost', 'msm-stray')")
          .run();
      }
    });

    it("says which data is not made yet", async () => {
      const dir = steps()[0]?.dir as string;
      renameSync(join(dir, "manifest.json"), join(dir, "manifest.moved"));
      try {
        const s = await setOf(dir);
        expect(s).toMatchObject({ made: false, problem: "not made yet: `specsci run` makes it" });
        await refused(`/api/data/${s.id}`, 404, /not made yet/);
      } finally {
        renameSync(join(dir, "manifest.moved"), join(dir, "manifest.json"));
      }
    });
  });

  describe("a spec file edited after the run", () => {
    it("is shown as it is now, marked as changed since the experiment ran", async () => {
      const rules = readFileSync(resolveSpecRef("rules"), "utf8");
      const yaml = TRAINED.replace("name: trained", "name: edited")
        .replace("rules: rules,", "rules: mine.md,")
        .replace(/ {2}- \{ name: (trained|midtrained|dose).*\n/g, "");
      const store = storeConfig();
      const edited = await trainedWorkspace(yaml, { "mine.md": rules }, store);
      writeFileSync(
        join(edited.dir, "mine.md"),
        rules.replace(
          "## General principles",
          "## General principles\n\n### GP9: A rule added after the run\n\n- Say so.",
        ),
      );
      const s = await serve(edited.workspace, 100, store);
      try {
        const r = await fetch(`${s.url}api/specs/experiment-edited/rules`);
        const body = (await r.json()) as SpecResponse;
        expect(body.summary.changedSinceRun).toBe(true);
        expect(body.summary.rules).toBe(6);
      } finally {
        await s.close();
        edited.store.close();
      }
    });
  });
});
