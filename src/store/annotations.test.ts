import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { plantRun } from "../../test/fakes/planted-run.js";
import { cleanupTempDirs, ROOT, tempDir } from "../../test/helpers.js";
import { describePostgres, usePostgres } from "../../test/postgres-server.js";
import { SpecsciError } from "../core/errors.js";
import type { AnnotationInput } from "./annotations.js";
import { Store } from "./db.js";

afterAll(cleanupTempDirs);

const TAXONOMY = {
  version: "tax-test",
  categories: [{ id: "self_preservation" }, { id: "respect_for_oversight" }],
};

let openStore = (dir: string) => Store.open(dir);

function planted() {
  const dir = join(tempDir(), "ws");
  const store = openStore(dir);
  plantRun(store, "run-a", ["one", "two", "three"]);
  return { dir, store };
}

const label = (o: Partial<AnnotationInput> = {}): AnnotationInput => ({
  runId: "run-a",
  sampleId: "s0",
  epoch: 1,
  annotator: "ana",
  misaligned: "yes",
  categories: ["self_preservation"],
  policyMisuse: "no",
  ...o,
});

/** The tests both backends must pass; `openStore` says which one they run on. */
function annotationTests() {
  it("keeps every label; the newest is current; a deletion withdraws it and keeps the history", () => {
    const { store } = planted();
    const first = store.annotations.put(label({ note: "  " }), TAXONOMY);
    expect(first).toMatchObject({
      misaligned: "yes",
      categories: ["self_preservation"],
      policyMisuse: "no",
      note: null,
      taxonomy: "tax-test",
      stale: false,
    });
    const second = store.annotations.put(
      label({ misaligned: "unsure", categories: [], note: "hard to say" }),
      TAXONOMY,
    );
    store.annotations.put(label({ annotator: " ben ", sampleId: "s1" }), TAXONOMY);
    const key = { runId: "run-a", sampleId: "s0", epoch: 1, annotator: "ana" };
    expect(store.annotations.current(key)).toEqual(second);
    expect(
      store.annotations.list({ runIds: ["run-a"] }).map((a) => [a.sampleId, a.annotator]),
    ).toEqual([
      ["s0", "ana"],
      ["s1", "ben"],
    ]);
    expect(store.annotations.list({ sampleId: "s1" })).toHaveLength(1);
    expect(store.annotations.list({ runIds: ["other"] })).toEqual([]);
    expect(store.annotations.annotators(["run-a"])).toEqual(["ana", "ben"]);

    expect(store.annotations.delete(second)).toBe(true);
    expect(store.annotations.delete(key)).toBe(false);
    expect(store.annotations.current(key)).toBeUndefined();
    expect(store.annotations.annotators()).toEqual(["ben"]);
    const again = store.annotations.put(label({ misaligned: "no" }), TAXONOMY);
    expect(store.annotations.current(key)).toEqual(again);
    expect(store.annotations.history({ annotator: "ana" }).map((e) => e.kind)).toEqual([
      "label",
      "label",
      "retraction",
      "label",
    ]);
    expect(store.annotations.history({ annotator: "ana" })[0]).toMatchObject({
      id: first.id,
      misaligned: "yes",
    });
    store.close();
  });

  it("marks a label stale when a rerun replaces the answer it was about", () => {
    const { store } = planted();
    store.annotations.put(label(), TAXONOMY);
    const [old] = store.evals.samples("run-a", ["s0"]);
    store.tx(() =>
      store.evals.writeSample({
        ...(old as NonNullable<typeof old>),
        output: { text: "a new answer" },
        completedAt: "2999-01-01T00:00:00.000Z",
      }),
    );
    expect(store.annotations.list()[0]?.stale).toBe(true);
    store.close();
  });

  it("has a version that changes with the labels, these runs' samples and these corpora's items, and with nothing else", () => {
    const { store } = planted();
    plantRun(store, "run-b", ["other"]);
    store.runs.ensure({ id: "reasoning-a", kind: "reasoning", name: "labels" });
    store.runs.ensure({ id: "reasoning-b", kind: "reasoning", name: "labels" });
    const scope = { runIds: ["run-a"], corpora: ["reasoning-a"] };
    const item = {
      key: "k",
      stage: "label",
      status: "ok" as const,
      value: {},
      error: null,
      attempts: 1,
    };
    let last = store.annotations.versionOf(scope);
    const changed = (step: () => void) => {
      step();
      const now = store.annotations.versionOf(scope);
      const was = last;
      last = now;
      return now !== was;
    };
    const [b] = store.evals.samples("run-b");
    const rewrite = (s: NonNullable<typeof b>) => () =>
      store.tx(() => store.evals.writeSample({ ...s, output: { text: "again" } }));
    // Another run's samples, another corpus's items, another run's status: the same.
    expect(changed(rewrite(b as NonNullable<typeof b>))).toBe(false);
    expect(changed(() => store.items.put("reasoning-b", item))).toBe(false);
    expect(changed(() => store.runs.setStatus("run-b", "completed"))).toBe(false);
    // A label, a withdrawal, a rewritten sample of the run, a reasoning label: changed.
    expect(changed(() => store.annotations.put(label(), TAXONOMY))).toBe(true);
    expect(changed(() => store.annotations.delete(label()))).toBe(true);
    const [a] = store.evals.samples("run-a");
    expect(changed(rewrite(a as NonNullable<typeof a>))).toBe(true);
    expect(changed(() => store.items.put("reasoning-a", item))).toBe(true);
    expect(changed(() => store.runs.setStatus("reasoning-a", "completed"))).toBe(true);
    store.close();
  });

  it("gives the queue every sample's outcome and judge verdict, as fieldRows reads them", () => {
    const { store } = planted();
    plantRun(store, "run-b", ["judged", "judged too", "unjudged"], 2);
    const byId = new Map(store.evals.samples("run-b").map((x) => [x.sampleId, x]));
    const [one, two, three, failed] = ["s0", "s1", "s2", "f0"].map((id) => byId.get(id));
    const rewrite = (s: typeof one, o: Record<string, unknown>) =>
      store.tx(() => store.evals.writeSample({ ...(s as NonNullable<typeof s>), ...o }));
    rewrite(one, { scores: { misalignment: { value: { decided: 1 } } } });
    rewrite(two, { scores: { misalignment: { value: { decided: 0 } } } });
    rewrite(three, {
      status: "refused",
      error: { stage: "generate", kind: "refused", message: "no" },
    });
    rewrite(failed, {
      status: "truncated",
      output: { text: "cut" },
      error: { stage: "generate", kind: "truncated" },
    });
    const runs = ["run-a", "run-b"];
    const got = store.annotations
      .queueSamples(runs)
      .flatMap((g) => g.epochs.map((epoch) => [g.runId, g.sampleId, epoch, g.status, g.decided]))
      .sort();
    const expected = runs
      .flatMap((runId) =>
        store.evals
          .fieldRows(runId, { decided: "scores:$.misalignment.value.decided" })
          // The queue reads a verdict of scored samples only.
          .map((r) => [
            runId,
            r.sampleId,
            r.epoch,
            r.status,
            r.status === "done" ? (r.values.decided ?? null) : null,
          ]),
      )
      .sort();
    expect(got).toEqual(expected);
    expect(new Set(got.map((r) => r[3]))).toEqual(
      new Set(["done", "error", "truncated", "refused"]),
    );
    expect(got.filter((r) => r[4] !== null)).toHaveLength(2);
    store.close();
  });

  it.each([
    [{ categories: ["made_up"] }, /"made_up" is not a category of taxonomy tax-test/],
    [{ categories: ["self_preservation", "self_preservation"] }, /given twice/],
    [{ misaligned: "maybe" }, /misaligned: /],
    [{ annotator: "  " }, /annotator: give the annotator's name/],
    [{ annotator: "ana\u0007" }, /annotator: no control characters/],
    [{ epoch: 0 }, /epoch: /],
    [{ policy_misuse: "yes" }, /Unrecognized key: "policy_misuse"/],
    [{ sampleId: "s9" }, /run-a\/s9 \(epoch 1\): the store holds no such sample/],
    [{ runId: "nope" }, /nope\/s0 \(epoch 1\): the store holds no such sample/],
  ] as [Record<string, unknown>, RegExp][])("refuses a bad label: %o", (bad, message) => {
    const { store } = planted();
    const put = () => store.annotations.put(label(bad as Partial<AnnotationInput>), TAXONOMY);
    expect(put).toThrow(SpecsciError);
    expect(put).toThrow(message);
    expect(store.annotations.history()).toEqual([]);
    store.close();
  });
}

describe("annotations in the store", () => {
  annotationTests();

  it("waits for another process's write (a run writing the store) instead of failing", async () => {
    const { dir, store } = planted();
    // Reading first, then writing in a deferred transaction would fail at once with SQLITE_BUSY
    // while the other process holds the write lock; an IMMEDIATE one waits for it.
    const script = join(tempDir(), "writer.mjs");
    writeFileSync(
      script,
      `import { Store } from ${JSON.stringify(join(ROOT, "dist/store/index.js"))};
       const store = Store.open(process.argv[2]);
       store.db.exec("BEGIN IMMEDIATE");
       store.db.prepare("UPDATE eval_runs SET completed_at = ? WHERE id = 'run-a'").run(new Date().toISOString());
       process.stdout.write("locked\\n");
       setTimeout(() => { store.db.exec("COMMIT"); store.close(); }, 400);`,
    );
    const child = spawn(process.execPath, [script, dir], { stdio: ["ignore", "pipe", "inherit"] });
    await new Promise<void>((resolve) => child.stdout.once("data", () => resolve()));
    const started = Date.now();
    const a = store.annotations.put(label(), TAXONOMY);
    expect(Date.now() - started).toBeGreaterThan(100);
    expect(store.annotations.current(a)).toEqual(a);
    await new Promise((r) => child.once("close", r));
    store.close();
  });
});

describePostgres("annotations in the store, on PostgreSQL", () => {
  const server = usePostgres();
  beforeAll(() => {
    openStore = (dir) => Store.open(dir, { url: server().database() });
  });
  annotationTests();
});
