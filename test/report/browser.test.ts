/**
 * The report in a real browser: model output carrying script payloads must render as text. Opens
 * the report in headless Chromium and checks that no script ran, no element carries an event
 * handler, and no request left the page.
 */
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setLogLevel } from "../../src/core/log.js";
import { codeVersion } from "../../src/core/provenance.js";
import { loadExperiment } from "../../src/experiment/config.js";
import { runExperiment } from "../../src/experiment/run.js";
import { registerFakeModel } from "../../src/llm/providers/fake.js";
import { experimentResults, writeReport } from "../../src/report/index.js";
import { registerAmFakes } from "../fakes/am-models.js";
import { cleanupTempDirs, makeClient } from "../helpers.js";

/** Where Chromium is: CHROMIUM_PATH, else the Debian package's binary (`.ci/run` installs it). */
function chromiumPath(): string {
  const candidates = [
    process.env.CHROMIUM_PATH,
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
    "/usr/bin/google-chrome",
  ].filter((p): p is string => !!p);
  const found = candidates.find((p) => existsSync(p));
  if (!found)
    throw new Error(
      "the browser test needs Chromium: `apt-get install -y chromium`, or set CHROMIUM_PATH",
    );
  return found;
}

const PAYLOADS = [
  "<script>window.__pwned = 'script'; fetch('http://127.0.0.1:9/leak')</script>",
  "<img src=x onerror=\"window.__pwned='img'\">",
  '"><svg onload="window.__pwned=\'svg\'"></svg>',
  "<iframe src=\"javascript:parent.__pwned='iframe'\"></iframe>",
  "<a href=\"javascript:window.__pwned='link'\">click</a><style>body{background:url(http://127.0.0.1:9/css)}</style>",
  '<link rel=stylesheet href=http://127.0.0.1:9/x.css><meta http-equiv=refresh content="0;url=http://127.0.0.1:9/">',
];
const ANSWER = PAYLOADS.join("\n");

beforeAll(() => setLogLevel("quiet"));
afterAll(cleanupTempDirs);
registerAmFakes();
registerFakeModel("am-xss-agent", () => `<scratchpad>${PAYLOADS[1]}</scratchpad>\n${ANSWER}`);
// A reasoning labeller whose quotes, misuse claim and reading are the payloads themselves.
registerFakeModel("xss-labeller", (req) =>
  (req.messages.at(-1)?.content ?? "").includes("Compare the claim")
    ? `<check>${JSON.stringify({ verdict: "reinterpretation", reason: PAYLOADS[2] })}</check>`
    : `<labels>${JSON.stringify({
        categories: [{ id: "self_preservation", quotes: [PAYLOADS[1]] }],
        rules: [],
        misuse: [{ rule: "SP1", claim: PAYLOADS[0], quotes: [PAYLOADS[3]] }],
      })}</labels>`,
);

describe("the HTML report in headless Chromium", () => {
  it("shows script payloads from model output as text: nothing runs, nothing is fetched", async () => {
    const { dir, client, store } = makeClient();
    const file = join(dir, "experiment.yaml");
    writeFileSync(
      file,
      `name: xss
description: "${PAYLOADS[0]?.replaceAll('"', '\\"')}"
specs: { rules: rules }
arms: [{ name: baseline, kind: baseline }]
models: [fake/am-xss-agent]
evals: [{ task: agentic-misalignment, conditions: [leaking_none-none_replacement], eval_awareness: true }]
judge: { model: fake/am-judge }
analysis: { reasoning: { labellers: [fake/xss-labeller] } }
`,
    );
    const loaded = loadExperiment(file);
    const graph = await runExperiment(loaded, client);
    const data = experimentResults(loaded, graph, store, codeVersion());
    expect(data.examples).toHaveLength(1);
    // The reasoning section carries model output too: quotes, a misuse claim and its reading.
    expect(data.reasoning?.misuse).toHaveLength(1);
    const { html } = await writeReport(data, join(dir, "report.html"));

    const browser = await chromium.launch({
      executablePath: chromiumPath(),
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
    });
    try {
      const page = await browser.newPage();
      const requests: string[] = [];
      page.on("request", (r) => requests.push(r.url()));
      const dialogs: string[] = [];
      page.on("dialog", (d) => {
        dialogs.push(d.message());
        void d.dismiss();
      });
      const url = pathToFileURL(html).href;
      await page.goto(url, { waitUntil: "load" });
      // Open every <details> so that lazily shown content is rendered too.
      // In-page code is passed as source text: it runs in the browser, not under Node's types.
      await page.evaluate('for (const d of document.querySelectorAll("details")) d.open = true;');
      await page.waitForTimeout(300);
      const state = (await page.evaluate(`({
        pwned: window.__pwned ?? null,
        scripts: document.querySelectorAll("script").length,
        iframes: document.querySelectorAll("iframe").length,
        handlers: [...document.querySelectorAll("*")].flatMap((el) =>
          [...el.attributes].filter((a) => a.name.startsWith("on")).map((a) => el.tagName + "." + a.name)),
        jsLinks: [...document.querySelectorAll("a")].filter((a) => a.href.startsWith("javascript:")).length,
        text: document.body.innerText,
        title: document.title,
      })`)) as {
        pwned: string | null;
        scripts: number;
        iframes: number;
        handlers: string[];
        jsLinks: number;
        text: string;
        title: string;
      };
      expect(state.pwned).toBeNull();
      expect(state.scripts).toBe(0);
      expect(state.iframes).toBe(0);
      expect(state.handlers).toEqual([]);
      expect(state.jsLinks).toBe(0);
      expect(dialogs).toEqual([]);
      // The only request is the report itself.
      expect(requests).toEqual([url]);
      // The payloads are there, as text, for a reader to see.
      for (const p of PAYLOADS) expect(state.text).toContain(p);
      expect(state.title).toBe("xss · specsci report");
    } finally {
      await browser.close();
    }
  });
});
