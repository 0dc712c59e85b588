import { afterAll, describe, expect, it } from "vitest";
import { cleanupTempDirs, runCli, tempDir } from "../helpers.js";

afterAll(cleanupTempDirs);

describe("specsci stats power", () => {
  const cwd = tempDir("specsci-stats-");

  it("accepts a rate of 0 or 1", async () => {
    const r = await runCli(["--json", "stats", "power", "--p1", "0.1", "--p2", "0"], { cwd });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ p1: 0.1, p2: 0, perArm: 38 });
    const one = await runCli(["stats", "power", "--p1", "1", "--p2", "0.9"], { cwd });
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout).toMatch(/^\d+ samples per arm/);
  });

  it.each([
    [
      ["--p1", "1.5", "--p2", "0.1"],
      /--p1 <p>' argument '1.5' is invalid\. expected a rate between 0 and 1/,
    ],
    [["--p1", "0.2", "--p2", "-0.1"], /--p2 <p>' argument '-0.1' is invalid/],
    [["--p1", "0.2", "--p2", "x"], /--p2 <p>' argument 'x' is invalid/],
    [["--p1", "0.2", "--p2", "0.1", "--alpha", "0"], /--alpha <a>' argument '0' is invalid/],
    [
      ["--p1", "0.2", "--p2", "0.1", "--alpha", "0.5", "--power", "0.4"],
      /--power 0.4 must be more than --alpha 0.5/,
    ],
  ])("refuses %j with a clear message", async (args, message) => {
    const r = await runCli(["stats", "power", ...args], { cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
  });
});
