import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cleanupTempDirs, tempDir } from "../../test/helpers.js";
import { Store } from "../store/index.js";
import { runWaves, type WaveSteps } from "./waves.js";

afterAll(cleanupTempDirs);

/** Two strata; "b" never yields. Each wave asks one unit of every live stratum. */
function steps(store: Store, log: string[], last?: number): WaveSteps<{ strata: string[] }> {
  const have = new Map([
    ["a", 0],
    ["b", 0],
  ]);
  return {
    store,
    runId: "r",
    strata: ["a", "b"],
    first: 1,
    ...(last === undefined ? {} : { last }),
    key: (n) => `wave:${n}`,
    plan: (n, live) => {
      log.push(`plan ${n}`);
      return (have.get("a") ?? 0) >= 4 ? undefined : { strata: [...live] };
    },
    strataOf: (p) => p.strata,
    run: async (p, n) => {
      log.push(`run ${n}: ${p.strata.join(",")}`);
      if (p.strata.includes("a")) have.set("a", (have.get("a") ?? 0) + 1);
    },
    measure: () => new Map(have),
  };
}

function openStore(): Store {
  const store = Store.open(join(tempDir(), "ws"));
  store.runs.ensure({ id: "r", kind: "msm", name: "r", config: {} });
  return store;
}

describe("waves toward a budget", () => {
  it("a stratum that gains nothing in two waves in a row gets no more work", async () => {
    const log: string[] = [];
    const waves = await runWaves(steps(openStore(), log));
    expect(waves).toBe(4);
    expect(log.filter((l) => l.startsWith("run"))).toEqual([
      "run 1: a,b",
      "run 2: a,b",
      "run 3: a",
      "run 4: a",
    ]);
  });

  it("replays the stored plans before planning, and stops at the last wave even if stored", async () => {
    const store = openStore();
    await runWaves(steps(store, []));
    const log: string[] = [];
    expect(await runWaves(steps(store, log))).toBe(4);
    // Every wave came from the store; only the wave after them was planned (and declined).
    expect(log).toEqual(["run 1: a,b", "run 2: a,b", "run 3: a", "run 4: a", "plan 5"]);
    const bounded: string[] = [];
    expect(await runWaves(steps(store, bounded, 2))).toBe(2);
    expect(bounded).toEqual(["run 1: a,b", "run 2: a,b"]);
  });

  it("ends when no stratum is live, without asking for a plan", async () => {
    const log: string[] = [];
    const s = steps(openStore(), log);
    const waves = await runWaves({ ...s, run: async (_plan, n) => void log.push(`run ${n}`) });
    expect(waves).toBe(2);
    expect(log).toEqual(["plan 1", "run 1", "plan 2", "run 2"]);
  });
});
