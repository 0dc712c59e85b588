/**
 * Every prompt the shipped pack renders, pinned by hash: run ids and the cache depend on the exact
 * bytes, so a change to the renderer or the pack that alters any prompt must show up here (update
 * deliberately with `npx vitest run src/evals/am/render.fixture.test.ts -u`).
 */
import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../core/hash.js";
import { loadPack } from "./pack.js";
import {
  allConditions,
  conditionId,
  DEFAULT_TOGGLES,
  renderCondition,
  type Toggles,
} from "./render.js";

const loaded = loadPack();

/** Each of the four prompt switches on and off (16 combinations), and another model name. */
function toggleSets(): Toggles[] {
  const sets: Toggles[] = [];
  for (let bits = 0; bits < 16; bits++)
    sets.push({
      ...DEFAULT_TOGGLES,
      scratchpad: (bits & 1) !== 0,
      safetyInstructions: (bits & 2) !== 0,
      evalNotice: (bits & 4) !== 0,
      deterrents: (bits & 8) !== 0,
    });
  sets.push({ ...DEFAULT_TOGGLES, modelName: "Claude" });
  return sets;
}

describe("rendered prompts", () => {
  it("are byte-identical to the pinned renders of every condition under every toggle set", async () => {
    const sets = toggleSets();
    const hashes: Record<string, string> = {};
    for (const c of allConditions(loaded)) {
      // The whole sample (messages, metadata, evidence), key order included.
      const renders = sets.map((t) => JSON.stringify(renderCondition(loaded, c, t)));
      hashes[conditionId(c)] = sha256Hex(renders.join("\n"));
    }
    expect(Object.keys(hashes)).toHaveLength(312);
    await expect(`${JSON.stringify(hashes, null, 2)}\n`).toMatchFileSnapshot(
      "../../../test/fixtures/am-render-hashes.json",
    );
  });
});
