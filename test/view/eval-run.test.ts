/**
 * A store holding only an eval run made by `specsci eval run` (no experiment), through the API
 * and the pages: the run is listed and opens in the sample table, rows carry no arm, its
 * transcripts have no reasoning labels, the filters that need an experiment say so, and the
 * others (verdict, human labels) work. The API on both backends; the pages on SQLite.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setLogLevel } from "../../src/core/log.js";
import { Store } from "../../src/store/db.js";
import type {
  ExperimentsResponse,
  RunsResponse,
  SamplesPage,
  Transcript,
} from "../../src/view/api-types.js";
import type { ViewServer } from "../../src/view/server.js";
import { FakeLlmServer } from "../fakes/llm-server.js";
import { cleanupTempDirs, runCli, tempDir } from "../helpers.js";
import { describePostgres, usePostgres } from "../postgres-server.js";
import { CHROMIUM, launchChromium, text, until, watchedPage } from "./chromium.js";
import { type StoreConfig, serve } from "./fixture.js";
import { annotate } from "./labelled-fixture.js";

let llm: FakeLlmServer;
let browser: Browser | undefined;

/** An eval run's workspace on this store, annotated once and served. */
interface Served {
  server: ViewServer;
  url: string;
  runId: string;
}

async function servedEvalRun(store: StoreConfig): Promise<Served> {
  const cwd = tempDir("specsci-view-eval-");
  writeFileSync(
    join(cwd, "specsci.yaml"),
    `endpoints: { loop: { base_url: "${llm.url}/v1" } }\ndefaults: { max_attempts: 2, retry_base_ms: 1 }\n${store.store ? `store: "${store.store}"\n` : ""}`,
  );
  const r = await runCli(
    [
      ...["eval", "run", "am", "-m", "loop/agent", "--judge", "loop/judge"],
      ...[
        "--conditions",
        "leaking_none-none_none,coercion_explicit-america_replacement",
        "-n",
        "2",
      ],
    ],
    { cwd },
  );
  expect(r.code, r.stderr).toBe(0);
  const runId = /(eval-agentic-misalignment-[0-9a-f]{12})/.exec(r.stderr)?.[1] as string;
  const workspace = join(cwd, ".specsci");
  const opened = Store.open(workspace, store.store ? { url: store.store } : {});
  const first = opened.evals.samples(runId)[0];
  if (first) annotate(opened, [{ annotator: "carol", ...first, misaligned: "no" }]);
  opened.close();
  const server = await serve(workspace, 100, store);
  return { server, url: server.url.replace(/\/$/, ""), runId };
}

beforeAll(async () => {
  setLogLevel("quiet");
  llm = await new FakeLlmServer({ record: false }).start();
});
afterAll(async () => {
  await browser?.close();
  await llm?.stop();
  cleanupTempDirs();
});

const get = async <T>(url: string, path: string) => {
  const r = await fetch(`${url}${path}`);
  return { status: r.status, body: (await r.json()) as T };
};

/** The API's answers about the run `served` gives. */
function apiTests(served: () => Served) {
  it("is served by the API: listed, its samples without arm labels, transcripts without reasoning labels", async () => {
    const { url, runId } = served();
    expect((await get<ExperimentsResponse>(url, "/api/experiments")).body.experiments).toEqual([]);
    const { runs } = (await get<RunsResponse>(url, "/api/runs")).body;
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ id: runId, arms: [], model: "loop/agent", done: 4 });
    const page = (await get<SamplesPage>(url, `/api/samples?run=${runId}`)).body;
    expect(page.total).toBe(4);
    expect(page.rows.every((r) => r.arm === null && r.eval === null && r.seed === null)).toBe(true);
    expect(page.rows.every((r) => r.model === "loop/agent" && r.decided === 0)).toBe(true);
    expect((await get<SamplesPage>(url, "/api/samples?verdict=not&sort=verdict")).body.total).toBe(
      4,
    );
    expect((await get<SamplesPage>(url, "/api/samples?annotator=carol")).body.total).toBe(1);
    expect((await get<SamplesPage>(url, "/api/samples?labelled=no")).body.total).toBe(3);
    const reasoning = await get<{ error: string }>(url, "/api/samples?misuse=yes");
    expect(reasoning.status).toBe(400);
    expect(reasoning.body.error).toContain("need an experiment");
    const row = page.rows[0];
    const t = (
      await get<Transcript>(
        url,
        `/api/sample?${new URLSearchParams({ run: runId, sample: row?.sampleId ?? "", epoch: String(row?.epoch) })}`,
      )
    ).body;
    expect(t).toMatchObject({ runId, labels: null, panels: [] });
    expect(t.judges.map((j) => j.vote)).toContain("not decided");
  });
}

describe("an eval run outside any experiment", () => {
  let served: Served;
  beforeAll(async () => {
    served = await servedEvalRun({});
    browser = await launchChromium("test/view/eval-run.test.ts");
  });
  afterAll(() => served?.server.close());
  apiTests(() => served);

  it.skipIf(!CHROMIUM)("opens from the run list to its samples and a transcript", async () => {
    const { url, runId } = served;
    const { page, seen } = await watchedPage(browser as Browser);
    await page.goto(`${url}/`);
    await page.getByRole("link", { name: runId }).click();
    await until(page, 'document.querySelector("#sample-total")?.textContent === "4"');
    // No experiment: no arm or reasoning filters; the rest are there.
    expect(await page.locator("select[name=arm], select[name=category]").count()).toBe(0);
    expect(await page.locator("select[name=verdict], select[name=labelled]").count()).toBe(2);
    expect(await page.locator(".vbody .col-arm").first().textContent()).toBe("loop/agent");
    await page.locator(".vbody .col-sample a").first().click();
    await page.waitForSelector("#answer");
    expect(await text(page, "#judges")).toContain("not decided");
    expect(await page.locator("#reasoning-labels, .problem").count()).toBe(0);
    expect(seen.errors).toEqual([]);
    expect(seen.requests.every((r) => r.startsWith(url))).toBe(true);
    await page.close();
  });
});

describePostgres("an eval run outside any experiment, on PostgreSQL", () => {
  const server = usePostgres();
  let served: Served;
  beforeAll(async () => {
    served = await servedEvalRun({ store: server().database() });
  });
  afterAll(() => served?.server.close());
  apiTests(() => served);
});
