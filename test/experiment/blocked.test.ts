import { describe, expect, it } from "vitest";
import { blockedReasons, manualSteps } from "../../src/experiment/blocked.js";
import type { LoadedExperiment } from "../../src/experiment/config.js";
import type { ExperimentRunResult } from "../../src/experiment/run.js";

const NO_AXOLOTL = { reason: "axolotl is not installed here", hint: "install it" };
const NO_GPU = { reason: "no GPU here", hint: "serve it where one is" };

/** An experiment training with `engine`, as far as the serving command reads it. */
const experiment = (engine: "axolotl" | "together") =>
  ({ experiment: { training: { engine, endpoint: "lab" } } }) as unknown as LoadedExperiment;

/** Two plans, each making its data (one directory each, "shared" in both) and then training. */
function chain(
  blocked: ExperimentRunResult["blocked"],
  made: string[],
): Pick<ExperimentRunResult, "trainedArms" | "blocked"> {
  const todo = (plan: string, dirs: string[]) => ({
    plan,
    data: dirs.map((dir) => ({ dir })),
    commands: [...dirs.map((d) => `make ${d}`), `specsci train run ${plan}.yaml`],
  });
  return {
    blocked,
    trainedArms: {
      todos: [todo("p1", ["shared", "d1"]), todo("p2", ["shared", "d2"])],
      data: made.map((dir) => ({ step: { dir }, made: true, runId: dir })),
      trained: [],
      blocked,
    } as never,
  };
}

describe("blockedReasons", () => {
  it("gives one entry per reason and hint, in the order first met, naming each thing once", () => {
    expect(
      blockedReasons([
        { what: "p1", ...NO_AXOLOTL },
        { what: "stage-a", ...NO_GPU },
        { what: "p2", ...NO_AXOLOTL },
        { what: "p1", ...NO_AXOLOTL },
        { what: "p3", reason: NO_AXOLOTL.reason, hint: "another hint" },
      ]),
    ).toEqual([
      { ...NO_AXOLOTL, whats: ["p1", "p2"] },
      { ...NO_GPU, whats: ["stage-a"] },
      { reason: NO_AXOLOTL.reason, hint: "another hint", whats: ["p3"] },
    ]);
    expect(blockedReasons([])).toEqual([]);
  });
});

describe("manualSteps", () => {
  it("lists the held-up plans' commands once each, less the data made here, then serving", () => {
    const run = chain(
      [
        { what: "p1", ...NO_AXOLOTL },
        { what: "p2", ...NO_AXOLOTL },
      ],
      ["shared", "d1"],
    );
    expect(manualSteps(experiment("axolotl"), run)).toEqual([
      "specsci train run p1.yaml",
      "make d2",
      "specsci train run p2.yaml",
      "specsci train serve --endpoint lab --start",
    ]);
  });

  it("keeps the commands of data that is itself held up, and adds no serving for Together", () => {
    const run = chain(
      [
        { what: "p2", ...NO_AXOLOTL },
        { what: "shared", reason: "no key", hint: "set it" },
      ],
      ["shared"],
    );
    expect(manualSteps(experiment("together"), run)).toEqual([
      "make shared",
      "make d2",
      "specsci train run p2.yaml",
    ]);
  });

  it("is null when no training plan is held up (a server alone, or nothing)", () => {
    expect(manualSteps(experiment("axolotl"), chain([{ what: "stage-a", ...NO_GPU }], []))).toBe(
      null,
    );
    expect(manualSteps(experiment("axolotl"), { blocked: [], trainedArms: null })).toBe(null);
  });
});
