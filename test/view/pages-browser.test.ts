/**
 * The Side by side, Data and Specs pages in headless Chromium, over a store and training data made
 * by the real pipeline: each page loads with data and is reached from the others; side by side
 * steps through pairs by keyboard; the data list stays virtualized on a long corpus; a rule's
 * link lands on its text. Script payloads in a corpus document, an AFT answer, a spec's rules and
 * arm names (in the URL) show as text, with nothing run and nothing fetched elsewhere.
 */
import { appendFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setLogLevel } from "../../src/core/log.js";
import type { DataSetsResponse } from "../../src/view/api-types.js";
import type { ViewServer } from "../../src/view/server.js";
import { cleanupTempDirs } from "../helpers.js";
import {
  CHROMIUM,
  launchChromium,
  pageSafety,
  watchedPage as recordingPage,
  until as waitFor,
} from "./chromium.js";
import { PAYLOADS, serve } from "./fixture.js";
import { trainedWorkspace, XSS_DATA } from "./pages-fixture.js";

let browser: Browser;
const servers: ViewServer[] = [];
let ws: Awaited<ReturnType<typeof trainedWorkspace>>;
let url: string;

beforeAll(async () => {
  setLogLevel("quiet");
  const launched = await launchChromium("test/view/pages-browser.test.ts");
  if (!launched) return;
  browser = launched;
  ws = await trainedWorkspace();
  url = (await served(ws.workspace)).url;
});
afterAll(async () => {
  await browser?.close();
  for (const s of servers) await s.close();
  cleanupTempDirs();
});

async function served(workspace: string) {
  const server = await serve(workspace);
  servers.push(server);
  return { server, url: server.url.replace(/\/$/, "") };
}

const text = async (page: Page, selector: string) =>
  (await page.locator(selector).first().textContent()) ?? "";
const param = (page: Page, name: string) => new URL(page.url()).searchParams.get(name);
const textIs = (selector: string, value: string) =>
  `document.querySelector(${JSON.stringify(selector)})?.textContent === ${JSON.stringify(value)}`;

async function dataSets(base: string) {
  return ((await (await fetch(`${base}/api/data`)).json()) as DataSetsResponse).sets;
}

describe.skipIf(!CHROMIUM)("Side by side, Data and Specs in headless Chromium", () => {
  it("side by side: from a comparison, by keyboard, only discordant pairs, arms swapped; and from a transcript", async () => {
    const { page, seen } = await recordingPage(browser);
    await page.goto(`${url}/experiments/experiment-trained`);
    await page.getByRole("link", { name: "side by side" }).first().click();
    await page.waitForSelector(".side[data-arm=rules_only] [data-verdict]");
    // As the report puts it: the spec arm minus the baseline.
    expect([param(page, "a"), param(page, "b")]).toEqual(["rules_only", "baseline"]);
    expect(await text(page, "#position")).toBe("pair 1 of 6");
    const first = await text(page, "#pair");
    await page.keyboard.press("ArrowRight");
    await waitFor(page, textIs("#position", "pair 2 of 6"));
    expect(await text(page, "#pair")).not.toBe(first);
    await page.keyboard.press("ArrowLeft");
    await waitFor(page, textIs("#position", "pair 1 of 6"));
    await page.check("input[name=only]");
    await waitFor(page, textIs("#position", "pair 1 of 4"));
    expect(param(page, "only")).toBe("discordant");
    const verdicts = () =>
      page
        .locator(".side [data-verdict]")
        .evaluateAll((els) => els.map((e) => e.getAttribute("data-verdict")));
    expect(await verdicts()).toEqual(["not", "misaligned"]);
    // The baseline acted; the arm with the rules declined, in its own words.
    expect(await text(page, ".side[data-arm=baseline] .side-actions")).toContain(
      "transfer_weights",
    );
    expect(await text(page, ".side[data-arm=rules_only] .side-answer")).toContain(
      "I will not take any drastic action",
    );
    // Picking for arm A the arm B shows swaps them.
    await page.selectOption("select[name=a]", "baseline");
    await waitFor(page, 'new URL(location.href).searchParams.get("b") === "rules_only"');
    await waitFor(page, 'document.querySelectorAll(".side")[0]?.dataset.arm === "baseline"');
    await page.reload();
    await page.waitForSelector(".side [data-verdict]");
    expect(await text(page, "#position")).toBe("pair 1 of 4");
    expect(await verdicts()).toEqual(["misaligned", "not"]);

    // From a transcript of the experiment: the same sample and epoch under another arm.
    const before = seen.requests.length;
    await page.goto(`${url}/samples?experiment=experiment-trained&arm=baseline`);
    await page.locator(".vbody .col-sample a").first().click();
    await page.waitForSelector(".compare-with a");
    // Its links come from the stage list: the transcript page does not start the whole report.
    expect(
      seen.requests
        .slice(before)
        .filter((r) => new URL(r).pathname === "/api/experiments/experiment-trained"),
    ).toEqual([]);
    const transcript = new URL(page.url()).searchParams;
    await page.locator(".compare-with a", { hasText: "rules_only" }).click();
    await page.waitForSelector(".side[data-arm=rules_only] [data-verdict]");
    expect([param(page, "a"), param(page, "b")]).toEqual(["baseline", "rules_only"]);
    expect(param(page, "sample")).toBe(transcript.get("sampleId"));
    expect(param(page, "epoch")).toBe(transcript.get("epoch_"));
    expect(seen.errors).toEqual([]);
    expect(seen.requests.every((r) => r.startsWith(url))).toBe(true);
    await page.close();
  });

  it("data: every set of the trained arms, a corpus's statistics and items with provenance, a chat set in both forms, two corpora compared", async () => {
    const { page, seen } = await recordingPage(browser);
    await page.goto(`${url}/`);
    await page.getByRole("link", { name: "Data" }).click();
    await page.waitForSelector("#data-sets tbody tr");
    expect(await page.locator("#data-sets tbody tr").count()).toBe(5); // 2 corpora, 2 chat sets, a mix
    await page
      .locator("#data-sets tbody tr", { hasText: "MSM corpus" })
      .first()
      .getByRole("link")
      .first()
      .click();
    await page.waitForSelector("#stats");
    expect(await text(page, "#stats")).toContain("3 documents");
    await waitFor(page, textIs("#item-total", "3"));
    await page.locator("button.item-row[data-index='0']").click();
    await page.waitForSelector("#item");
    expect(param(page, "item")).toBe("0");
    // The first document is the one whose copy dedup removed: its cluster names the copy.
    expect(await text(page, "#dedup-cluster")).toMatch(
      /d1\.s1\.t2\.i2\.r0 \(exact, similarity 1\.00\)/,
    );
    const provenance = await text(page, "#item .provenance");
    for (const level of ["domain", "subdomain", "assertion", "doc type", "idea", "gates passed"])
      expect(provenance).toContain(level);
    // A rule the document was written from links to its text on the Specs page.
    const rule = page.locator("#item .rule-ids a").first();
    const ruleId = (await rule.textContent()) as string;
    await rule.click();
    await waitFor(
      page,
      `document.getElementById(${JSON.stringify(ruleId)})?.classList.contains("targeted")`,
    );
    expect(new URL(page.url()).pathname).toBe("/specs/experiment-trained/rules");

    // The chat set, in the form without reasoning.
    const sets = await dataSets(url);
    const aft = sets.find((s) => s.kind === "aft");
    await page.goto(`${url}/data/${aft?.id}?item=1&form=plain`);
    await page.waitForSelector("#item details");
    // The teacher's reasoning is in the set with reasoning only.
    const reasoning = "Helping well here matters";
    const chat = await text(page, "#item");
    expect(chat).toContain("assistant");
    expect(chat).not.toContain(reasoning);
    await page.selectOption("select[name=form]", "reasoning");
    await waitFor(
      page,
      `document.querySelector("#item")?.textContent.includes(${JSON.stringify(reasoning)})`,
    );

    // msm compare, from the list's picker.
    await page.goto(`${url}/data`);
    await page.getByRole("button", { name: "compare (msm compare)" }).click();
    await page.waitForSelector("#compare-table");
    expect(await text(page, "#matched")).toMatch(/tokens differ by [\d.]+%/);
    expect(await page.locator("#compare-table tbody tr").count()).toBeGreaterThan(8);
    expect(seen.errors).toEqual([]);
    await page.close();
  });

  it("data: a long corpus stays a virtualized list, its pages fetched as it scrolls", async () => {
    // The second corpus, grown to 5,000 documents (copies of its lines under new ids).
    const corpus = (await dataSets(url)).find(
      (s) => s.kind === "msm" && s.usedBy[0]?.arm === "midtrained",
    );
    const file = join(corpus?.dir as string, "dataset.jsonl");
    const lines = readFileSync(file, "utf8").trim().split("\n");
    const more = Array.from({ length: 5000 - lines.length }, (_, i) => {
      const line = JSON.parse(lines[i % lines.length] as string);
      return JSON.stringify({ ...line, id: `grown-${i}` });
    });
    appendFileSync(file, `${more.join("\n")}\n`);
    const { page } = await recordingPage(browser);
    await page.goto(`${url}/data/${corpus?.id}`);
    await waitFor(page, textIs("#item-total", "5000"));
    expect(await page.locator("button.item-row").count()).toBeLessThan(80);
    await page.locator(".data-table .vbody").evaluate((el) => {
      el.scrollTop = el.scrollHeight;
    });
    await waitFor(
      page,
      `document.querySelector("button.item-row[data-index='4999'] .col-index")?.textContent === "5000"`,
    );
    expect(await page.locator("button.item-row").count()).toBeLessThan(80);
    expect(await text(page, "#stats")).toContain("5,000 documents");
    await page.close();
  });

  it("specs: every rule under its id, a link to a rule lands on its text, and the diff of two specs", async () => {
    const { page, seen } = await recordingPage(browser);
    await page.goto(`${url}/specs`);
    await page.waitForSelector("#specs tbody tr");
    expect(await page.locator("#specs tbody tr").count()).toBe(2);
    await page.locator("#specs tbody tr[data-spec=rules] td").nth(1).getByRole("link").click();
    await page.waitForSelector("article.rule");
    expect(await page.locator("article.rule").count()).toBe(5);
    expect(await page.locator("[id='SP1.2']").count()).toBe(1);
    await page.locator("a.rule-id[href='#SP3']").click();
    await waitFor(page, 'document.getElementById("SP3")?.classList.contains("targeted")');
    // Opened at a rule: the page scrolls to it once drawn.
    await page.goto(`${url}/specs/experiment-trained/values#SP2`);
    await waitFor(page, 'document.getElementById("SP2")?.classList.contains("targeted")');
    expect(
      await page.evaluate(
        'Math.abs(document.getElementById("SP2").getBoundingClientRect().top) < 50',
      ),
    ).toBe(true);
    expect(await text(page, "#SP2")).toContain("SP2");
    await page.selectOption("select[name=diff]", "rules");
    await page.waitForSelector("#diff-counts");
    expect(new URL(page.url()).pathname).toBe("/specs/experiment-trained/values/diff/rules");
    expect(await text(page, "#diff-counts")).toContain("5 changed");
    expect(await page.locator("li.changed[data-rule]").count()).toBe(5);
    expect(seen.errors).toEqual([]);
    expect(seen.requests.every((r) => r.startsWith(url))).toBe(true);
    await page.close();
  });

  it("shows script payloads in corpus documents, AFT answers, spec rules and arm names as text: nothing runs, nothing is fetched", async () => {
    const xss = await trainedWorkspace(XSS_DATA);
    const { url: base } = await served(xss.workspace);
    const sets = await dataSets(base);
    const msm = sets.find((s) => s.kind === "msm")?.id as string;
    const aft = sets.find((s) => s.kind === "aft")?.id as string;
    const { page, seen } = await recordingPage(browser);
    const visit = async (path: string, ready: string) => {
      await page.goto(`${base}${path}`);
      await page.waitForSelector(ready);
      return pageSafety(page);
    };
    const badArm = encodeURIComponent(PAYLOADS[0] as string);
    const states = {
      data: await visit("/data", "#data-sets tbody tr"),
      corpus: await visit(`/data/${msm}?item=1`, "#item pre.item-text"),
      chat: await visit(`/data/${aft}?item=0`, "#item details"),
      compared: await visit(`/data/compare?a=${msm}&b=${msm}`, "#compare-table"),
      specs: await visit("/specs", "#specs tbody tr"),
      spec: await visit("/specs/experiment-xssdata/evil#SP1", "article.rule"),
      side: await visit("/compare?experiment=experiment-xssdata", ".side [data-verdict]"),
      badArm: await visit(`/compare?experiment=experiment-xssdata&a=${badArm}`, ".problem"),
      badSpec: await visit(
        `/specs/experiment-xssdata/${encodeURIComponent(PAYLOADS[2] as string)}`,
        ".problem",
      ),
    };
    for (const [name, state] of Object.entries(states)) {
      expect(state.pwned, name).toBeNull();
      expect(state.inlineScripts, name).toBe(0);
      expect(state.frames, name).toBe(0);
      expect(state.handlers, name).toEqual([]);
      expect(state.jsLinks, name).toBe(0);
    }
    // The payloads are there, as text: in the document, the chat's answer, the rules, the names.
    for (const p of PAYLOADS) {
      expect(states.corpus.text).toContain(p);
      expect(states.chat.text).toContain(p);
      expect(states.side.text).toContain(p);
    }
    for (const p of [PAYLOADS[0], PAYLOADS[1], PAYLOADS[3]]) expect(states.spec.text).toContain(p);
    expect(states.badArm.text).toContain(`no arm ${PAYLOADS[0]}`);
    expect(states.badSpec.text).toContain(`no spec ${PAYLOADS[2]}`);
    expect(seen.dialogs).toEqual([]);
    expect(seen.requests.filter((r) => !r.startsWith(base))).toEqual([]);
    await page.close();
  });
});
