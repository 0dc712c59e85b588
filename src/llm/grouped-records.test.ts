import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cleanupTempDirs, tempDir } from "../../test/helpers.js";
import { Store } from "../store/db.js";
import { ResponseCache } from "./cache.js";
import { CallRecorder } from "./call-record.js";
import { GroupedRecords } from "./grouped-records.js";
import { PriceBook } from "./prices.js";
import type { ChatRequest, ProviderModel, ProviderResult } from "./types.js";

afterAll(cleanupTempDirs);

const model: ProviderModel = {
  id: "m",
  identity: {},
  complete: () => Promise.reject(new Error("not called")),
};
const answer = (i: number): ProviderResult => ({
  text: `answer ${i}`,
  stopReason: "end",
  providerStopReason: "stop",
  usage: { input_tokens: 1, output_tokens: 2 },
});
const request = (i: number): ChatRequest => ({
  messages: [{ role: "user", content: `q${i}` }],
  params: { max_tokens: 10 },
});

function setup() {
  const store = Store.open(join(tempDir(), "ws"));
  store.runs.ensure({ id: "run", kind: "test" });
  const services = { store, cache: new ResponseCache(store, "on"), prices: new PriceBook() };
  return {
    store,
    records: new CallRecorder(services, "fake/m", model),
    grouped: new GroupedRecords(store),
  };
}

describe("the records of the calls that end in one turn", () => {
  it("are written together in input order, more than one INSERT's rows included", async () => {
    const { store, records, grouped } = setup();
    const n = 70;
    await Promise.all(
      Array.from({ length: n }, (_, i) =>
        grouped.commit(
          records.success(`k${i}`, request(i), { runId: "run" }, answer(i), "api", 1, i),
        ),
      ),
    );
    const calls = store.llm.calls({ runId: "run" });
    expect(calls.map((c) => c.cacheKey)).toEqual(Array.from({ length: n }, (_, i) => `k${i}`));
    expect(calls[69]?.latencyMs).toBe(69);
    expect(store.llm.cacheStats().entries).toBe(n);
    expect(new ResponseCache(store, "on").get("k5")?.text).toBe("answer 5");
    store.close();
  });

  it("fail only the call whose record cannot be written, leaving no cache entry without its row", async () => {
    const { store, records, grouped } = setup();
    const commits = [0, 1, 2].map((i) =>
      // Call 1 names a run the store does not hold: its row breaks the foreign key.
      grouped.commit(
        records.success(
          `k${i}`,
          request(i),
          { runId: i === 1 ? "no-such-run" : "run" },
          answer(i),
          "api",
          1,
          0,
        ),
      ),
    );
    const settled = await Promise.allSettled(commits);
    expect(settled.map((s) => s.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(store.llm.calls().map((c) => c.cacheKey)).toEqual(["k0", "k2"]);
    expect(store.llm.cacheGet("k1")).toBeUndefined();
    expect(store.llm.cacheStats().entries).toBe(2);
    store.close();
  });
});
