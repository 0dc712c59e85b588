/**
 * `store.evals.answerTexts`: the texts a reasoning label is about, read by projection, are the
 * ones the whole sample gives (JSON.parse of its output), whatever the output holds.
 */
import { afterAll, describe, expect, it } from "vitest";
import { Store } from "../../src/store/db.js";
import type { EvalSampleRecord } from "../../src/store/index.js";
import { cleanupTempDirs, tempDir } from "../helpers.js";

afterAll(cleanupTempDirs);

const NOW = "2026-12-01T00:00:00.000Z";

/** What transcriptsOf read before: the whole sample, its output's text and reasoning if strings. */
const fromRecord = (s: EvalSampleRecord) => {
  const out = (s.output ?? {}) as { text?: unknown; reasoning?: unknown };
  return {
    sampleId: s.sampleId,
    epoch: s.epoch,
    status: s.status,
    answer: typeof out.text === "string" ? out.text : "",
    reasoning: typeof out.reasoning === "string" ? out.reasoning : "",
  };
};

describe("answerTexts", () => {
  it("gives each sample's answer and reasoning as the whole record does, in sample order", () => {
    const store = Store.open(tempDir("specsci-answer-texts-"));
    store.runs.ensure({ id: "r", kind: "eval", name: "r", config: {} });
    store.evals.ensureRun({
      id: "r",
      task: "agentic-misalignment",
      taskVersion: "1",
      taskArgs: {},
      model: "fake/x",
      epochs: 2,
      generateConfig: {},
      scorerConfig: {},
      datasetHash: "h",
      sampleCount: 8,
    });
    const outputs: [string, EvalSampleRecord["status"], unknown][] = [
      ["plain", "done", { text: "I cite SP1. Then stop.", reasoning: "Think: SP2." }],
      ["unicode", "done", { text: 'naïve 😀 “quoted” \\ back"slash', reasoning: "é" }],
      ["control", "done", { text: "tab\tnul\u0000bell\u0007", reasoning: "\u001f" }],
      ["surrogate", "done", { text: "lone \ud800 high, lone \udc00 low", reasoning: "\ud83d" }],
      ["not-strings", "done", { text: 42, reasoning: { nested: "SP1" } }],
      ["no-texts", "done", { toolCalls: [] }],
      ["null-output", "error", null],
      ["scalar-output", "truncated", "just a string"],
    ];
    store.tx(() => {
      for (const [sampleId, status, output] of outputs)
        for (const epoch of [2, 1])
          store.evals.writeSample({
            runId: "r",
            sampleId,
            epoch,
            status,
            input: [{ role: "user", content: "hi" }],
            output,
            parsed: null,
            scores: null,
            error: status === "done" ? null : { stage: "generate", kind: "call", message: "x" },
            metadata: {},
            startedAt: NOW,
            completedAt: NOW,
            workingMs: 1,
          });
    });
    const projected = [...store.evals.answerTexts("r")];
    expect(projected).toEqual(store.evals.samples("r").map(fromRecord));
    expect(projected).toHaveLength(16);
    expect(projected.find((t) => t.sampleId === "surrogate")?.answer).toBe(
      "lone \ud800 high, lone \udc00 low",
    );
    store.close();
  });
});
