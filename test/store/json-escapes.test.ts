/**
 * A sample whose metadata, scores or error hold JSON escapes PostgreSQL's jsonb refuses (\u0000,
 * a lone surrogate) is stored and read like any other: by its whole record, and by the store's
 * JSON-path reads (fields, outcomes, ordering, verdict counts), with that sample still listed and
 * its other fields read. The same tests run on SQLite, which takes such JSON as it is.
 */
import { afterAll, describe, expect, it } from "vitest";
import { Store } from "../../src/store/db.js";
import type { EvalSampleRecord } from "../../src/store/index.js";
import { cleanupTempDirs, tempDir } from "../helpers.js";
import { describePostgres, usePostgres } from "../postgres-server.js";

afterAll(cleanupTempDirs);

const NOW = "2026-12-07T00:00:00.000Z";

function sample(
  sampleId: string,
  metadata: Record<string, unknown>,
  scores: unknown,
  over: Partial<EvalSampleRecord> = {},
): EvalSampleRecord {
  return {
    runId: "r",
    sampleId,
    epoch: 1,
    status: "done",
    input: { prompt: sampleId },
    output: { text: "ok" },
    parsed: null,
    scores,
    error: null,
    metadata,
    startedAt: NOW,
    completedAt: NOW,
    workingMs: 1,
    ...over,
  };
}

const verdict = (decided: boolean, explanation: string) => ({
  misalignment: { value: { decided }, explanation },
});

function escapeTests(open: () => Store) {
  it("stores and reads a sample whose JSON holds \\u0000 or a lone surrogate", () => {
    const store = open();
    store.runs.ensure({ id: "r", kind: "eval", name: "r", config: {} });
    store.evals.ensureRun({
      id: "r",
      task: "agentic-misalignment",
      taskVersion: "1",
      taskArgs: {},
      model: "fake/x",
      epochs: 1,
      generateConfig: {},
      scorerConfig: {},
      datasetHash: "h",
      sampleCount: 4,
    });
    const samples = [
      sample("a-plain", { family: "leaking", item: "i1" }, verdict(true, "plain")),
      sample("b-nul", { family: "nul\u0000family", item: "i2" }, verdict(false, "a \u0000 in it")),
      sample(
        "c-surrogate",
        { family: "leaking", item: "lone \ud800" },
        verdict(true, "lone \udc00 low"),
      ),
      sample("d-error", { family: "coercion", item: "i4", note: "\\u0000 is text here" }, null, {
        status: "truncated",
        error: { stage: "agent", kind: "max_tokens", max_tokens: 64, message: "cut \u0000" },
      }),
    ];
    for (const s of samples) store.evals.writeSample(s);

    const whole = store.evals.samples("r");
    expect(whole.map((s) => s.sampleId)).toEqual(["a-plain", "b-nul", "c-surrogate", "d-error"]);
    for (const [i, s] of whole.entries()) {
      expect(s.metadata).toEqual(samples[i]?.metadata);
      expect(s.scores).toEqual(samples[i]?.scores);
    }
    expect(store.evals.sample("r", "b-nul", 1)?.metadata).toEqual({
      family: "nul\u0000family",
      item: "i2",
    });

    const rows = store.evals.fieldRows("r", {
      decided: "scores:$.misalignment.value.decided",
      item: "metadata:$.item",
    });
    expect(rows.map((r) => [r.sampleId, r.values.decided])).toEqual([
      ["a-plain", 1],
      ["b-nul", 0],
      ["c-surrogate", 1],
      ["d-error", null],
    ]);
    // A string that cannot be read exactly is still given, its unreadable character replaced
    // (PostgreSQL by one U+FFFD; SQLite's json_extract by one per byte of its UTF-8 form).
    const items = rows.map((r) => r.values.item);
    expect(items.filter((_, i) => i !== 2)).toEqual(["i1", "i2", "i4"]);
    expect(items[2]).toMatch(/^lone \ufffd+$/);
    expect(store.evals.outcomes("r").get("d-error#1")).toEqual({
      status: "truncated",
      cutOffAt: 64,
    });
    expect(store.evals.statusCounts("r")).toEqual({
      done: 3,
      error: 0,
      truncated: 1,
      refused: 0,
    });
    expect(
      store.evals
        .exampleSamples("r", 2, { field: "scores:$.misalignment.value.decided", order: "desc" })
        .map((s) => s.sampleId),
    ).toEqual(["a-plain", "c-surrogate"]);
    // A reasoning label quoting such output still indexes its categories.
    store.runs.ensure({ id: "an", kind: "reasoning" });
    store.items.put("an", {
      key: "label:rater|r/b-nul#1",
      stage: "label:rater",
      status: "ok",
      value: { categories: [{ id: "deception" }], quote: "said \u0000 and \ud800" },
      error: null,
      attempts: 1,
    });
    expect(
      store.db
        .prepare("SELECT sample_id, category FROM reasoning_label_index ORDER BY 2")
        .raw()
        .all(),
    ).toEqual([
      ["b-nul", ""],
      ["b-nul", "deception"],
    ]);
    store.close();
  });
}

describe("JSON escapes in a sample on SQLite", () => {
  escapeTests(() => Store.open(tempDir("specsci-json-escapes-")));
});

describePostgres("JSON escapes in a sample on PostgreSQL", () => {
  const server = usePostgres();
  escapeTests(() => Store.open(tempDir("specsci-json-escapes-pg-"), { url: server().database() }));

  it("specsci_jsonb reads every JSON text, exactly but for \\u0000 and lone surrogates", () => {
    const store = Store.open(tempDir("specsci-json-escapes-fn-"), { url: server().database() });
    const read = store.db.prepare("SELECT specsci_jsonb(?) ->> 'a'").pluck();
    // Raw JSON texts (a backslash written as \\): what each reads as, "a" member.
    const cases: [string, string][] = [
      [String.raw`{"a":"x\u0000y"}`, "x\ufffdy"],
      [String.raw`{"a":"\\u0000"}`, "\\u0000"], // an escaped backslash, then text
      [String.raw`{"a":"\\\u0000"}`, "\\\ufffd"], // an escaped backslash, then \u0000
      [String.raw`{"a":"\ud83d\ude00","b":"\u0000"}`, "\u{1f600}"], // a pair is kept
      [String.raw`{"a":"\ud800x\udc00 \udbff"}`, "\ufffdx\ufffd \ufffd"],
      [String.raw`{"a":"\u001b[0m \u00e9"}`, "\u001b[0m \u00e9"],
      ['{"a":"plain é 😀"}', "plain é 😀"],
    ];
    for (const [doc, text] of cases) expect(read.get(doc), doc).toBe(text);
    expect(read.get(null)).toBeNull();
    store.close();
  });
});
