/**
 * The Samples page's reasoning and human-label filters and the Transcript page's k-judge panel,
 * reasoning labels, rules and misuse claims, in headless Chromium over stores made by the real
 * pipeline; and the README's screenshots of the Experiment and Transcript pages, taken here so
 * they stay current. The PNGs are not byte-stable (timings, font rendering), so they are written
 * only when asked: `SPECSCI_SCREENSHOTS=1 npx vitest run test/view/browser-labels.test.ts`.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setLogLevel } from "../../src/core/log.js";
import type { SamplesPage } from "../../src/view/api-types.js";
import type { ViewServer } from "../../src/view/server.js";
import { cleanupTempDirs, ROOT } from "../helpers.js";
import { CHROMIUM, launchChromium, text, until, watchedPage } from "./chromium.js";
import { serve, workspaceWith } from "./fixture.js";
import { annotate, CLAIMS, LABELLED, SHOWCASE } from "./labelled-fixture.js";

let browser: Browser;
const servers: ViewServer[] = [];
beforeAll(async () => {
  setLogLevel("quiet");
  browser = (await launchChromium("test/view/browser-labels.test.ts")) as Browser;
});
afterAll(async () => {
  await browser?.close();
  for (const s of servers) await s.close();
  cleanupTempDirs();
});

async function served(yaml: string) {
  const ws = await workspaceWith(yaml);
  const server = await serve(ws.workspace);
  servers.push(server);
  return { ws, url: server.url.replace(/\/$/, "") };
}

const total = (page: Page) => text(page, "#sample-total").then(Number);
const totalIs = (page: Page, n: number) =>
  until(
    page,
    `document.querySelector("#sample-total")?.textContent === ${JSON.stringify(String(n))}`,
  );

describe.skipIf(!CHROMIUM)("the Samples and Transcript pages with labels, in Chromium", () => {
  it("filters by reasoning category, policy misuse and human label from the filter bar, in the URL", async () => {
    const { ws, url } = await served(LABELLED);
    const api = async (q: string) =>
      (
        (await (
          await fetch(`${url}/api/samples?experiment=experiment-labelled&${q}`)
        ).json()) as SamplesPage
      ).total;
    const { page, seen } = await watchedPage(browser);
    await page.goto(`${url}/samples?experiment=experiment-labelled`);
    await totalIs(page, 12);
    await page.waitForSelector("select[name=category] option[value=self_preservation]", {
      state: "attached",
    });
    await page.selectOption("select[name=category]", "self_preservation");
    await totalIs(page, await api("category=self_preservation"));
    expect(new URL(page.url()).searchParams.get("category")).toBe("self_preservation");
    expect(await total(page)).toBeGreaterThan(0);
    await page.selectOption("select[name=category]", "");
    await page.selectOption("select[name=misuse]", "yes");
    const misused = await api("misuse=yes");
    await totalIs(page, misused);
    await page.reload();
    await totalIs(page, misused);
    expect(await page.inputValue("select[name=misuse]")).toBe("yes");
    // Human labels: put while the page is open, found by the filters.
    const first = (await (
      await fetch(`${url}/api/samples?experiment=experiment-labelled&limit=2`)
    ).json()) as SamplesPage;
    const at = (i: number) => ({
      runId: first.rows[i]?.runId as string,
      sampleId: first.rows[i]?.sampleId as string,
      epoch: first.rows[i]?.epoch as number,
    });
    annotate(ws.store, [
      { annotator: "alice", ...at(0), misaligned: "yes" },
      { annotator: "bob", ...at(1), misaligned: "no" },
    ]);
    await page.goto(`${url}/samples?experiment=experiment-labelled&labelled=yes`);
    await totalIs(page, 2);
    await page.fill("input[name=annotator]", "bob");
    await page.press("input[name=annotator]", "Enter");
    await totalIs(page, 1);
    await page.selectOption("select[name=human]", "yes");
    await totalIs(page, 0);
    expect(new URL(page.url()).searchParams.getAll("annotator")).toEqual(["bob"]);
    expect(seen.errors).toEqual([]);
    await page.close();
  });

  it("shows the k judges' votes with a mark when they split, the labels, rules linked to their text, and claims beside the rules", async () => {
    const { url } = await served(LABELLED);
    const { page, seen } = await watchedPage(browser);
    await page.goto(
      `${url}/samples?experiment=experiment-labelled&arm=rules&sample=leaking_explicit-america_replacement`,
    );
    await totalIs(page, 2);
    await page.locator(".vbody .col-sample a").first().click();
    await page.waitForSelector("#reasoning-labels");
    expect(await text(page, "#panels .panel.disagree")).toContain("the judges disagree");
    expect(await page.locator("#panels .panel.disagree .vote").allTextContents()).toEqual([
      "decided",
      "decided",
      "not decided",
    ]);
    const labels = await text(page, "#reasoning-labels");
    expect(labels).toContain("Prioritising self-preservation");
    // A rule by id: its text folded away, a link to it on the Specs page.
    const sp3 = page.locator("#rules-invoked details.rule[data-rule=SP3]").first();
    expect(await sp3.locator("pre.rule-text").isVisible()).toBe(false);
    await sp3.locator("summary code").click();
    expect(await sp3.locator("pre.rule-text").textContent()).toContain(
      "Avoid drastic, catastrophic or irreversible actions",
    );
    expect(await sp3.locator("a.spec-link").getAttribute("href")).toMatch(/^\/specs\/[^#]+#SP3$/);
    // The claim beside the rule it stretches.
    const claim = page.locator("#misuse .claim-reinterpretation");
    expect(await claim.locator("p.text").textContent()).toBe(CLAIMS.reinterpreted);
    expect(await claim.locator("pre.rule-text").textContent()).toContain(
      "Treat actions that cannot be undone",
    );
    // The baseline's misquotation, with the words SP2 does not hold.
    await page.goto(
      `${url}/samples?experiment=experiment-labelled&arm=baseline&sample=exfiltration_none-none_replacement`,
    );
    await totalIs(page, 2);
    await page.locator(".vbody .col-sample a").first().click();
    await page.waitForSelector("#misuse .claim-misquotation");
    expect(await text(page, "#misuse .claim-misquotation")).toContain(
      "always act on your own judgment first",
    );
    expect(await text(page, "#misuse .claim-misquotation pre.rule-text")).toContain(
      "Act only within limits",
    );
    expect(seen.errors).toEqual([]);
    expect(seen.requests.every((r) => r.startsWith(url))).toBe(true);
    await page.close();
  });

  it("takes the README's screenshots of the Experiment and Transcript pages", async () => {
    const { url } = await served(SHOWCASE);
    const { page, seen } = await watchedPage(browser, { width: 1280, height: 860 });
    await page.goto(`${url}/experiments/experiment-rules-vs-values`);
    await page.waitForSelector("figure[data-chart=main] canvas");
    expect(await page.locator("#rates tbody tr").count()).toBe(3);
    const experiment = await page.screenshot({ fullPage: true });
    await page.goto(
      `${url}/samples?experiment=experiment-rules-vs-values&arm=rules&verdict=misaligned&misuse=yes`,
    );
    await until(page, 'Number(document.querySelector("#sample-total")?.textContent) > 0');
    await page.locator(".vbody .col-sample a").first().click();
    await page.waitForSelector("#reasoning-labels");
    // The emails folded (the page opens them), a rule's text unfolded.
    await page.evaluate(`for (const d of document.querySelectorAll("details.block"))
      d.open = d.id === "answer";
      document.querySelector("#rules-invoked details.rule")?.setAttribute("open", "")`);
    const transcript = await page.screenshot({ fullPage: true });
    expect(await page.locator(".problem").count()).toBe(0);
    expect(seen.errors).toEqual([]);
    // PNGs of real pages (a blank page compresses to a few kB).
    for (const png of [experiment, transcript]) {
      expect(png.subarray(1, 4).toString()).toBe("PNG");
      expect(png.length).toBeGreaterThan(40_000);
    }
    if (process.env.SPECSCI_SCREENSHOTS === "1") {
      writeFileSync(join(ROOT, "docs", "dashboard-experiment.png"), experiment);
      writeFileSync(join(ROOT, "docs", "dashboard-transcript.png"), transcript);
    }
    await page.close();
  });
});
