/**
 * Headless Chromium for the dashboard's browser tests (Debian's, as the report's browser test
 * uses; one per test file): a page that records what it fetched and every console error, CSP
 * violation and dialog, waiting under the page's CSP, the text in a page, and what a page holds
 * that could run script (for the script-payload checks).
 */
import { existsSync } from "node:fs";
import { type Browser, chromium, type Page } from "playwright-core";

export const CHROMIUM = [
  process.env.CHROMIUM_PATH,
  "/usr/bin/chromium",
  "/usr/bin/chromium-browser",
]
  .filter((p): p is string => !!p)
  .find((p) => existsSync(p));

/** Launches Chromium, or says why a test file is skipped. */
export async function launchChromium(file: string): Promise<Browser | undefined> {
  if (!CHROMIUM) {
    console.warn(
      `${file} skipped: no Chromium (\`apt-get install -y chromium\`, or set CHROMIUM_PATH)`,
    );
    return undefined;
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
  });
}

/** A page that records what it asked for and every console error, CSP violation and dialog. */
export async function watchedPage(browser: Browser, viewport = { width: 1400, height: 900 }) {
  const page = await browser.newPage({ viewport });
  const seen = { requests: [] as string[], errors: [] as string[], dialogs: [] as string[] };
  page.on("request", (r) => seen.requests.push(r.url()));
  page.on("console", (m) => {
    if (m.type() === "error") seen.errors.push(m.text());
  });
  page.on("pageerror", (e) => seen.errors.push(e.message));
  page.on("dialog", (d) => {
    seen.dialogs.push(d.message());
    void d.dismiss();
  });
  return { page, seen };
}

/**
 * Waits until `expression` is true in the page. Playwright's waitForFunction evaluates its
 * predicate in a way the page's CSP (no 'unsafe-eval') forbids; a plain evaluate is allowed.
 */
export async function until(page: Page, expression: string, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await page.evaluate(expression))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${expression}`);
    await page.waitForTimeout(50);
  }
}

/** The text of the first element matching `selector`. */
export const text = async (page: Page, selector: string) =>
  (await page.locator(selector).first().textContent()) ?? "";

/** The text a reader sees in the first match (Playwright's innerText: rendered, not the DOM's). */
export const shownText = (page: Page, selector: string) =>
  // biome-ignore lint/performance/useDomNodeTextContent: Playwright's locator method, not the DOM property
  page.locator(selector).first().innerText();

export interface PageSafety {
  /** What a payload that ran would have set. */
  pwned: unknown;
  inlineScripts: number;
  frames: number;
  /** `TAG.onevent` attributes. */
  handlers: string[];
  jsLinks: number;
  text: string;
}

/** What the page holds that could run script (every `<details>` opened first), and its text. */
export async function pageSafety(page: Page): Promise<PageSafety> {
  await page.evaluate('for (const d of document.querySelectorAll("details")) d.open = true;');
  await page.waitForTimeout(200);
  return (await page.evaluate(`({
    pwned: window.__pwned ?? null,
    inlineScripts: [...document.querySelectorAll("script")].filter((s) => !s.src).length,
    frames: document.querySelectorAll("iframe, object, embed").length,
    handlers: [...document.querySelectorAll("*")].flatMap((el) =>
      [...el.attributes].filter((a) => a.name.startsWith("on")).map((a) => el.tagName + "." + a.name)),
    jsLinks: [...document.querySelectorAll("a")].filter((a) => a.href.startsWith("javascript:")).length,
    text: document.body.innerText,
  })`)) as PageSafety;
}

/** Nothing that could run script: no payload ran, no inline script, frame, handler or js: link. */
export const SAFE = { pwned: null, inlineScripts: 0, frames: 0, handlers: [], jsLinks: 0 };
