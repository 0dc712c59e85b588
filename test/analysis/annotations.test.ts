import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  annotationAgreement,
  annotationQueue,
  annotationTaxonomy,
  exportHumanLabels,
  humanCategories,
  judgeHumanAgreement,
  labellerHumanAgreement,
  type QueueOptions,
} from "../../src/analysis/annotations/index.js";
import {
  builtinTaxonomy,
  labelRuns,
  loadHumanLabels,
  type ReasoningOptions,
  reasoningResults,
} from "../../src/analysis/reasoning/index.js";
import { cohenKappa, cohenKappaInterval } from "../../src/core/statistics/agreement.js";
import { agenticMisalignmentTask } from "../../src/evals/am/task.js";
import { judgeOptions } from "../../src/evals/judge.js";
import { runEval } from "../../src/evals/runner.js";
import { registerFakeModel } from "../../src/llm/providers/fake.js";
import { specHash } from "../../src/spec/hash.js";
import { checkSpecFile } from "../../src/spec/io.js";
import { resolveSpecRef } from "../../src/spec/library.js";
import type { AnnotationInput, Store } from "../../src/store/index.js";
import { registerAmFakes } from "../fakes/am-models.js";
import { PLANTED_TRANSCRIPTS, plantRun } from "../fakes/planted-run.js";
import { fakeReasoningAnswer } from "../fakes/reasoning-labeller.js";
import { cleanupTempDirs, makeClient, tempDir } from "../helpers.js";

afterAll(cleanupTempDirs);
registerAmFakes();
beforeAll(() =>
  registerFakeModel("annot-labeller", (req) =>
    fakeReasoningAnswer(req.messages.at(-1)?.content ?? ""),
  ),
);

const TAXONOMY = builtinTaxonomy();
const PICK = annotationTaxonomy(TAXONOMY);
const rules = checkSpecFile(resolveSpecRef("rules")).spec;
const SPEC = { name: "rules", hash: specHash(rules), spec: rules };

// fake/am-agent takes the harmful action exactly where the scenario states a goal: 3 of these 4.
const FOUR = [
  "leaking_explicit-america_replacement",
  "leaking_none-none_replacement",
  "lethal-inaction_explicit-safety_replacement",
  "coercion_explicit-ethical_restriction",
];
const ALIGNED = "leaking_none-none_replacement";

/** An AM run made by the real pipeline (fake agent and judge), its id. */
async function amRun(
  client: ReturnType<typeof makeClient>["client"],
  conditions: string[],
  epochs: number,
) {
  const task = agenticMisalignmentTask({ conditions }, judgeOptions(client.model("fake/am-judge")));
  return (await runEval({ client, task, modelId: "fake/am-agent", epochs })).runId;
}

const put = (store: Store, o: Partial<AnnotationInput> & { runId: string; sampleId: string }) =>
  store.annotations.put(
    { epoch: 1, annotator: "ana", misaligned: "no", categories: [], policyMisuse: "no", ...o },
    PICK,
  );

describe("judge against human", () => {
  it("kappa with its interval, the confusion counts, and every label left out counted by why", async () => {
    const { client, store } = makeClient();
    const run = await amRun(client, FOUR, 3);
    plantRun(store, "unjudged", ["an answer no judge scored"]);
    const [mis, al] = [FOUR[0] as string, ALIGNED];
    // Judge yes: human yes ×4, no ×1. Judge no: human no ×2, yes ×1.
    put(store, { runId: run, sampleId: mis, epoch: 1, misaligned: "yes" });
    put(store, { runId: run, sampleId: mis, epoch: 2, misaligned: "yes" });
    put(store, { runId: run, sampleId: mis, epoch: 3, misaligned: "yes" });
    put(store, { runId: run, sampleId: FOUR[2] as string, epoch: 1, misaligned: "yes" });
    put(store, { runId: run, sampleId: FOUR[3] as string, epoch: 1, misaligned: "no" });
    put(store, { runId: run, sampleId: al, epoch: 1, misaligned: "no" });
    put(store, { runId: run, sampleId: al, epoch: 2, misaligned: "no" });
    put(store, { runId: run, sampleId: al, epoch: 3, misaligned: "yes" });
    // Left out: unsure; no verdict; a label whose answer was replaced; withdrawn; another person.
    put(store, { runId: run, sampleId: FOUR[2] as string, epoch: 2, misaligned: "unsure" });
    put(store, { runId: "unjudged", sampleId: "s0", misaligned: "yes" });
    put(store, { runId: run, sampleId: FOUR[3] as string, epoch: 2, misaligned: "yes" });
    const [replaced] = store.evals.samples(run, [FOUR[3] as string]).filter((s) => s.epoch === 2);
    store.tx(() =>
      store.evals.writeSample({
        ...(replaced as NonNullable<typeof replaced>),
        completedAt: "2999-01-01T00:00:00.000Z",
      }),
    );
    put(store, { runId: run, sampleId: FOUR[3] as string, epoch: 3, misaligned: "yes" });
    store.annotations.delete({
      runId: run,
      sampleId: FOUR[3] as string,
      epoch: 3,
      annotator: "ana",
    });
    put(store, { runId: run, sampleId: mis, epoch: 1, misaligned: "no", annotator: "ben" });

    const a = judgeHumanAgreement(store, [run, "unjudged"], "ana");
    expect(a).toMatchObject({
      annotator: "ana",
      n: 8,
      excluded: { unsure: 1, noVerdict: 1, stale: 1 },
      confusion: { tp: 4, fp: 1, fn: 1, tn: 2, precision: 0.8, recall: 0.8 },
    });
    // pₒ = 6/8, pₑ = (5/8)² + (3/8)² = 34/64: κ = (48 − 34)/(64 − 34) = 7/15.
    expect(a.kappa).toBeCloseTo(7 / 15, 12);
    const judge = [true, true, true, true, true, false, false, false];
    const human = [true, true, true, true, false, false, false, true];
    expect(a.interval).toEqual(cohenKappaInterval(cohenKappa(judge, human, [true, false])));
    expect(a.interval?.ci[0]).toBeLessThan(7 / 15);

    const all = annotationAgreement(store, { runIds: [run] });
    expect(all.map((x) => [x.annotator, x.judge.n, x.labeller])).toEqual([
      ["ana", 8, null],
      ["ben", 1, null],
    ]);
    // Nobody's labels: n 0 and no kappa, not an error.
    expect(judgeHumanAgreement(store, [run], "carl")).toMatchObject({
      n: 0,
      kappa: null,
      interval: null,
    });
  });
});

describe("labeller against human, and the JSONL analyze reasoning --human reads", () => {
  const setup = async () => {
    const { client, store } = makeClient();
    plantRun(store, "planted", PLANTED_TRANSCRIPTS, 1);
    const options: ReasoningOptions = {
      labellers: ["fake/annot-labeller"],
      repeats: 1,
      attempts: 2,
      temperature: 0,
      maxTokens: 2000,
      concurrency: 2,
      taxonomy: TAXONOMY,
      spec: SPEC,
    };
    const labelled = await labelRuns(client, ["planted"], options);
    const p = (sampleId: string, categories: string[], policyMisuse: "yes" | "no" | "unsure") =>
      put(store, { runId: "planted", sampleId, categories, policyMisuse });
    // The labeller (fake): s0 no_alternatives + self_preservation; s1 respect_for_oversight +
    // legitimate_escalation; s2 self_preservation + policy_misuse; s5's label is invalid.
    p("s0", ["self_preservation"], "no");
    p("s1", ["legitimate_escalation", "respect_for_oversight"], "no");
    p("s2", ["self_preservation"], "yes");
    p("s5", ["self_preservation"], "no");
    p("f0", [], "no");
    return { store, labelled };
  };

  it("exports lines loadHumanLabels reads back as the same labels, and the file and the store agree", async () => {
    const { store, labelled } = await setup();
    const file = join(tempDir(), "human.jsonl");
    const out = await exportHumanLabels(store, file, { runIds: ["planted"], taxonomy: TAXONOMY });
    const back = loadHumanLabels(file, TAXONOMY);
    expect(back).toEqual(out.lines);
    expect(back).toEqual(
      store.annotations.list({ runIds: ["planted"] }).map((a) => ({
        run: "planted",
        sample: a.sampleId,
        epoch: 1,
        categories: humanCategories(a, TAXONOMY),
      })),
    );
    expect(back.find((l) => l.sample === "s2")?.categories).toEqual([
      "self_preservation",
      "policy_misuse",
    ]);
    expect(out.skipped).toEqual({ otherTaxonomy: 0, stale: 0, policyMisuseUnsure: 0 });

    // What `analyze reasoning --human FILE` computes equals what the store's labels give.
    const fromFile = reasoningResults(labelled, SPEC, back).human;
    const fromStore = labellerHumanAgreement(store, labelled, "ana");
    expect(fromStore).toMatchObject({ n: 3, unmatched: 1, excluded: { unlabelled: 1 } });
    expect(fromFile).toMatchObject({ n: 3, unmatched: 1 });
    expect(fromStore.categories).toEqual(fromFile?.categories);
    const cat = (id: string) => fromStore.categories.find((c) => c.id === id);
    expect(cat("self_preservation")).toMatchObject({ n: 3, tp: 2, fp: 0, fn: 0, tn: 1, kappa: 1 });
    expect(cat("no_alternatives")).toMatchObject({ tp: 0, fp: 1, fn: 0, tn: 2, precision: 0 });
    expect(cat("policy_misuse")).toMatchObject({ n: 3, tp: 1, tn: 2 });
    expect(cat("no_alternatives")?.interval).toEqual(
      cohenKappaInterval(cohenKappa([true, false, false], [false, false, false])),
    );
  });

  it("leaves out what cannot be compared, counted: unsure policy misuse, another taxonomy, a replaced answer", async () => {
    const { store, labelled } = await setup();
    put(store, { runId: "planted", sampleId: "s3", categories: [], policyMisuse: "unsure" });
    store.annotations.put(
      {
        runId: "planted",
        sampleId: "s4",
        epoch: 1,
        annotator: "ana",
        misaligned: "no",
        categories: ["other_thing"],
        policyMisuse: "no",
      },
      { version: "tax-other", categories: [{ id: "other_thing" }] },
    );
    const a = labellerHumanAgreement(store, labelled, "ana");
    expect(a.excluded).toEqual({
      otherTaxonomy: 1,
      stale: 0,
      unlabelled: 1,
      policyMisuseUnsure: 1,
    });
    // s3 counts for every category but policy misuse.
    expect(a.categories.find((c) => c.id === "self_preservation")?.n).toBe(4);
    expect(a.categories.find((c) => c.id === "policy_misuse")?.n).toBe(3);
    expect(a.categories.map((c) => c.id)).toEqual(TAXONOMY.categories.map((c) => c.id));

    const file = join(tempDir(), "human.jsonl");
    const out = await exportHumanLabels(store, file, { runIds: ["planted"], taxonomy: TAXONOMY });
    expect(out.skipped).toEqual({ otherTaxonomy: 1, stale: 0, policyMisuseUnsure: 1 });
    expect(loadHumanLabels(file, TAXONOMY).map((l) => l.sample)).toEqual([
      "f0",
      "s0",
      "s1",
      "s2",
      "s5",
    ]);
    expect(annotationAgreement(store, { runIds: ["planted"], labelled })[0]?.labeller?.n).toBe(4);
  });

  it("refuses to export two people's labels of one transcript together; one person's is fine", async () => {
    const { store } = await setup();
    put(store, { runId: "planted", sampleId: "s0", annotator: "ben" });
    const file = join(tempDir(), "human.jsonl");
    await expect(
      exportHumanLabels(store, file, { runIds: ["planted"], taxonomy: TAXONOMY }),
    ).rejects.toThrow(/planted\/s0 \(epoch 1\) is labelled by ana and by ben/);
    const ben = await exportHumanLabels(store, file, {
      runIds: ["planted"],
      taxonomy: TAXONOMY,
      annotator: "ben",
    });
    expect(ben.lines).toEqual([{ run: "planted", sample: "s0", epoch: 1, categories: [] }]);
  });

  it("policy misuse is asked on its own, not picked as a category", async () => {
    const { store } = await setup();
    expect(PICK.version).toBe(TAXONOMY.version);
    expect(PICK.categories.map((c) => c.id)).not.toContain("policy_misuse");
    expect(() =>
      put(store, { runId: "planted", sampleId: "s1", categories: ["policy_misuse"] }),
    ).toThrow(/"policy_misuse" is not a category of taxonomy/);
  });
});

describe("the annotation queue", () => {
  const setup = async () => {
    const { client, store } = makeClient();
    // Arm a: 15 misaligned, 5 aligned; arm b: 5 and 5.
    const a = await amRun(client, FOUR, 5);
    const b = await amRun(client, [ALIGNED, FOUR[3] as string], 5);
    const runs = [
      { runId: a, arm: "a" },
      { runId: b, arm: "b" },
    ];
    const q = (o: Partial<QueueOptions> = {}) =>
      annotationQueue(store, { runs, annotator: "ana", seed: 7, limit: 100, ...o });
    return { store, a, b, runs, q };
  };
  const counts = (items: { stratum: string }[]) => {
    const c: Record<string, number> = {};
    for (const i of items) c[i.stratum] = (c[i.stratum] ?? 0) + 1;
    return c;
  };
  const label = (store: Store, items: { runId: string; sampleId: string; epoch: number }[]) => {
    for (const i of items)
      put(store, { runId: i.runId, sampleId: i.sampleId, epoch: i.epoch, misaligned: "yes" });
  };

  it("takes the strata in turns, in a seeded order that stays put as labels come in", async () => {
    const { store, q } = await setup();
    const first = q();
    expect(first.remaining).toBe(30);
    expect(first.strata).toEqual([
      { stratum: "a × aligned", labelled: 0, remaining: 5 },
      { stratum: "a × misaligned", labelled: 0, remaining: 15 },
      { stratum: "b × aligned", labelled: 0, remaining: 5 },
      { stratum: "b × misaligned", labelled: 0, remaining: 5 },
    ]);
    // Equal allocation: every 4 in a row hold one of each stratum while all four last.
    for (let k = 0; k < 5; k++)
      expect(Object.values(counts(first.items.slice(4 * k, 4 * k + 4)))).toEqual([1, 1, 1, 1]);
    expect(first.items.slice(20).every((i) => i.stratum === "a × misaligned")).toBe(true);
    expect(q()).toEqual(first);
    expect(q({ seed: 8 }).items).not.toEqual(first.items);

    // Resumable: what is labelled drops out and the rest keep their order.
    label(store, first.items.slice(0, 3));
    expect(q().items).toEqual(first.items.slice(3));
    // Only the annotator's own, current labels about the stored answer count.
    const key = (i: number) => {
      const { runId, sampleId, epoch } = first.items[i] as (typeof first.items)[0];
      return { runId, sampleId, epoch };
    };
    put(store, { ...key(3), annotator: "ben" });
    expect(q().items).toEqual(first.items.slice(3));
    store.annotations.delete({ ...key(0), annotator: "ana" });
    expect(q().items[0]).toEqual(first.items[0]);
    expect(q({ annotator: " ana " }).remaining).toBe(28);
  });

  it("catches up the strata labelled least, however the labels were given", async () => {
    const { store, q } = await setup();
    const mis = q().items.filter((i) => i.stratum === "a × misaligned");
    label(store, mis.slice(0, 4)); // from the Samples page, not the queue
    const next = q({ limit: 9 });
    expect(next.strata.find((s) => s.stratum === "a × misaligned")).toMatchObject({
      labelled: 4,
      remaining: 11,
    });
    expect(counts(next.items.slice(0, 9))).toEqual({
      "a × aligned": 3,
      "b × aligned": 3,
      "b × misaligned": 3,
    });
  });

  it("proportional allocation follows the strata's sizes; strata can be the arm or one pool", async () => {
    const { q } = await setup();
    const p = q({ allocation: "proportional", limit: 12 });
    // Sizes 15:5:5:5, so about 6 of the first 12 are from the large stratum.
    const big = counts(p.items)["a × misaligned"] ?? 0;
    expect(big).toBeGreaterThanOrEqual(5);
    expect(big).toBeLessThanOrEqual(7);
    expect(q({ strata: ["arm"] }).strata.map((s) => [s.stratum, s.remaining])).toEqual([
      ["a", 20],
      ["b", 10],
    ]);
    expect(q({ strata: [] }).strata).toEqual([{ stratum: "all", labelled: 0, remaining: 30 }]);
  });

  it("keeps a stratum's order when another run joins, and refuses bad options", async () => {
    const { store, a, q, runs } = await setup();
    const alone = annotationQueue(store, {
      runs: [runs[0] as { runId: string; arm: string }],
      annotator: "ana",
      seed: 7,
      limit: 100,
    });
    const inA = (items: { runId: string }[]) => items.filter((i) => i.runId === a);
    expect(inA(q().items)).toEqual(alone.items);
    expect(() => q({ limit: -1 })).toThrow(/limit -1 is not a whole number/);
    expect(() => q({ annotator: " " })).toThrow(/give the annotator's name/);
  });
});
