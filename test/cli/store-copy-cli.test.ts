/**
 * `specsci store copy` end to end: a workspace to PostgreSQL (--json) and back (the table of
 * checks), a refusal with its exit code, and no password in anything printed.
 */
import { spawn } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { Store } from "../../src/store/db.js";
import { BIN, cleanupTempDirs, runCli, tempDir } from "../helpers.js";
import { describePostgres, usePostgres } from "../postgres-server.js";
import { fillStore } from "../store/varied-store.js";

afterAll(cleanupTempDirs);

it("leaves DST empty when the copy is killed mid-way, and a second copy completes", async () => {
  const cwd = tempDir();
  const ws = join(cwd, "ws");
  const store = Store.open(ws, { url: "" });
  fillStore(store);
  // About 40 MB of answers: long enough to be caught writing.
  const text = "word ".repeat(4000);
  store.db.transaction(() => {
    for (let i = 0; i < 2000; i++)
      store.evals.writeSample({
        ...(store.evals.sample("run-a", "s0", 1) as NonNullable<
          ReturnType<typeof store.evals.sample>
        >),
        sampleId: `bulk-${i}`,
        output: { text: `${i} ${text}`, reasoning: null },
      });
  })();
  store.close();
  const dst = join(cwd, "dst");
  const child = spawn(process.execPath, [BIN, "store", "copy", ws, dst], { stdio: "ignore" });
  let exit: number | null | undefined;
  const closed = new Promise<void>((r) =>
    child.on("close", (code) => {
      exit = code;
      r();
    }),
  );
  // Killed once the copy's transaction has written to DST's WAL, well before it could finish.
  const wal = join(dst, "store.db-wal");
  while (exit === undefined && !(existsSync(wal) && statSync(wal).size > 4_000_000))
    await new Promise((r) => setTimeout(r, 10));
  expect(exit, "the copy ended before it was killed").toBeUndefined();
  child.kill("SIGKILL");
  await closed;
  const after = Store.open(dst, { url: "" });
  expect(after.db.prepare("SELECT count(*) FROM eval_samples").pluck().get()).toBe(0);
  expect(after.db.prepare("SELECT count(*) FROM runs").pluck().get()).toBe(0);
  after.close();
  const again = await runCli(["store", "copy", ws, dst, "--json"], { cwd });
  expect(again.code, again.stderr).toBe(0);
  expect(JSON.parse(again.stdout).ok).toBe(true);
}, 120_000);

describePostgres("specsci store copy", () => {
  const server = usePostgres();

  it("copies a workspace to PostgreSQL and back, prints the checks, refuses a non-empty DST", async () => {
    const cwd = tempDir();
    const ws = join(cwd, "ws");
    const store = Store.open(ws, { url: "" });
    fillStore(store);
    store.close();
    const url = server().database().replace("postgres@", "postgres:pw-never-shown-7@");
    // The command line names both stores: SPECSCI_STORE_URL does not redirect the workspace.
    const env = { SPECSCI_STORE_URL: "postgres://nobody@127.0.0.1:1/none" };
    const there = await runCli(["store", "copy", ws, url, "--json"], { cwd, env });
    expect(there.code, there.stderr).toBe(0);
    const report = JSON.parse(there.stdout);
    expect(report).toMatchObject({ committed: true, ok: true, source: ws });
    expect(report.destination).toContain("postgres:***@");
    expect(report.tables.find((t: { table: string }) => t.table === "llm_calls")).toMatchObject({
      source_rows: 2,
      destination_rows: 2,
      ok: true,
    });
    expect(there.stderr).toContain("  eval_samples: 6 rows");

    const back = join(cwd, "back");
    const home = await runCli(["store", "copy", url, back], { cwd, env });
    expect(home.code, home.stderr).toBe(0);
    expect(home.stdout).toMatch(/^table\s+rows\s+DST rows\s+hash\s+DST hash\s+check/);
    expect(home.stdout).toMatch(
      /reasoning_label_index \(kept by triggers\)\s+3\s+3\s+[0-9a-f]{16}\s+[0-9a-f]{16}\s+ok/,
    );
    expect(home.stdout).toMatch(
      /copied \d+ rows from postgresql:\/\/postgres:\*\*\*@.* to .*back in [\d.]+ s: every table checks out\n$/,
    );

    const again = await runCli(["store", "copy", ws, back], { cwd, env });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(
      /DST .*back is not empty \(.*\); store copy writes only into an empty store/,
    );
    expect(again.stderr).toContain("--replace");
    for (const out of [there, home, again])
      expect(out.stdout + out.stderr).not.toContain("pw-never");
  }, 120_000);
});
