import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { annotationTaxonomy } from "../../src/analysis/annotations/index.js";
import { builtinTaxonomy } from "../../src/analysis/reasoning/index.js";
import { Store } from "../../src/store/db.js";
import type { AnnotationInput } from "../../src/store/index.js";
import { FakeLlmServer } from "../fakes/llm-server.js";
import { PLANTED_TRANSCRIPTS, plantRun } from "../fakes/planted-run.js";
import { cleanupTempDirs, runCli, tempDir } from "../helpers.js";

let server: FakeLlmServer;
let cwd: string;

const label = (o: Partial<AnnotationInput>): AnnotationInput => ({
  runId: "eval-planted",
  sampleId: "s0",
  epoch: 1,
  annotator: "ana",
  misaligned: "yes",
  categories: [],
  policyMisuse: "no",
  ...o,
});

beforeAll(async () => {
  server = await new FakeLlmServer({ latencyMs: 1, record: false }).start();
  cwd = tempDir("specsci-annotate-cli-");
  writeFileSync(
    join(cwd, "specsci.yaml"),
    `endpoints: { loop: { base_url: "${server.url}/v1", max_in_flight: 8 } }\ndefaults: { max_attempts: 2, retry_base_ms: 1 }\n`,
  );
  const store = Store.open(join(cwd, "ws"));
  plantRun(store, "eval-planted", PLANTED_TRANSCRIPTS, 1);
  const pick = annotationTaxonomy(builtinTaxonomy());
  store.annotations.put(label({ categories: ["self_preservation"] }), pick);
  store.annotations.put(label({ sampleId: "s1", categories: ["respect_for_oversight"] }), pick);
  store.annotations.put(label({ sampleId: "s3", policyMisuse: "unsure" }), pick);
  store.close();
});
afterAll(async () => {
  await server.stop();
  cleanupTempDirs();
});

const cli = (...args: string[]) => runCli(["--workspace", "ws", ...args], { cwd });

describe("specsci annotate export", () => {
  it("writes the labels analyze reasoning --human reads, and says what it left out", async () => {
    const r = await cli("annotate", "export", "-o", "human.jsonl");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(
      "1 label(s) not written: unsure about policy misuse, which the taxonomy has as a category",
    );
    expect(readFileSync(join(cwd, "human.jsonl"), "utf8")).toBe(
      `${JSON.stringify({ run: "eval-planted", sample: "s0", epoch: 1, categories: ["self_preservation"] })}\n${JSON.stringify({ run: "eval-planted", sample: "s1", epoch: 1, categories: ["respect_for_oversight"] })}\n`,
    );
    const a = await cli(
      "--json",
      "analyze",
      "reasoning",
      "eval-planted",
      "--labeller",
      "loop/labeller",
      "--human",
      "human.jsonl",
    );
    // One planted transcript never gets a valid label (exit 3); the human labels are read.
    expect(a.code, a.stderr).toBe(3);
    expect(JSON.parse(a.stdout).human).toMatchObject({ n: 2, unmatched: 0 });

    const out = await cli("annotate", "export", "eval-planted");
    expect(out.stdout).toBe(readFileSync(join(cwd, "human.jsonl"), "utf8"));
  });

  it("refuses two people's labels of one transcript unless one is chosen", async () => {
    const store = Store.open(join(cwd, "ws"));
    store.annotations.put(label({ annotator: "ben" }), annotationTaxonomy(builtinTaxonomy()));
    store.close();
    const r = await cli("annotate", "export", "-o", "both.jsonl");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("eval-planted/s0 (epoch 1) is labelled by ana and by ben");
    expect(r.stderr).toContain("give the annotator");
    const ben = await cli("--json", "annotate", "export", "--annotator", "ben");
    expect(ben.code, ben.stderr).toBe(0);
    expect(JSON.parse(ben.stdout)).toEqual({
      file: null,
      count: 1,
      skipped: { otherTaxonomy: 0, stale: 0, policyMisuseUnsure: 0 },
      lines: [{ run: "eval-planted", sample: "s0", epoch: 1, categories: [] }],
    });
  });
});
