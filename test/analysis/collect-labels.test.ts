/**
 * collectLabels' two cheaper reads, on an experiment made by the real pipeline (a reasoning
 * analysis with explicit rule ids and misuse claims): the lean form the report counts from, and
 * the read of given transcripts only (the dashboard's agreement reads the human-labelled ones).
 * Each is checked against the whole read.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  collectLabels,
  type RaterLabel,
  summarizeReasoning,
  type TranscriptLabels,
} from "../../src/analysis/reasoning/index.js";
import { setLogLevel } from "../../src/core/log.js";
import { experimentFromSource } from "../../src/experiment/config.js";
import { type ArmAnalysis, armAnalyses } from "../../src/experiment/reasoning.js";
import { buildStages } from "../../src/experiment/stages.js";
import { rulesOf } from "../../src/spec/model.js";
import { cleanupTempDirs } from "../helpers.js";
import { workspaceWith } from "../view/fixture.js";
import { LABELLED } from "../view/labelled-fixture.js";

let ws: Awaited<ReturnType<typeof workspaceWith>>;
let analyses: ArmAnalysis[];

beforeAll(async () => {
  setLogLevel("quiet");
  ws = await workspaceWith(LABELLED);
  const record = ws.store.runs.get("experiment-labelled")?.config as {
    file: string;
    source: string;
  };
  const loaded = experimentFromSource(record.source, record.file);
  analyses = armAnalyses(loaded, await buildStages(loaded, ws.client), ws.store);
});
afterAll(() => {
  ws?.store.close();
  cleanupTempDirs();
});

/** A whole read's item as the lean read gives it: no quotes, no explicit mention's sentence. */
const withoutQuotes = (i: TranscriptLabels): TranscriptLabels => ({
  ...i,
  explicit: i.explicit.map((m) => ({ ...m, quote: "" })),
  misuse: i.misuse.map((m) => ({ ...m, quotes: [] })),
  labels: Object.fromEntries(
    Object.entries(i.labels).map(([rater, l]): [string, RaterLabel] => [
      rater,
      l.status === "ok"
        ? {
            status: "ok",
            value: {
              categories: l.value.categories.map((c) => ({ id: c.id, quotes: [] })),
              rules: l.value.rules.map((r) => ({ rule: r.rule, quotes: [] })),
              misuse: l.value.misuse.map((m) => ({ ...m, quotes: [] })),
            },
          }
        : l,
    ]),
  ),
});

describe("collectLabels", () => {
  it("lean: the same ids, claims and checks as the whole read, without quotes, equal labels shared", () => {
    expect(analyses.length).toBe(2);
    for (const a of analyses) {
      const whole = collectLabels(ws.store, a.runIds, a.options);
      const lean = collectLabels(ws.store, a.runIds, a.options, { lean: true });
      expect(whole.items.length).toBeGreaterThan(0);
      expect(whole.items.some((i) => i.explicit.length && i.explicit[0]?.quote)).toBe(true);
      expect(whole.items.some((i) => i.misuse.length)).toBe(true);
      expect(lean.items).toEqual(whole.items.map(withoutQuotes));
      expect({ ...lean, items: [] }).toEqual({ ...whole, items: [] });
      const ruleIds = a.options.spec ? rulesOf(a.options.spec.spec).map((r) => r.id) : [];
      expect(summarizeReasoning(lean.items, lean.taxonomy, ruleIds, lean.primary)).toEqual(
        summarizeReasoning(whole.items, whole.taxonomy, ruleIds, whole.primary),
      );
      // Items without claims whose labels have the same ids hold one labels object.
      const plain = lean.items.filter((i) => !i.misuse.length);
      const ids = (i: TranscriptLabels) => JSON.stringify(i.labels);
      expect(new Set(plain.map((i) => i.labels)).size).toBe(new Set(plain.map(ids)).size);
    }
  });

  it("only: the given transcripts' labels, as the whole read gives them; keys of other runs and missing ones left out", () => {
    const [a, b] = analyses as [ArmAnalysis, ArmAnalysis];
    const whole = collectLabels(ws.store, a.runIds, a.options);
    const wanted = whole.items.filter((_, n) => n % 2 === 0);
    const other = collectLabels(ws.store, b.runIds, b.options).items[0] as TranscriptLabels;
    const only = [
      ...wanted.map((i) => ({ runId: i.runId, sampleId: i.sampleId, epoch: i.epoch })),
      { runId: other.runId, sampleId: other.sampleId, epoch: other.epoch },
      { runId: a.runIds[0] as string, sampleId: "no-such-sample", epoch: 1 },
    ];
    const some = collectLabels(ws.store, a.runIds, a.options, { only: only.reverse() });
    expect(some.items).toEqual(wanted);
    expect(some.failedSamples).toBe(0);
    expect(collectLabels(ws.store, a.runIds, a.options, { only: [] }).items).toEqual([]);
  });
});
