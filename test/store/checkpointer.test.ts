/**
 * A SQLite store that takes grouped writes checkpoints its WAL on a worker thread: the pages
 * reach the database file while the writer is idle (its own autocheckpoint would wait for 1,000
 * pages of WAL), and closing the store stops the worker and removes the WAL.
 */
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Store } from "../../src/store/db.js";
import { cleanupTempDirs, tempDir } from "../helpers.js";

afterAll(cleanupTempDirs);

const until = async (done: () => boolean, ms: number) => {
  for (const end = Date.now() + ms; !done() && Date.now() < end; )
    await new Promise((r) => setTimeout(r, 20));
};

describe("checkpoints of a store's grouped writes", () => {
  it("copy the WAL into the database off the writer's thread, and close cleanly", async () => {
    const dir = tempDir("specsci-checkpointer-");
    const store = Store.open(dir);
    const file = join(dir, "store.db");
    const before = statSync(file).size;
    // ~1 MB in 40 texts: 250 pages of WAL, under SQLite's 1,000-page autocheckpoint.
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        store.txGrouped(() => store.texts.put(`${i} ${"x".repeat(25_000)}`)),
      ),
    );
    await until(() => statSync(file).size > before + 900_000, 3000);
    expect(statSync(file).size).toBeGreaterThan(before + 900_000);
    store.close();
    expect(existsSync(`${file}-wal`)).toBe(false);
    const again = Store.open(dir);
    expect(again.texts.get(again.texts.put(`7 ${"x".repeat(25_000)}`))).toHaveLength(25_002);
    again.close();
  });

  it("stops at once when the store closes right after its first grouped write", async () => {
    const store = Store.open(tempDir("specsci-checkpointer-"));
    await store.txGrouped(() => store.texts.put("one"));
    const t0 = Date.now();
    store.close();
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});
