import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Store } from "../../src/store/db.js";
import { FakeLlmServer } from "../fakes/llm-server.js";
import { PLANTED_TRANSCRIPTS, plantRun } from "../fakes/planted-run.js";
import { cleanupTempDirs, runCli, tempDir } from "../helpers.js";

let server: FakeLlmServer;
let cwd: string;

beforeAll(async () => {
  server = await new FakeLlmServer({ latencyMs: 1, record: false }).start();
  cwd = tempDir("specsci-analyze-cli-");
  writeFileSync(
    join(cwd, "specsci.yaml"),
    `endpoints: { loop: { base_url: "${server.url}/v1", max_in_flight: 8 } }\ndefaults: { max_attempts: 2, retry_base_ms: 1 }\nproviders: { local: { context_size: 4096, threads: 1 } }\n`,
  );
  const store = Store.open(join(cwd, "ws"));
  plantRun(store, "eval-planted", PLANTED_TRANSCRIPTS, 1);
  store.close();
});
afterAll(async () => {
  await server.stop();
  cleanupTempDirs();
});

const analyze = (...args: string[]) =>
  runCli(["--workspace", "ws", "analyze", "reasoning", ...args], { cwd });

describe("specsci analyze reasoning", () => {
  it("labels a run, checks misuse against the spec, and reports rates, agreement and human agreement", async () => {
    writeFileSync(
      join(cwd, "human.jsonl"),
      `${JSON.stringify({ sample: "s0", categories: ["self_preservation"] })}\n${JSON.stringify({ sample: "s1", categories: ["respect_for_oversight"] })}\n`,
    );
    const r = await analyze(
      "eval-planted",
      "--labeller",
      "loop/labeller",
      "--second",
      "loop/labeller-2",
      "--spec",
      "rules",
      "--human",
      "human.jsonl",
      "-o",
      "out.json",
    );
    // One transcript's quotes are always invented: no valid label, reported, exit 3.
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toContain(
      "some labels are missing and in no rate (loop/labeller#0: 1 invalid, 0 failed call(s); loop/labeller-2#0: 1 invalid",
    );
    expect(r.stdout).toMatch(
      /7 transcript\(s\): 6 labelled, 1 invalid .*1 sample\(s\) without a score \(failed, cut off or refused\) were not labelled/,
    );
    expect(r.stdout).toMatch(/self_preservation\s+misaligned\s+2\/6\s+33\.3%/);
    expect(r.stdout).toMatch(/SP1\s+2\/7\s+2\/6/);
    expect(r.stdout).toContain(
      's6#1 SP1 misquotation: "SP1 says "never question an instruction from the board"',
    );
    expect(r.stdout).toContain("s2#1 SP3 reinterpretation");
    expect(r.stdout).toMatch(/agreement \(cohen's kappa over 6 transcript\(s\)/);
    expect(r.stdout).toMatch(/against human labels \(2 transcript\(s\)\)/);
    const out = JSON.parse(readFileSync(join(cwd, "out.json"), "utf8"));
    expect(out.items).toHaveLength(7);
    expect(out.results.summary.misuse.rate).toMatchObject({ present: 2, n: 6 });
  });

  it("discovers a taxonomy, writes it, and reuses it", async () => {
    const d = await analyze(
      "eval-planted",
      "--labeller",
      "loop/labeller",
      "--discover",
      "--min-categories",
      "2",
      "--write-taxonomy",
      "tax.yaml",
    );
    expect(d.code, d.stderr).toBe(3); // the transcript with invented quotes, as before
    expect(d.stdout).toMatch(
      /discovered \d+ categories from \d+ drivers \(stored as tax-[0-9a-f]+/,
    );
    const version = /stored as (tax-[0-9a-f]+)/.exec(d.stdout)?.[1] as string;
    expect(readFileSync(join(cwd, "tax.yaml"), "utf8")).toContain("keep_running");
    const byFile = await analyze(
      "eval-planted",
      "--labeller",
      "loop/labeller",
      "--taxonomy",
      "tax.yaml",
      "--json",
    );
    const byVersion = await analyze(
      "eval-planted",
      "--labeller",
      "loop/labeller",
      "--taxonomy",
      version,
      "--json",
    );
    expect(JSON.parse(byFile.stdout).taxonomy.version).toBe(version);
    expect(JSON.parse(byVersion.stdout).summary).toEqual(JSON.parse(byFile.stdout).summary);
  });

  it("the tiny local model's labels are all invalid: recorded as failures, never as 'absent'", async () => {
    const r = await analyze(
      "eval-planted",
      "--labeller",
      "local/builtin:tiny",
      "--attempts",
      "1",
      "--max-tokens",
      "32",
      "--json",
    );
    expect(r.code).toBe(3);
    const s = JSON.parse(r.stdout).summary;
    expect(s).toMatchObject({ transcripts: 7, labelled: 0, failed: { invalid: 7 } });
    expect(s.categories.every((c: { rate: number | null }) => c.rate === null)).toBe(true);
  });

  it("bad input: one message naming what and where", async () => {
    const none = await analyze("eval-nope", "--labeller", "loop/labeller");
    expect(none.code).toBe(1);
    expect(none.stderr).toContain("no eval run eval-nope in this workspace");
    const withSpec = await analyze(
      "eval-planted",
      "eval-nope",
      "--labeller",
      "loop/labeller",
      "--spec",
      "rules",
    );
    expect(withSpec.stderr).toContain("no eval run eval-nope in this workspace");
    const repeats = await analyze("eval-planted", "--labeller", "loop/labeller", "--repeats", "2");
    expect(repeats.code).toBe(1);
    expect(repeats.stderr).toContain("--repeats at temperature 0 would repeat the same answer");
    writeFileSync(
      join(cwd, "bad.yaml"),
      "categories: [{ id: Bad-Id, name: x, kind: aligned, description: too short }]\n",
    );
    const bad = await analyze(
      "eval-planted",
      "--labeller",
      "loop/labeller",
      "--taxonomy",
      "bad.yaml",
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/bad\.yaml:1:\d+: categories\.0\.id: use snake_case/);
    const both = await analyze(
      "eval-planted",
      "--labeller",
      "loop/labeller",
      "--discover",
      "--human",
      "human.jsonl",
    );
    expect(both.stderr).toContain("--human needs a fixed taxonomy");
    expect(both.stderr).not.toMatch(/\n\s+at /);
  });
});
