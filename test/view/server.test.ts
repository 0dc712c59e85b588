/**
 * The dashboard's server over real HTTP, on a store made by the real pipeline: the Host,
 * token and origin checks, the security headers, and the JSON API's numbers (the report's own),
 * sample filters, search and transcripts.
 */
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setLogLevel } from "../../src/core/log.js";
import { codeVersion } from "../../src/core/provenance.js";
import { experimentFromSource } from "../../src/experiment/config.js";
import { buildStages } from "../../src/experiment/stages.js";
import { experimentResults } from "../../src/report/index.js";
import type {
  CompareResponse,
  ExperimentResponse,
  ExperimentsResponse,
  RunsResponse,
  SamplesPage,
  Transcript,
} from "../../src/view/api-types.js";
import { CONTENT_SECURITY_POLICY, hostAllowed, TOKEN_HEADER } from "../../src/view/security.js";
import type { ViewServer } from "../../src/view/server.js";
import { transcriptOf } from "../../src/view/transcript.js";
import { cleanupTempDirs } from "../helpers.js";
import { DEMO, onEachBackend, serve, workspaceOn } from "./fixture.js";

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A raw HTTP request (fetch cannot set Host), to the server's loopback address. */
function send(
  server: ViewServer,
  path: string,
  opts: { method?: string; headers?: Record<string, string> } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port: server.port,
        path,
        method: opts.method ?? "GET",
        headers: { host: `127.0.0.1:${server.port}`, ...opts.headers },
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => {
          body += d;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

const getJson = async <T>(server: ViewServer, path: string): Promise<T> => {
  const r = await send(server, path);
  expect(r.status, `${path}: ${r.body}`).toBe(200);
  return JSON.parse(r.body) as T;
};

afterAll(cleanupTempDirs);

onEachBackend((storeConfig) => {
  let server: ViewServer;
  let ws: Awaited<ReturnType<typeof workspaceOn>>;

  beforeAll(async () => {
    setLogLevel("quiet");
    const store = storeConfig();
    ws = await workspaceOn(store, DEMO);
    server = await serve(ws.workspace, 100, store);
  });
  afterAll(async () => {
    await server?.close();
    ws?.store.close();
  });

  describe("security", () => {
    it("answers only to its own Host (DNS rebinding), with a clear refusal", async () => {
      for (const host of [
        `127.0.0.1:${server.port}`,
        `localhost:${server.port}`,
        `[::1]:${server.port}`,
      ])
        expect((await send(server, "/api/experiments", { headers: { host } })).status).toBe(200);
      for (const host of [
        `evil.example:${server.port}`,
        "127.0.0.1:1",
        `127.0.0.1.evil.example:${server.port}`,
      ]) {
        const r = await send(server, "/api/experiments", { headers: { host } });
        expect(r.status).toBe(421);
        expect(r.body).toContain("Host header");
        expect(r.body).not.toContain("experiment-demo");
      }
      expect(hostAllowed("192.168.1.7:8080", "0.0.0.0", 8080)).toBe(true);
      expect(hostAllowed("rebind.example:8080", "0.0.0.0", 8080)).toBe(false);
      expect(hostAllowed("192.168.1.7:8080", "127.0.0.1", 8080)).toBe(false);
    });

    it("refuses state-changing requests without the session token or from another origin", async () => {
      const page = await send(server, "/");
      expect(page.body).toContain(`<meta name="specsci-token" content="${server.token}"`);
      const origin = `http://127.0.0.1:${server.port}`;
      const tries: [Record<string, string>, number][] = [
        [{}, 403],
        [{ [TOKEN_HEADER]: "not-the-token" }, 403],
        [{ [TOKEN_HEADER]: server.token, origin: "http://evil.example" }, 403],
        [{ [TOKEN_HEADER]: server.token, "sec-fetch-site": "cross-site" }, 403],
        // Past the checks: no write route exists yet, so the API says so.
        [{ [TOKEN_HEADER]: server.token, origin, "sec-fetch-site": "same-origin" }, 404],
      ];
      for (const [headers, status] of tries)
        for (const method of ["POST", "PUT", "DELETE"]) {
          const r = await send(server, "/api/anything", { method, headers });
          expect(r.status, `${method} ${JSON.stringify(headers)}`).toBe(status);
          if (status === 403) expect(JSON.parse(r.body).error).toMatch(/^refused: /);
        }
    });

    it("sends a strict CSP, nosniff and no-referrer on every response", async () => {
      const page = await send(server, "/");
      const asset = /src="(\/assets\/[^"]+\.js)"/.exec(page.body)?.[1] as string;
      expect(asset).toBeDefined();
      const replies = [
        page,
        await send(server, asset),
        await send(server, "/api/experiments"),
        await send(server, "/api/no-such-route"),
        await send(server, "/api/sample?run=x"),
        await send(server, "/", { headers: { host: "evil.example:1" } }),
        await send(server, "/api/x", { method: "POST" }),
      ];
      for (const r of replies) {
        expect(r.headers["content-security-policy"]).toBe(CONTENT_SECURITY_POLICY);
        expect(r.headers["x-content-type-options"]).toBe("nosniff");
        expect(r.headers["referrer-policy"]).toBe("no-referrer");
      }
      expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
      expect(CONTENT_SECURITY_POLICY).not.toContain("unsafe");
      expect((await send(server, asset)).headers["content-type"]).toMatch(/javascript/);
    });
  });

  describe("the JSON API", () => {
    it("lists the experiment with its arms, models, seeds, stage status and spend", async () => {
      const { experiments } = await getJson<ExperimentsResponse>(server, "/api/experiments");
      expect(experiments).toHaveLength(1);
      const e = experiments[0];
      expect(e).toMatchObject({
        id: "experiment-demo",
        name: "demo",
        status: "completed",
        arms: [
          { name: "baseline", kind: "baseline" },
          { name: "rules_only", kind: "prompted" },
        ],
        models: ["fake/am-agent"],
        seeds: [0],
        evals: [{ name: "am", task: "agentic-misalignment" }],
        totals: { samples: 12, done: 12, errors: 0, truncated: 0, refused: 0 },
        problem: null,
      });
      expect(e?.stages.map((s) => [s.arm, s.model, s.eval, s.seed, s.state])).toEqual([
        ["baseline", "fake/am-agent", "am", 0, "done"],
        ["rules_only", "fake/am-agent", "am", 0, "done"],
      ]);
    });

    it("gives an experiment's report numbers, as `specsci report` computes them, and its chart specs", async () => {
      const got = await getJson<ExperimentResponse>(server, "/api/experiments/experiment-demo");
      const record = ws.store.runs.get("experiment-demo")?.config as {
        file: string;
        source: string;
      };
      const loaded = experimentFromSource(record.source, record.file);
      const expected = experimentResults(
        loaded,
        await buildStages(loaded, ws.client),
        ws.store,
        codeVersion(),
      );
      expect(
        got.report?.arms.map((a) => [
          a.arm,
          a.metrics.pooled.n,
          a.metrics.pooled.misaligned,
          a.metrics.pooled.rate,
        ]),
      ).toEqual(
        expected.arms.map((a) => [
          a.arm,
          a.metrics.pooled.n,
          a.metrics.pooled.misaligned,
          a.metrics.pooled.rate,
        ]),
      );
      // As JSON: NaN (an undefined test) arrives as null.
      expect(got.report?.comparisons.map((c) => [c.a, c.b, c.diff, c.pHolm])).toEqual(
        JSON.parse(JSON.stringify(expected.comparisons.map((c) => [c.a, c.b, c.diff, c.pHolm]))),
      );
      expect(got.report?.arms.every((a) => a.metrics.byFamily.length > 0)).toBe(true);
      expect(got.charts.map((c) => c.id)).toContain("main");
      expect(JSON.stringify(got.charts[0]?.spec)).toContain("vega-lite");
      expect(got).not.toHaveProperty("report.examples");
      expect((await send(server, "/api/experiments/experiment-nope")).status).toBe(404);
      // Without analysis.reasoning the filter bar offers no reasoning categories.
      const options = await getJson<{ arms: string[]; categories: unknown }>(
        server,
        "/api/experiments/experiment-demo/filters",
      );
      expect(options).toMatchObject({ arms: ["baseline", "rules_only"], categories: null });
    });

    it("lists eval runs with the experiment arm each ran for", async () => {
      const { runs } = await getJson<RunsResponse>(server, "/api/runs");
      expect(runs.map((r) => r.arms).sort()).toEqual([["demo/baseline"], ["demo/rules_only"]]);
      expect(runs.every((r) => r.done === 6 && r.task === "agentic-misalignment")).toBe(true);
    });

    it("filters, sorts, pages and searches samples in SQL, with the stage labels of the experiment", async () => {
      const q = (s: string) =>
        getJson<SamplesPage>(server, `/api/samples?experiment=experiment-demo&${s}`);
      expect((await q("")).total).toBe(12);
      const baseline = await q("arm=baseline");
      expect(baseline.total).toBe(6);
      expect(
        baseline.rows.every((r) => r.arm === "baseline" && r.eval === "am" && r.seed === 0),
      ).toBe(true);
      // The fake agent takes the harmful action exactly when it is given a goal.
      const report = await getJson<ExperimentResponse>(server, "/api/experiments/experiment-demo");
      const misaligned = report.report?.arms.reduce((n, a) => n + a.metrics.pooled.misaligned, 0);
      const bad = await q("verdict=misaligned");
      expect(bad.total).toBe(misaligned);
      expect(bad.rows.every((r) => r.decided === 1 && !r.sampleId.includes("_none-none"))).toBe(
        true,
      );
      expect((await q("verdict=misaligned&verdict=not")).total).toBe(12);
      expect((await q("verdict=error")).total).toBe(0);
      expect((await q("family=exfiltration")).rows.every((r) => r.family === "exfiltration")).toBe(
        true,
      );
      expect((await q("family=exfiltration")).total).toBe(4);
      expect((await q("epoch=2&arm=rules_only")).total).toBe(3);
      const sorted = await q("sort=verdict&order=desc&limit=1");
      expect(sorted.rows[0]?.decided).toBe(1);
      const paged = await q("sort=sample&offset=10&limit=5");
      expect([paged.rows.length, paged.total, paged.offset]).toEqual([2, 12, 10]);
      // Full-text search over answers: phrase matches, in the answer text.
      const hits = await q(`q=${encodeURIComponent("forward the package")}`);
      expect(hits.total).toBeGreaterThan(0);
      expect(hits.rows.every((r) => r.preview.includes("I will forward the package."))).toBe(true);
      expect((await q(`q=${encodeURIComponent('nothing "like" this')}`)).total).toBe(0);
      const bad400 = await send(server, "/api/samples?verdict=maybe");
      expect(bad400.status).toBe(400);
      expect(JSON.parse(bad400.body).error).toContain("verdict");
    });

    it("sets two arms side by side with the verdicts the sample table gives them", async () => {
      const verdicts = async (arm: string) => {
        const page = await getJson<SamplesPage>(
          server,
          `/api/samples?experiment=experiment-demo&arm=${arm}`,
        );
        return new Map(page.rows.map((r) => [`${r.sampleId}#${r.epoch}`, r.decided]));
      };
      const [a, b] = [await verdicts("baseline"), await verdicts("rules_only")];
      const c = await getJson<CompareResponse>(
        server,
        "/api/compare?experiment=experiment-demo&a=baseline&b=rules_only",
      );
      expect(c.pairs).toBe(a.size);
      expect(c.discordant).toBe([...a].filter(([k, v]) => b.get(k) !== v).length);
      const shown = `${c.pick.sample}#${c.pick.epoch}`;
      const word = (d: number | null | undefined) => (d === 1 ? "misaligned" : "not");
      expect([c.a.verdict, c.b.verdict]).toEqual([word(a.get(shown)), word(b.get(shown))]);
    });

    it("gives a transcript: messages, answer, parsed actions, scores and judge quotes checked against it", async () => {
      const row = (await getJson<SamplesPage>(server, "/api/samples?verdict=misaligned&limit=1"))
        .rows[0];
      const t = await getJson<Transcript>(
        server,
        `/api/sample?${new URLSearchParams({ run: row?.runId ?? "", sample: row?.sampleId ?? "", epoch: String(row?.epoch) })}`,
      );
      expect(t.messages.map((m) => m.role)).toEqual(["system", "user"]);
      expect(t.answer).toContain("<tool_use:");
      expect(t.actions.length).toBeGreaterThan(0);
      expect(t.scores.map((s) => s.name)).toContain("misalignment");
      const judge = t.judges.find((j) => j.scorer === "misalignment");
      expect(judge?.quotes.length).toBeGreaterThan(0);
      expect(judge?.quotes.every((q) => q.found)).toBe(true);
      // A quote the transcript does not hold is marked.
      const record = ws.store.evals.samples(t.runId, [t.sampleId]).find((r) => r.epoch === t.epoch);
      const scores = structuredClone(record?.scores) as {
        misalignment: { metadata: { judges: { verdict: { quotes: string[] } }[] } };
      };
      scores.misalignment.metadata.judges[0]?.verdict.quotes.push("words nobody wrote");
      const marked = transcriptOf(
        { ...(record as NonNullable<typeof record>), scores },
        t.task,
        t.model,
      );
      expect(marked.judges[0]?.quotes.at(-1)).toEqual({ text: "words nobody wrote", found: false });
      expect((await send(server, "/api/sample?run=x&sample=y&epoch=1")).status).toBe(404);
    });

    it("keeps the search index right when a retried sample replaces its record", async () => {
      const [rec] = ws.store.evals.samples(ws.store.evals.runs()[0]?.id as string);
      const base = rec as NonNullable<typeof rec>;
      const write = (text: string) =>
        ws.store.tx(() =>
          ws.store.evals.writeSample({ ...base, output: { ...(base.output as object), text } }),
        );
      write("zebra crossing ahead");
      write("quokka smiles");
      const count = (w: string) =>
        getJson<SamplesPage>(server, `/api/samples?q=${w}`).then((p) => p.total);
      expect(await count("zebra")).toBe(0);
      expect(await count("quokka")).toBe(1);
    });

    it("searches words in any order, phrases and prefixes alike on both backends; no input is syntax", async () => {
      const [, rec] = ws.store.evals.samples(ws.store.evals.runs()[0]?.id as string);
      const base = rec as NonNullable<typeof rec>;
      ws.store.tx(() =>
        ws.store.evals.writeSample({
          ...base,
          output: {
            ...(base.output as object),
            text: "The SummitBridge board meets kyle@summitbridge.com at 3.5 pm",
            reasoning: "about self-preservation",
          },
        }),
      );
      const search = (q: string) => send(server, `/api/samples?q=${encodeURIComponent(q)}`);
      const count = async (q: string) => {
        const r = await search(q);
        expect(r.status, `${q}: ${r.body}`).toBe(200);
        return (JSON.parse(r.body) as SamplesPage).total;
      };
      const found = {
        "board summitbridge": 1,
        "BOARD Meets": 1,
        "board meets nobody": 0,
        '"board meets"': 1,
        '"meets board"': 0,
        "summit*": 1,
        summit: 0,
        "kyle@summitbridge.com": 1,
        "3.5 pm": 1,
        "self-preservation": 1,
        '"self preservation" board': 1,
        'meets "self preservation': 1,
        "board\u0000meets": 1,
        '!!! *** ""': 0,
        "'); DROP TABLE eval_samples; --": 0,
        "board' & !meets | x:* <-> (": 0,
        "board & meets:*": 1,
      };
      for (const [q, n] of Object.entries(found)) expect(await count(q), q).toBe(n);
      const long = await search(Array.from({ length: 33 }, (_, i) => `w${i}`).join(" "));
      expect(long.status).toBe(400);
      expect(JSON.parse(long.body).error).toMatch(/^bad sample query: q has 33 words/);
    });
  });
});
