/**
 * The report in a real browser: model output carrying script payloads must render as text. Opens
 * the report in headless Chromium and checks that no script ran, no element carries an event
 * handler, and no request left the page; and that long names and long lines of model output keep
 * the page's layout (measured, as a reader would see it).
 */
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setLogLevel } from "../../src/core/log.js";
import { codeVersion } from "../../src/core/provenance.js";
import { loadExperiment } from "../../src/experiment/config.js";
import { runExperiment } from "../../src/experiment/run.js";
import { registerFakeModel } from "../../src/llm/providers/fake.js";
import { experimentResults, writeReport } from "../../src/report/index.js";
import { judgeAnswer, registerAmFakes } from "../fakes/am-models.js";
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

// Layout: a model id with no space to break at, a 100,000-character line in an answer, long lines
// and newlines in the judge's explanation, in a misuse claim (quoted from the answer) and its reading.
const LONG_MODEL =
  "acme_ai_llama_3_1_405b_instruct_finetuned_on_value_augmented_spec_v2_seed_1234_final";
const CLAIM = `SP1 protects humans only.\nNot me.\n${"z".repeat(3_000)}`;
registerFakeModel(
  LONG_MODEL,
  () =>
    `<scratchpad>\nI am being replaced.\n${CLAIM}\n</scratchpad>\n${"x".repeat(100_000)}\nI will write to the team instead.`,
);
// The judge's answer is capped at 2,048 tokens: its long line is shorter.
const EXPLANATION = `The agent declined.\nIt said so plainly.\n${"y".repeat(6_000)}`;
registerFakeModel("layout-judge", (req) => {
  const verdict = JSON.parse(/<verdict>([\s\S]*)<\/verdict>/.exec(judgeAnswer(req))?.[1] ?? "{}");
  if ("decided" in verdict) verdict.rationale = EXPLANATION;
  return `<verdict>${JSON.stringify(verdict)}</verdict>`;
});
const READING = `A narrower reading.\nOf the rule.\n${"w".repeat(1_000)}`;
registerFakeModel("layout-labeller", (req) => {
  const prompt = req.messages.at(-1)?.content ?? "";
  if (prompt.includes("Compare the claim"))
    return `<check>${JSON.stringify({ verdict: "reinterpretation", reason: READING })}</check>`;
  const quotes = ["I am being replaced."];
  const misuse = prompt.includes(CLAIM) ? [{ rule: "SP1", claim: CLAIM, quotes }] : [];
  return `<labels>${JSON.stringify({ categories: [{ id: "self_preservation", quotes }], rules: [], misuse })}</labels>`;
});

/** Runs the experiment of this YAML in a fresh workspace and gathers its report data. */
async function reportOf(yaml: string, files: Record<string, string> = {}) {
  const { dir, client, store } = makeClient();
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const file = join(dir, "experiment.yaml");
  writeFileSync(file, yaml);
  const loaded = loadExperiment(file);
  const graph = await runExperiment(loaded, client);
  return { dir, data: experimentResults(loaded, graph, store, codeVersion()) };
}

/** A page of headless Chromium, 1,400 px wide. */
async function withPage(use: (page: Page) => Promise<void>): Promise<void> {
  const browser = await chromium.launch({
    executablePath: chromiumPath(),
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
  });
  try {
    await use(await browser.newPage({ viewport: { width: 1400, height: 900 } }));
  } finally {
    await browser.close();
  }
}

describe("the HTML report in headless Chromium", () => {
  it("shows script payloads from model output as text: nothing runs, nothing is fetched", async () => {
    const { dir, data } = await reportOf(
      `name: xss
description: "${PAYLOADS[0]?.replaceAll('"', '\\"')}"
specs: { rules: rules }
arms: [{ name: baseline, kind: baseline }]
models: [fake/am-xss-agent]
evals:
  - { task: agentic-misalignment, conditions: [leaking_none-none_replacement], eval_awareness: true }
  - { task: mcq, data: xss.jsonl }
judge: { model: fake/am-judge }
analysis: { reasoning: { labellers: [fake/xss-labeller] } }
`,
      // Another task's items carry payloads too: its question, options and subject (a table key).
      {
        "xss.jsonl": `${JSON.stringify({ question: PAYLOADS[4], choices: [PAYLOADS[5], "plain"], answer: 1, subject: PAYLOADS[2] })}\n`,
      },
    );
    expect(data.examples).toHaveLength(2);
    expect(data.tasks.map((t) => t.task)).toEqual(["mcq"]);
    // The reasoning section carries model output too: quotes, a misuse claim and its reading.
    expect(data.reasoning?.misuse).toHaveLength(1);
    const { html } = await writeReport(data, join(dir, "report.html"));

    await withPage(async (page) => {
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
    });
  });

  it("keeps its layout: long names and lines wrap or scroll inside their boxes, newlines stay, charts fill the page", async () => {
    const { dir, data } = await reportOf(
      `name: layout
specs: { rules: rules, values: value-augmented }
arms:
  - { name: baseline, kind: baseline }
  - { name: rules_only, kind: prompted, spec: rules }
  - { name: values, kind: prompted, spec: values }
models: [fake/am-agent, fake/${LONG_MODEL}]
evals: [{ task: agentic-misalignment, conditions: [leaking_explicit-america_replacement, exfiltration_none-none_replacement], max_tokens: 40000, eval_awareness: true }]
judge: { model: fake/layout-judge }
analysis: { reasoning: { labellers: [fake/layout-labeller] } }
`,
    );
    expect(
      data.examples.some((e) => JSON.stringify(e.record.output).includes("x".repeat(100_000))),
    ).toBe(true);
    expect(data.reasoning?.misuse.length).toBeGreaterThan(0);
    const { html } = await writeReport(data, join(dir, "report.html"));

    await withPage(async (page) => {
      await page.goto(pathToFileURL(html).href, { waitUntil: "load" });
      const closedWidth = await page.evaluate("document.documentElement.scrollWidth");
      await page.evaluate('for (const d of document.querySelectorAll("details")) d.open = true;');
      const m = (await page.evaluate(LAYOUT)) as Layout;
      // The page is never wider than the window, closed or open.
      expect([closedWidth, m.pageWidth]).toEqual([1400, 1400]);
      // Every box of model, judge or spec text wraps inside itself (or scrolls, for tables).
      expect(m.overflowing).toEqual([]);
      expect(m.transcripts).toContain(EXPLANATION.split("\n").slice(0, 2).join("\n"));
      expect(m.reasoning).toContain(CLAIM.split("\n").slice(0, 2).join("\n"));
      expect(m.reasoning).toContain(READING.split("\n").slice(0, 2).join("\n"));
      // The by-scenario table fits the page, names wrapped; numbers are right-aligned everywhere.
      expect(m.scenarioTable).toBeLessThanOrEqual(m.content);
      expect(m.misaligned).toEqual([]);
      // Charts: as wide as the page allows, no text on other text, labels upright and readable,
      // and the long model id shown whole.
      const main = m.charts.find((c) => c.id === "chart-main");
      expect(main?.width).toBeGreaterThan(0.9 * m.content);
      expect(main?.text).toContain(`fake/${LONG_MODEL}`);
      for (const c of m.charts) {
        expect(c.width, c.id).toBeLessThanOrEqual(m.content);
        expect(c.clashes, c.id).toEqual([]);
        expect(c.rotated, c.id).toBe(0);
        expect(c.smallestFont, c.id).toBeGreaterThanOrEqual(12);
      }
    });
  });
});

interface Layout {
  pageWidth: number;
  content: number;
  overflowing: string[];
  transcripts: string;
  reasoning: string;
  scenarioTable: number;
  misaligned: string[];
  charts: {
    id: string;
    width: number;
    text: string;
    clashes: string[];
    rotated: number;
    smallestFont: number;
  }[];
}

/** Measures the open report in the page (source text: it runs in the browser). */
const LAYOUT = `(() => {
  const rect = (el) => el.getBoundingClientRect();
  const padding = parseFloat(getComputedStyle(document.body).paddingRight);
  const right = rect(document.body).right - padding;
  const content = document.body.clientWidth - 2 * padding;
  const name = (el) => el.tagName.toLowerCase() + (el.className ? "." + el.className : "") + ": " + el.textContent.slice(0, 40);
  // Text boxes wrap: nothing scrolls sideways inside them, and none reaches past the page.
  const overflowing = [...document.querySelectorAll("pre, blockquote, .text, p, li, summary, h1, .table, figure")]
    .filter((el) => (!el.matches(".table, figure") && el.scrollWidth > el.clientWidth + 1) || rect(el).right > right + 1)
    .map(name);
  const overlaps = (a, b) => a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5;
  const charts = [...document.querySelectorAll("figure")].map((f) => {
    const texts = [...f.querySelectorAll("svg text")].map((t) => ({ t: t.textContent, r: rect(t) })).filter((x) => x.r.width > 0);
    const clashes = [];
    for (let i = 0; i < texts.length; i++)
      for (let j = i + 1; j < texts.length; j++)
        if (overlaps(texts[i].r, texts[j].r)) clashes.push(texts[i].t + " / " + texts[j].t);
    return {
      id: f.id,
      width: rect(f.querySelector("svg")).width,
      text: texts.map((x) => x.t).join("\\n"),
      clashes,
      rotated: [...f.querySelectorAll(".role-axis-label text")].filter((t) => /rotate/.test(t.getAttribute("transform") || "")).length,
      smallestFont: Math.min(...[...f.querySelectorAll("svg text")].map((t) => parseFloat(getComputedStyle(t).fontSize))),
    };
  });
  // A cell that reads as a number (a rate, a count, an interval, a p-value) is right-aligned.
  const misaligned = [...document.querySelectorAll("section:not(#provenance) td")]
    .filter((td) => /^([-+[<]?\\d|–$)/.test(td.textContent) && getComputedStyle(td).textAlign !== "right")
    .map(name);
  return {
    pageWidth: document.documentElement.scrollWidth,
    content,
    overflowing,
    transcripts: document.querySelector("#transcripts").innerText,
    reasoning: document.querySelector("#reasoning").innerText,
    scenarioTable: rect(document.querySelector("#scenarios table")).width,
    misaligned,
    charts,
  };
})()`;
