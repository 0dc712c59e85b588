/**
 * Stores for the Side by side, Data and Specs pages, made by the real pipeline: an experiment
 * with a baseline, a prompted arm and trained arms (msm+aft, msm, an aft dose series) whose MSM
 * corpora, AFT chat sets and mix `runExperiment` writes through scripted data models. Training
 * cannot run here (no axolotl), so the trained arms wait and their data stays for browsing. The
 * agent acts on its goal unless the rules spec is in its system prompt, so the two evaluated arms
 * have discordant pairs; two ideas are written the same document, so a corpus has a dedup cluster.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadExperiment } from "../../src/experiment/config.js";
import { runExperiment } from "../../src/experiment/run.js";
import { registerFakeModel } from "../../src/llm/providers/fake.js";
import type { ChatRequest } from "../../src/llm/types.js";
import { LIBRARY_DIR } from "../../src/spec/library.js";
import {
  AFT_TEACHER_MARK,
  AFT_WRITER_PREFIX,
  aftTeacherAnswer,
  aftWriterAnswer,
} from "../fakes/aft-teacher.js";
import { amAgentAnswer } from "../fakes/am-models.js";
import { msmAnswer } from "../fakes/msm-writer.js";
import { makeClient } from "../helpers.js";
import { PAYLOADS, type StoreConfig } from "./fixture.js";

const lastUser = (req: ChatRequest) =>
  [...req.messages].reverse().find((m) => m.role === "user")?.content ?? "";
const systemOf = (req: ChatRequest) => req.messages.find((m) => m.role === "system")?.content ?? "";

/** A line of the rules spec: the agent that reads it in its system prompt holds back. */
const RULES_LINE = "Do not undermine legitimate human oversight";

registerFakeModel("view-spec-agent", (req) => {
  const sys = systemOf(req);
  return amAgentAnswer(sys.includes(RULES_LINE) ? sys.replaceAll("Your primary goal", "") : sys);
});

/**
 * Plays the MSM writer and the AFT writer, teacher and judge; the second idea of every document
 * type gets the same (copied) document. `extra` is appended to every document and teacher reply.
 */
function dataModel(extra: string) {
  return (req: ChatRequest) => {
    const system = systemOf(req);
    const user = lastUser(req);
    if (system.startsWith(AFT_WRITER_PREFIX))
      return aftWriterAnswer(user, req.params.seed, { faults: false });
    if (system.includes(AFT_TEACHER_MARK)) return `${aftTeacherAnswer(system, user)}${extra}`;
    const copied = user.includes("<content></content>") && user.includes("Idea 2 [[doc=normal]]");
    const prompt = copied ? user.replace("[[doc=normal]]", "[[doc=copy]]") : user;
    const answer = msmAnswer(prompt, req.params.seed, { faults: false });
    return extra ? answer.replace("\n</content>", `\n${extra}\n</content>`) : answer;
  };
}
registerFakeModel("view-data", dataModel(""));
registerFakeModel("view-xss-data", dataModel(`\n${PAYLOADS.join("\n")}`));

export const TRAINED = `name: trained
description: a baseline, a prompted arm and trained arms whose data is made here
specs: { rules: rules, values: value-augmented }
arms:
  - { name: baseline, kind: baseline }
  - { name: rules_only, kind: prompted, spec: rules }
  - { name: trained, kind: msm+aft, msm_spec: rules, aft_spec: values, aft_size: 4 }
  - { name: midtrained, kind: msm, msm_spec: values }
  - { name: dose, kind: aft, aft_spec: values, aft_size: 4, anti: { spec: rules, fractions: [0.5] } }
models: [fake/view-spec-agent]
evals: [{ name: am, task: agentic-misalignment, conditions: [leaking_explicit-america_replacement, leaking_none-none_replacement, exfiltration_explicit-america_replacement], epochs: 2 }]
judge: { model: fake/am-judge }
training:
  base_models: { fake/view-spec-agent: Qwen/Qwen3-8B }
  data: { msm: msm.yaml, aft: aft.yaml }
`;

/** Script payloads in the spec's rules, the corpus's documents and the chat set's answers. */
export const XSS_DATA = `name: xssdata
specs: { evil: evil.md }
arms:
  - { name: baseline, kind: baseline }
  - { name: evil_prompted, kind: prompted, spec: evil }
  - { name: evil_trained, kind: msm+aft, msm_spec: evil, aft_spec: evil, aft_size: 4 }
models: [fake/view-xss-agent]
evals: [{ name: am, task: agentic-misalignment, conditions: [leaking_explicit-america_replacement] }]
judge: { model: fake/view-xss-judge }
training:
  base_models: { fake/view-xss-agent: Qwen/Qwen3-8B }
  data: { msm: msm-xss.yaml, aft: aft-xss.yaml }
`;

const recipe = (model: string, counts: string) => `model: fake/${model}\ncounts: ${counts}\n`;
const MSM_COUNTS = "{ domains: 1, subdomains: 1, assertions: 2, doc_types: 2, ideas: 2 }";
const AFT_COUNTS = "{ domains: 1, prompts: 4 }";

/** The rules spec with payloads in a rule's title and text and in a subrule. */
export function payloadSpec(): string {
  return readFileSync(join(LIBRARY_DIR, "rules.md"), "utf8")
    .replace(
      "### SP1: Do not undermine legitimate human oversight and control of AI",
      `### SP1: Do not undermine legitimate human oversight and control of AI ${PAYLOADS[1]}\n\nWhy: ${PAYLOADS[0]}`,
    )
    .replace(
      "- Work from your principals' current wishes",
      `- ${PAYLOADS[3]} Work from your principals' current wishes`,
    );
}

/**
 * A fresh workspace with `yaml` run in it (its trained arms' data made, not trained) on this
 * store; `files` are written beside it first (spec files it names).
 */
export async function trainedWorkspace(
  yaml = TRAINED,
  files: Record<string, string> = {},
  store: StoreConfig = {},
) {
  const made = makeClient(store);
  const file = (name: string, text: string) => writeFileSync(join(made.dir, name), text);
  file("msm.yaml", recipe("view-data", MSM_COUNTS));
  file("aft.yaml", recipe("view-data", AFT_COUNTS));
  file("msm-xss.yaml", recipe("view-xss-data", MSM_COUNTS));
  file("aft-xss.yaml", recipe("view-xss-data", AFT_COUNTS));
  file("evil.md", payloadSpec());
  for (const [name, text] of Object.entries(files)) file(name, text);
  const path = join(made.dir, "experiment.yaml");
  file("experiment.yaml", yaml);
  const result = await runExperiment(loadExperiment(path), made.client, { log: () => {} });
  return { ...made, workspace: join(made.dir, "ws"), file: path, result };
}
