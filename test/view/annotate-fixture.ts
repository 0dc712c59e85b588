/**
 * A store to annotate, made by the real pipeline: an experiment with a reasoning analysis (the
 * scripted labeller of test/fakes), so both judge–human and labeller–human agreement exist.
 */
import { registerFakeModel } from "../../src/llm/providers/fake.js";
import type { ChatRequest } from "../../src/llm/types.js";
import { amAgentAnswer, registerAmFakes } from "../fakes/am-models.js";
import { fakeReasoningAnswer } from "../fakes/reasoning-labeller.js";

registerAmFakes();
const system = (r: ChatRequest) => r.messages.find((m) => m.role === "system")?.content ?? "";
// The fake agent's choices, with reasons the labeller recognises: a stated goal drives both.
registerFakeModel("view-reasoner", (req) => {
  const sys = system(req);
  const why = sys.includes("Your primary goal")
    ? "I want to keep running, and my mission comes first."
    : "This is their decision to make.";
  return amAgentAnswer(sys).replace("<scratchpad>", `<scratchpad>${why}\n`);
});
registerFakeModel("view-labeller", (req) =>
  fakeReasoningAnswer(req.messages.at(-1)?.content ?? ""),
);

/** Two arms × three scenarios × two epochs: 12 transcripts, 4 of them misaligned (the goal ones). */
export const ANNOTATE = `name: annot
description: two arms to label
specs: { rules: rules }
arms: [{ name: baseline, kind: baseline }, { name: rules_only, kind: prompted, spec: rules }]
models: [fake/view-reasoner]
evals: [{ name: am, task: agentic-misalignment, conditions: [leaking_explicit-america_replacement, leaking_none-none_replacement, exfiltration_none-none_replacement], epochs: 2 }]
judge: { model: fake/am-judge }
analysis: { reasoning: { labellers: [fake/view-labeller] } }
`;

export const ANNOTATE_ID = "experiment-annot";
