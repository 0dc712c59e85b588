/** Errors a user can cause end in one clear message and a non-zero exit, never an internal error. */
import { randomBytes } from "node:crypto";
import { closeSync, openSync, readFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { EXIT_USER_ERROR } from "../../src/cli/exit-codes.js";
import { cleanupTempDirs, runCli, tempDir } from "../helpers.js";

afterAll(cleanupTempDirs);

/** A fresh workspace's store with `bytes` random bytes written at `offset`. */
async function damagedStore(offset: number, bytes: number): Promise<{ cwd: string; db: string }> {
  const cwd = tempDir("specsci-damaged-");
  expect((await runCli(["store", "info"], { cwd })).code).toBe(0);
  const db = join(cwd, ".specsci", "store.db");
  const fd = openSync(db, "r+");
  writeSync(fd, randomBytes(bytes), 0, bytes, offset);
  closeSync(fd);
  return { cwd, db };
}

describe("a damaged run store", () => {
  it("is reported as damaged, with SQLite's message and how to recover, and left untouched", async () => {
    // Every page after the header page: the schema is readable, the tables are not.
    const { cwd, db } = await damagedStore(4096, 64 * 1024);
    const before = readFileSync(db);
    for (const args of [["store", "check"], ["store", "info"], ["usage"], ["eval", "list"]]) {
      const r = await runCli(args, { cwd });
      expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(EXIT_USER_ERROR);
      expect(r.stderr).toContain(`the run store ${db} is damaged:`);
      expect(r.stderr).toMatch(/malformed|corrupt|not a database/i);
      expect(r.stderr).toContain(`sqlite3 '${db}' .recover | sqlite3 '${db}.recovered'`);
      expect(r.stderr).not.toMatch(/internal error|this is a bug/);
    }
    expect(readFileSync(db).equals(before)).toBe(true);
  });

  it("is reported as damaged when its header is garbage too", async () => {
    const { cwd, db } = await damagedStore(0, 100);
    const before = readFileSync(db);
    const r = await runCli(["store", "check"], { cwd });
    expect(r.code).toBe(EXIT_USER_ERROR);
    expect(r.stderr).toContain(`the run store ${db} is damaged: file is not a database`);
    expect(readFileSync(db).equals(before)).toBe(true);
  });
});
