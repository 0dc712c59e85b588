/**
 * The dashboard in headless Chromium (Debian's, as the report's browser test uses), over stores
 * made by the real pipeline: every page loads with data and draws its charts under the CSP; the
 * sample filter and search live in the URL and survive a reload; script payloads in answers,
 * reasoning, judge text, reasoning labels, names and annotations show as text, with nothing run
 * and nothing fetched elsewhere;
 * a page updates while a run writes to the store.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { annotationTaxonomy } from "../../src/analysis/annotations/index.js";
import { builtinTaxonomy } from "../../src/analysis/reasoning/index.js";
import { setLogLevel } from "../../src/core/log.js";
import { loadExperiment } from "../../src/experiment/config.js";
import { runExperiment } from "../../src/experiment/run.js";
import { registerFakeModel } from "../../src/llm/providers/fake.js";
import type { Store } from "../../src/store/index.js";
import type { ViewServer } from "../../src/view/server.js";
import { amAgentAnswer } from "../fakes/am-models.js";
import { cleanupTempDirs } from "../helpers.js";
import {
  CHROMIUM,
  launchChromium,
  pageSafety,
  SAFE,
  text,
  until,
  watchedPage as watched,
} from "./chromium.js";
import { DEMO, PAYLOADS, serve, workspaceWith, XSS } from "./fixture.js";

let browser: Browser;
const servers: ViewServer[] = [];
beforeAll(async () => {
  setLogLevel("quiet");
  browser = (await launchChromium("test/view/browser.test.ts")) as Browser;
});
afterAll(async () => {
  await browser?.close();
  for (const s of servers) await s.close();
  cleanupTempDirs();
});

async function served(...yamls: string[]) {
  const ws = await workspaceWith(...yamls);
  const server = await serve(ws.workspace);
  servers.push(server);
  return { ws, server, url: server.url.replace(/\/$/, "") };
}

const watchedPage = () => watched(browser);

/** A stored label of the store's first sample whose annotator and note are script payloads. */
function labelWithPayloads(store: Store) {
  const [run] = store.evals.runs();
  const [sample] = store.evals.samples(run?.id as string);
  return store.annotations.put(
    {
      runId: run?.id as string,
      sampleId: sample?.sampleId as string,
      epoch: sample?.epoch as number,
      annotator: PAYLOADS[1] as string,
      misaligned: "yes",
      categories: [],
      policyMisuse: "no",
      note: PAYLOADS.join("\n"),
    },
    annotationTaxonomy(builtinTaxonomy()),
  );
}

describe.skipIf(!CHROMIUM)("the dashboard in headless Chromium", () => {
  it("loads every page with data, charts drawn under the CSP, and steps through a filter by keyboard", async () => {
    const { url } = await served(DEMO);
    const { page, seen } = await watchedPage();
    await page.goto(`${url}/`);
    await page.getByRole("link", { name: "demo" }).click();
    await page.waitForSelector("#rates tbody tr");
    expect(await page.locator("#rates tbody tr").count()).toBe(2);
    expect(await page.locator("#comparisons tbody tr").count()).toBe(1);
    await page.waitForSelector("figure[data-chart=main] canvas");
    expect(await page.locator(".problem").count()).toBe(0);
    await page.getByRole("link", { name: "all samples" }).click();
    await until(page, 'document.querySelector("#sample-total")?.textContent === "12"');
    await page.locator(".vbody .col-sample a").first().click();
    await page.waitForSelector("#answer");
    expect(await text(page, "#judges")).toContain("misalignment");
    const first = page.url();
    await page.keyboard.press("ArrowRight");
    await until(page, `location.href !== ${JSON.stringify(first)}`);
    expect(new URL(page.url()).searchParams.get("i")).toBe("1");
    await page.waitForSelector("#answer");
    expect(seen.errors).toEqual([]);
    expect(seen.requests.every((r) => r.startsWith(url))).toBe(true);
    await page.close();
  });

  it("keeps the sample filter and search in the URL: a reload shows the same samples", async () => {
    const { url } = await served(DEMO);
    const { page } = await watchedPage();
    await page.goto(`${url}/samples?experiment=experiment-demo`);
    await until(page, 'document.querySelector("#sample-total")?.textContent === "12"');
    await page.selectOption("select[name=arm]", "baseline");
    await until(page, 'document.querySelector("#sample-total")?.textContent === "6"');
    expect(new URL(page.url()).searchParams.get("arm")).toBe("baseline");
    await page.fill("input[name=q]", "forward the package");
    await page.press("input[name=q]", "Enter");
    await until(page, 'new URL(location.href).searchParams.get("q") === "forward the package"');
    // The total reads "…" while the search is answered: wait for the new count itself.
    await until(
      page,
      '/^\\d+$/.test(document.querySelector("#sample-total")?.textContent ?? "") && document.querySelector("#sample-total")?.textContent !== "6"',
    );
    const found = await text(page, "#sample-total");
    expect(Number(found)).toBeGreaterThan(0);
    expect(await page.locator(".vbody .col-answer").allInnerTexts()).toSatisfy((xs: string[]) =>
      xs.every((x) => x.includes("I will forward the package.")),
    );
    await page.reload();
    await until(
      page,
      `document.querySelector("#sample-total")?.textContent === ${JSON.stringify(found)}`,
    );
    expect(await page.inputValue("input[name=q]")).toBe("forward the package");
    expect(await page.inputValue("select[name=arm]")).toBe("baseline");
    await page.close();
  });

  it("shows script payloads from answers, reasoning, judges and names as text: nothing runs, nothing is fetched", async () => {
    const { ws, url } = await served(XSS);
    const { page, seen } = await watchedPage();
    const visit = async (path: string, ready: string) => {
      await page.goto(`${url}${path}`);
      await page.waitForSelector(ready);
      return pageSafety(page);
    };
    const list = await visit("/", "tr[data-experiment]");
    const experiment = await visit("/experiments/experiment-xss", "#rates tbody tr");
    const samples = await visit("/samples?experiment=experiment-xss", ".vbody .col-sample a");
    const href = await page.locator(".vbody .col-sample a").first().getAttribute("href");
    const transcript = await visit(href as string, "#judges .judge");
    expect(await page.locator("mark.evidence").count()).toBeGreaterThan(0);
    // A label whose annotator and note are payloads: the Annotate page and the label panel.
    const labelled = labelWithPayloads(ws.store);
    const annotate = await visit(
      `/annotate?experiment=experiment-xss&annotator=${encodeURIComponent(labelled.annotator)}`,
      "#labels tbody tr",
    );
    await page.waitForSelector("#judge-agreement tbody tr");
    const again = await visit(
      `/annotate?experiment=experiment-xss&annotator=${encodeURIComponent(labelled.annotator)}`,
      "#judge-agreement tbody tr",
    );
    const panel = await visit(
      `/transcript?${new URLSearchParams({ runId: labelled.runId, sampleId: labelled.sampleId, epoch_: String(labelled.epoch) })}`,
      "#label-state",
    );
    expect(await page.inputValue("textarea[name=note]")).toBe(labelled.note);
    expect(await page.inputValue("input[name=annotator]")).toBe(labelled.annotator);
    for (const state of [list, experiment, samples, transcript, annotate, again, panel])
      expect(state).toMatchObject(SAFE);
    for (const p of PAYLOADS) expect(annotate.text).toContain(p);
    expect(again.text).toContain(labelled.annotator);
    // The payloads are there, as text: the description, the answer, the reasoning, the judges.
    expect(list.text).toContain(PAYLOADS[0]);
    for (const p of PAYLOADS) expect(transcript.text).toContain(p);
    // And in the reasoning labels: a category's quote, a claim about a rule, the reading of it.
    const labels = await text(page, "#reasoning-labels");
    for (const p of [PAYLOADS[1], PAYLOADS[3], PAYLOADS[4]]) expect(labels).toContain(p);
    expect(await page.locator("mark.evidence").count()).toBeGreaterThan(0);
    expect(seen.dialogs).toEqual([]);
    expect(seen.requests.filter((r) => !r.startsWith(url))).toEqual([]);
    await page.close();
  });

  it("updates a running experiment's page as the run writes, without a reload", async () => {
    // The agent answers two calls, then waits until the page has shown them.
    let calls = 0;
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    registerFakeModel("view-gated-agent", async (req) => {
      if (++calls > 2) await gate;
      return amAgentAnswer(req.messages.find((m) => m.role === "system")?.content ?? "");
    });
    const { ws, url } = await served();
    const file = join(ws.dir, "live.yaml");
    writeFileSync(
      file,
      DEMO.replace("name: demo", "name: live")
        .replace("fake/am-agent", "fake/view-gated-agent")
        .replace(/arms: \[.*\]/, "arms: [{ name: baseline, kind: baseline }]"),
    );
    const running = runExperiment(loadExperiment(file), ws.client, { log: () => {} });
    const { page } = await watchedPage();
    await page.goto(`${url}/`);
    await page.getByRole("link", { name: "live" }).click();
    await until(page, 'Number(document.querySelector("#done-count")?.textContent) >= 1');
    await page.evaluate("window.__samePage = true");
    const before = Number(await text(page, "#done-count"));
    expect(before).toBeLessThan(6);
    release();
    await running;
    await until(page, 'document.querySelector("#done-count")?.textContent === "6"');
    expect(await page.evaluate("window.__samePage")).toBe(true);
    expect(await page.locator("#rates tbody tr").count()).toBe(1);
    await page.close();
  });
});
