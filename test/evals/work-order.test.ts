/**
 * The order an eval run works in: EPOCH_BLOCK epochs at a time, each sample's epochs of a block
 * together (so a commit's samples share their keys' index pages), and a resumed run does what is
 * left in the same order. Every (sample, epoch) is still run exactly once.
 */
import { afterAll, describe, expect, it } from "vitest";
import { EPOCH_BLOCK, runEval } from "../../src/evals/runner.js";
import { generateOnce } from "../../src/evals/solvers.js";
import { type Score, ScoringError, type Task } from "../../src/evals/types.js";
import { registerFakeModel } from "../../src/llm/providers/fake.js";
import { cleanupTempDirs, makeClient } from "../helpers.js";

afterAll(cleanupTempDirs);

registerFakeModel("work-order", () => "yes");

/** A task over samples `ids` that logs each (sample, epoch) it solves; scoring fails from `failFrom` on. */
function orderTask(ids: string[], started: string[], failFrom = Number.POSITIVE_INFINITY): Task {
  return {
    name: "work-order",
    version: "1",
    args: {},
    dataset: ids.map((id) => ({
      id,
      input: [{ role: "user", content: `say yes ${id}` }],
      metadata: {},
    })),
    solver: {
      name: "generate",
      spec: { name: "generate" },
      async solve(sample, model, config, epoch, context, signal) {
        started.push(`${sample.id}${epoch}`);
        return {
          completion: await generateOnce(sample.input, model, config, epoch, context, signal),
          parsed: null,
        };
      },
    },
    scorers: [
      {
        name: "said",
        spec: { name: "said" },
        async score(state): Promise<Score> {
          if (state.epoch >= failFrom) throw new ScoringError("late", "fails on the first run");
          return { value: { yes: 1 }, answer: state.completion.text };
        },
      },
    ],
    defaults: { max_tokens: 8, temperature: 0 },
  };
}

const range = (id: string, from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => `${id}${from + i}`);

describe("eval work order", () => {
  it("runs a block of epochs per sample at a time, and resumes in the same order", async () => {
    expect(EPOCH_BLOCK).toBe(10);
    const { client, store } = makeClient();
    const epochs = 23;
    const first: string[] = [];
    // One sample at a time, so the order solved is the order of the work.
    const opts = { client, modelId: "fake/work-order", epochs, window: 1 };
    const s1 = await runEval({ ...opts, task: orderTask(["a", "b"], first, 12) });
    expect(first).toEqual([
      ...range("a", 1, 10),
      ...range("b", 1, 10),
      ...range("a", 11, 20),
      ...range("b", 11, 20),
      ...range("a", 21, 23),
      ...range("b", 21, 23),
    ]);
    expect(s1).toMatchObject({ done: 22, errors: 24 });

    // The failed ones, and only they, again, in the same order.
    const second: string[] = [];
    const s2 = await runEval({ ...opts, task: orderTask(["a", "b"], second) });
    expect(s2.runId).toBe(s1.runId);
    expect(second).toEqual([
      ...range("a", 12, 20),
      ...range("b", 12, 20),
      ...range("a", 21, 23),
      ...range("b", 21, 23),
    ]);
    expect(s2).toMatchObject({ resumed: 22, done: 24, errors: 0 });
    const keys = store.evals.samples(s1.runId).map((r) => `${r.sampleId}${r.epoch}`);
    expect(keys.sort()).toEqual([...range("a", 1, epochs), ...range("b", 1, epochs)].sort());
  });
});
