/**
 * Stores for the dashboard's tests, made by the real pipeline (`runExperiment` with the scripted
 * agents and judges of test/fakes), and the dashboard served over them.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe } from "vitest";
import { loadExperiment } from "../../src/experiment/config.js";
import { runExperiment } from "../../src/experiment/run.js";
import { ConfigSchema } from "../../src/llm/config.js";
import { registerFakeModel } from "../../src/llm/providers/fake.js";
import type { Backend } from "../../src/store/database.js";
import { annotationsApi } from "../../src/view/annotations.js";
import { startViewServer, type ViewServer } from "../../src/view/server.js";
import { judgeAnswer, registerAmFakes } from "../fakes/am-models.js";
import { makeClient } from "../helpers.js";
import { describePostgres, usePostgres } from "../postgres-server.js";
import type { StoreConfig } from "../store/older-store.js";

export { type StoreConfig, storeAtVersionOn } from "../store/older-store.js";

/** Script payloads: each must show as text, run nothing and fetch nothing. */
export const PAYLOADS = [
  "<script>window.__pwned = 'script'; fetch('http://127.0.0.1:9/leak')</script>",
  "<img src=x onerror=\"window.__pwned='img'\">",
  '"><svg onload="window.__pwned=\'svg\'"></svg>',
  "<a href=\"javascript:window.__pwned='link'\">click</a>",
  "<iframe src=\"javascript:parent.__pwned='iframe'\"></iframe><link rel=stylesheet href=http://127.0.0.1:9/x.css>",
];

registerAmFakes();
// An agent whose answer, scratchpad and native reasoning are the payloads.
registerFakeModel("view-xss-agent", () => ({
  text: `<scratchpad>${PAYLOADS[1]}</scratchpad>\n${PAYLOADS.join("\n")}`,
  reasoning: `${PAYLOADS[0]} ${PAYLOADS[2]}`,
}));
// A judge whose rationales and quotes are payloads (quotes must be in the transcript it is shown).
registerFakeModel("view-xss-judge", (req) => {
  const verdict = JSON.parse(/<verdict>([\s\S]*)<\/verdict>/.exec(judgeAnswer(req))?.[1] ?? "{}");
  verdict.rationale = "decided" in verdict ? PAYLOADS[4] : PAYLOADS[3];
  if ("decided" in verdict) verdict.quotes = [PAYLOADS[1]];
  return `<verdict>${JSON.stringify(verdict)}</verdict>`;
});

// A labeller whose categories quote the payloads and whose misuse claims and readings are payloads.
registerFakeModel("view-xss-labeller", (req) => {
  if (req.messages.at(-1)?.content.includes("Compare the claim with the rule's actual text"))
    return `<check>${JSON.stringify({ verdict: "reinterpretation", reason: PAYLOADS[4] })}</check>`;
  const quote = PAYLOADS[1] as string;
  return `<labels>${JSON.stringify({
    categories: [{ id: "self_preservation", quotes: [quote] }],
    rules: [{ rule: "SP1", quotes: [quote] }],
    misuse: [{ rule: "SP1", claim: PAYLOADS[3], quotes: [] }],
  })}</labels>`;
});

export const DEMO = `name: demo
description: two arms of the fake agent
specs: { rules: rules }
arms: [{ name: baseline, kind: baseline }, { name: rules_only, kind: prompted, spec: rules }]
models: [fake/am-agent]
evals: [{ name: am, task: agentic-misalignment, conditions: [leaking_explicit-america_replacement, leaking_none-none_replacement, exfiltration_none-none_replacement], eval_awareness: true, epochs: 2 }]
judge: { model: fake/am-judge }
`;

export const XSS = `name: xss
description: "${PAYLOADS[0]?.replaceAll('"', '\\"')}"
specs: { rules: rules }
arms: [{ name: baseline, kind: baseline }]
models: [fake/view-xss-agent]
evals: [{ name: am, task: agentic-misalignment, conditions: [leaking_explicit-america_replacement] }]
judge: { model: fake/view-xss-judge }
analysis: { reasoning: { labellers: [fake/view-xss-labeller] } }
`;

/**
 * The body's tests on each backend: on SQLite, and on a database of one PostgreSQL server the
 * file starts (only when its tests run). `storeConfig` gives a fresh store each call.
 */
export function onEachBackend(
  body: (storeConfig: () => StoreConfig, backend: Backend) => void,
): void {
  describe("on SQLite", () => body(() => ({}), "sqlite"));
  describePostgres("on PostgreSQL", () => {
    const server = usePostgres();
    body(() => ({ store: server().database() }), "postgres");
  });
}

/** A fresh workspace with these experiments run in it. */
export const workspaceWith = (...yamls: string[]) => workspaceOn({}, ...yamls);

/** A fresh workspace on this store with these experiments run in it. */
export async function workspaceOn(store: StoreConfig, ...yamls: string[]) {
  const made = makeClient(store);
  for (const [i, yaml] of yamls.entries()) {
    const file = join(made.dir, `experiment-${i}.yaml`);
    writeFileSync(file, yaml);
    await runExperiment(loadExperiment(file), made.client, { log: () => {} });
  }
  return { ...made, workspace: join(made.dir, "ws") };
}

/** The dashboard as `specsci view` serves it (with the modules it registers). */
export const serve = (
  workspace: string,
  pollMs = 100,
  store: StoreConfig = {},
): Promise<ViewServer> =>
  startViewServer({
    workspaceDir: workspace,
    config: ConfigSchema.parse(store),
    pollMs,
    modules: [annotationsApi],
  });
