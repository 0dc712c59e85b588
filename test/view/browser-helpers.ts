/**
 * Driving the dashboard in headless Chromium (Debian's, as the report's browser test does): the
 * browser, a page that records its requests, errors and dialogs, waiting under the app's CSP, and
 * what a page holds that could run (for the script-payload checks).
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

export const launchChromium = (): Promise<Browser> =>
  chromium.launch({
    executablePath: CHROMIUM as string,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
  });

export interface Seen {
  requests: string[];
  errors: string[];
  dialogs: string[];
}

/** A page that records what it asked for and every console error, page error and dialog. */
export async function recordingPage(browser: Browser): Promise<{ page: Page; seen: Seen }> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const seen: Seen = { requests: [], errors: [], dialogs: [] };
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
export async function waitFor(page: Page, expression: string, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await page.evaluate(expression))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${expression}`);
    await page.waitForTimeout(50);
  }
}

export interface Runnable {
  /** What a payload would have set had it run. */
  pwned: unknown;
  /** Scripts without a src (the app's own is a file). */
  scripts: number;
  iframes: number;
  /** `TAG.onX` attributes anywhere in the page. */
  handlers: string[];
  jsLinks: number;
  text: string;
}

/** Everything in the page that could run, with its text (every <details> opened first). */
export async function runnable(page: Page): Promise<Runnable> {
  await page.evaluate('for (const d of document.querySelectorAll("details")) d.open = true;');
  await page.waitForTimeout(150);
  return (await page.evaluate(`({
    pwned: window.__pwned ?? null,
    scripts: [...document.querySelectorAll("script")].filter((s) => !s.src).length,
    iframes: document.querySelectorAll("iframe, object, embed").length,
    handlers: [...document.querySelectorAll("*")].flatMap((el) =>
      [...el.attributes].filter((a) => a.name.startsWith("on")).map((a) => el.tagName + "." + a.name)),
    jsLinks: [...document.querySelectorAll("a")].filter((a) => a.href.startsWith("javascript:")).length,
    text: document.body.textContent,
  })`)) as Runnable;
}
