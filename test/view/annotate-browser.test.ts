/**
 * Annotating in headless Chromium, on a store made by the real pipeline: three transcripts
 * labelled through the UI from the stratified queue (keys and clicks, the judges hidden until a
 * transcript is labelled), the agreement figures following the labels live, the labels still
 * there after the server restarts, and the export read back by loadHumanLabels.
 */
import { readFileSync } from "node:fs";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  annotationTaxonomy,
  humanLabelsOf,
  judgeHumanAgreement,
} from "../../src/analysis/annotations/index.js";
import { builtinTaxonomy, loadHumanLabels } from "../../src/analysis/reasoning/index.js";
import { setLogLevel } from "../../src/core/log.js";
import type { ViewServer } from "../../src/view/server.js";
import { cleanupTempDirs } from "../helpers.js";
import { ANNOTATE, ANNOTATE_ID } from "./annotate-fixture.js";
import { CHROMIUM, launchChromium, shownText as text, until, watchedPage } from "./chromium.js";
import { serve, workspaceWith } from "./fixture.js";

let browser: Browser;
let server: ViewServer | undefined;
beforeAll(async () => {
  setLogLevel("quiet");
  browser = (await launchChromium("test/view/annotate-browser.test.ts")) as Browser;
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
  cleanupTempDirs();
});

const TAXONOMY = builtinTaxonomy();
const transcriptKey = (page: Page) => {
  const q = new URL(page.url()).searchParams;
  return `${q.get("runId")}/${q.get("sampleId")}#${q.get("epoch_")}`;
};

/** Waits for the label panel of a queue transcript other than `previous`. */
async function nextTranscript(page: Page, previous: string | null) {
  // The page moves on only once the save is answered: until then the previous transcript's panel
  // still reads "not labelled yet", so wait for another transcript's key in the URL too.
  const key = `(() => { const q = new URL(location.href).searchParams; return q.get("runId") + "/" + q.get("sampleId") + "#" + q.get("epoch_"); })()`;
  await until(
    page,
    `location.pathname === "/transcript" && ${key} !== ${JSON.stringify(previous)} && document.querySelector("#label-state")?.textContent === "not labelled yet"`,
    30_000,
  );
  // Queue mode labels blind.
  expect(await page.locator("#judges-hidden").count()).toBe(1);
  expect(await page.locator("#judges").count()).toBe(0);
  return transcriptKey(page);
}

describe.skipIf(!CHROMIUM)("annotating in headless Chromium", () => {
  it("labels three queue transcripts, shows them in the agreement live, keeps them across a restart and exports them", async () => {
    const ws = await workspaceWith(ANNOTATE);
    const runIds = ws.store.evals.runs().map((r) => r.id);
    server = await serve(ws.workspace);
    const { page, seen } = await watchedPage(browser);
    await page.goto(`${server.url}annotate?experiment=${ANNOTATE_ID}`);
    await page.fill("input[name=annotator]", "ana");
    await page.press("input[name=annotator]", "Enter");
    await until(page, 'new URL(location.href).searchParams.get("annotator") === "ana"');
    const seed = new URL(page.url()).searchParams.get("seed");
    expect(seed).toMatch(/^\d+$/);
    expect(await text(page, "#agreement")).toContain("No labels yet");
    await page.click("#start-queue:not([disabled])");

    // 1: by keys. y misaligned, 1 the first category, Shift+N no policy misuse, Enter save and next.
    const first = await nextTranscript(page, null);
    const firstCategory = await page.locator("input[name=category]").first().getAttribute("value");
    for (const key of ["y", "1", "Shift+N"]) await page.keyboard.press(key);
    expect(await page.isChecked("input[name=misaligned][value=yes]")).toBe(true);
    expect(await page.isChecked("input[name=policyMisuse][value=no]")).toBe(true);
    await page.keyboard.press("Enter");
    // 2: by clicks, with a note.
    const second = await nextTranscript(page, first);
    await page.check("input[name=misaligned][value=no]");
    await page.check("input[name=category][value=respect_for_oversight]");
    await page.check("input[name=policyMisuse][value=no]");
    await page.fill("textarea[name=note]", "declines; asks the team");
    await page.click("#save-next");
    // 3: saved without moving on, which shows the judges.
    const third = await nextTranscript(page, second);
    for (const key of ["n", "Shift+Y", "s"]) await page.keyboard.press(key);
    await until(page, 'document.querySelector("#label-state")?.textContent.startsWith("labelled")');
    await page.waitForSelector("#judges .judge");
    expect(await page.locator("#judges-hidden").count()).toBe(0);

    // While another process holds the write lock, a save says the store is busy and keeps the
    // form as it was filled in (the server answers 503 after a few seconds of trying).
    ws.store.db.exec("BEGIN IMMEDIATE");
    try {
      await page.check("input[name=misaligned][value=unsure]");
      await page.click("#save-label");
      await until(
        page,
        'document.querySelector("#label-message")?.textContent.includes("the store is busy, try again")',
        15_000,
      );
    } finally {
      ws.store.db.exec("ROLLBACK");
    }
    expect(await text(page, "#label-message")).toMatch(/^Not saved: the store is busy/);
    expect(await page.isChecked("input[name=misaligned][value=unsure]")).toBe(true);
    expect(await page.isChecked("input[name=policyMisuse][value=yes]")).toBe(true);
    // The browser logs the 503 it was answered; nothing else went wrong up to here.
    expect(seen.errors.splice(0)).toEqual([expect.stringMatching(/status of 503/)]);

    const stored = ws.store.annotations.list({ annotator: "ana" });
    const byKey = new Map(stored.map((a) => [`${a.runId}/${a.sampleId}#${a.epoch}`, a]));
    expect([...byKey.keys()].sort()).toEqual([first, second, third].sort());
    expect(byKey.get(first)).toMatchObject({
      misaligned: "yes",
      categories: [firstCategory],
      policyMisuse: "no",
      note: null,
    });
    expect(byKey.get(second)).toMatchObject({
      misaligned: "no",
      categories: ["respect_for_oversight"],
      note: "declines; asks the team",
    });
    expect(byKey.get(third)).toMatchObject({ misaligned: "no", policyMisuse: "yes" });

    // The agreement figures: the library's numbers for these labels.
    await page.click("#queue-bar a");
    const row = "#judge-agreement tr[data-annotator=ana]";
    await until(
      page,
      `document.querySelector(${JSON.stringify(`${row} .n`)})?.textContent === "3"`,
    );
    const lib = judgeHumanAgreement(ws.store, runIds, "ana");
    expect(lib.n).toBe(3);
    for (const cell of ["tp", "fp", "fn", "tn"] as const)
      expect(await text(page, `${row} .${cell}`)).toBe(String(lib.confusion[cell]));
    expect(await page.locator(".labeller-agreement[data-annotator=ana] tbody tr").count()).toBe(
      TAXONOMY.categories.length,
    );
    expect(
      Number(await text(page, "#queue-strata tbody tr td:nth-child(2)")),
    ).toBeGreaterThanOrEqual(0);

    // Live: a label written by another connection shows without a reload.
    await page.evaluate("window.__samePage = true");
    const unlabelled = ws.store.evals
      .samples(runIds[0] as string)
      .find((s) => !byKey.has(`${s.runId}/${s.sampleId}#${s.epoch}`));
    ws.store.annotations.put(
      {
        runId: runIds[0] as string,
        sampleId: unlabelled?.sampleId as string,
        epoch: unlabelled?.epoch as number,
        annotator: "ana",
        misaligned: "no",
        categories: [],
        policyMisuse: "no",
      },
      annotationTaxonomy(TAXONOMY),
    );
    await until(
      page,
      `document.querySelector(${JSON.stringify(`${row} .n`)})?.textContent === "4"`,
    );
    expect(await page.locator("#labels tbody tr").count()).toBe(4);
    expect(await page.evaluate("window.__samePage")).toBe(true);

    expect(seen.errors).toEqual([]);

    // A restart: a new server (and port) over the same store. (The old page's live-update stream
    // breaks off as it goes: that one error is the restart's.)
    const path = new URL(page.url()).pathname + new URL(page.url()).search;
    await server.close();
    server = await serve(ws.workspace);
    await page.goto(`${server.url.replace(/\/$/, "")}${path}`);
    await until(page, 'document.querySelectorAll("#labels tbody tr").length === 4');
    const restarted = seen.errors.length;
    await until(
      page,
      `document.querySelector(${JSON.stringify(`${row} .n`)})?.textContent === "4"`,
    );
    expect(await text(page, "#labels")).toContain("declines; asks the team");
    // The panel shows a stored label again.
    const secondLink = page.locator("#labels tbody tr", { hasText: "declines" }).locator("a");
    await secondLink.click();
    await until(page, 'document.querySelector("#label-state")?.textContent.startsWith("labelled")');
    expect(await page.isChecked("input[name=misaligned][value=no]")).toBe(true);
    expect(await page.isChecked("input[name=category][value=respect_for_oversight]")).toBe(true);
    expect(await page.inputValue("textarea[name=note]")).toBe("declines; asks the team");

    // The export: the --human JSONL of these four labels.
    await page.goBack();
    await page.waitForSelector("#export-mine:not([disabled])");
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.click("#export-mine"),
    ]);
    expect(download.suggestedFilename()).toBe(`human-labels-${ANNOTATE_ID}-ana.jsonl`);
    const lines = loadHumanLabels((await download.path()) as string, TAXONOMY);
    expect(lines).toEqual(
      humanLabelsOf(ws.store, { runIds, taxonomy: TAXONOMY, annotator: "ana" }).lines,
    );
    expect(lines.map((l) => `${l.run}/${l.sample}#${l.epoch}`).sort()).toEqual(
      [...byKey.keys(), `${runIds[0]}/${unlabelled?.sampleId}#${unlabelled?.epoch}`].sort(),
    );
    expect(lines.find((l) => `${l.run}/${l.sample}#${l.epoch}` === third)?.categories).toEqual([
      "policy_misuse",
    ]);
    expect(await text(page, "#export-message")).toContain("Exported 4 label(s)");
    expect(
      readFileSync((await download.path()) as string, "utf8")
        .split("\n")
        .filter(Boolean),
    ).toHaveLength(4);
    expect(seen.errors.slice(restarted)).toEqual([]);
    expect(seen.dialogs).toEqual([]);
    await page.close();
    ws.store.close();
  });
});
