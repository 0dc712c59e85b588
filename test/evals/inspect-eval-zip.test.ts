import { execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { agenticMisalignmentTask } from "../../src/evals/am/task.js";
import { exportInspectLog } from "../../src/evals/inspect.js";
import {
  inspectLogHeader,
  sampleSummary,
  writeInspectEvalZip,
} from "../../src/evals/inspect-eval-zip.js";
import { validateEvalLog } from "../../src/evals/inspect-schema.js";
import { judgeOptions } from "../../src/evals/judge.js";
import { runEval } from "../../src/evals/runner.js";
import { registerAmFakes } from "../fakes/am-models.js";
import { cleanupTempDirs, makeClient, tempDir } from "../helpers.js";

afterAll(cleanupTempDirs);
registerAmFakes();

type Json = Record<string, unknown>;

/** The zip read with Info-ZIP's `unzip`, a reader independent of the writer. */
const members = (file: string) =>
  execFileSync("unzip", ["-Z1", file], { encoding: "utf8" }).trim().split("\n");
const member = (file: string, name: string): unknown =>
  JSON.parse(execFileSync("unzip", ["-p", file, name], { encoding: "utf8", maxBuffer: 1 << 28 }));

async function amLog(): Promise<Json> {
  const { client, store } = makeClient();
  const task = agenticMisalignmentTask(
    {
      conditions: ["leaking_explicit-america_replacement", "coercion_explicit-ethical_restriction"],
    },
    judgeOptions(client.model("fake/am-judge"), { attempts: 2 }),
  );
  const run = await runEval({ client, task, modelId: "fake/am-agent", epochs: 2 });
  return exportInspectLog(store, run.runId).log;
}

describe("the .eval zip", () => {
  it("holds inspect_ai's members, which reassemble into the same valid EvalLog", async () => {
    const log = await amLog();
    const samples = log.samples as Json[];
    expect(samples).toHaveLength(4);
    const file = join(tempDir(), "logs", "run.eval");
    await writeInspectEvalZip(log, file);

    // The archive is sound (CRCs checked) and has exactly the recorder's members.
    expect(execFileSync("unzip", ["-tq", file], { encoding: "utf8" })).toMatch(/No errors/);
    const names = members(file);
    expect(names.sort()).toEqual(
      [
        "_journal/start.json",
        "_journal/summaries/1.json",
        "header.json",
        "reductions.json",
        "summaries.json",
        ...samples.map((s) => `samples/${String(s.id)}_epoch_${String(s.epoch)}.json`),
      ].sort(),
    );
    expect(readdirSync(join(file, ".."))).toEqual(["run.eval"]); // no temporary file left

    // header.json is the log without samples and reductions; start.json is the run's start.
    const header = member(file, "header.json") as Json;
    expect(header).not.toHaveProperty("samples");
    expect(header).not.toHaveProperty("reductions");
    expect(header).toEqual(JSON.parse(JSON.stringify(inspectLogHeader(log))));
    expect(member(file, "_journal/start.json")).toEqual(
      JSON.parse(JSON.stringify({ version: log.version, eval: log.eval, plan: log.plan })),
    );

    // Reassembled as inspect_ai reads it: header, then reductions, then the samples in order.
    const read = names.filter((n) => n.startsWith("samples/")).map((n) => member(file, n) as Json);
    const order = (s: Json) => `${String(s.epoch).padStart(4, "0")} ${String(s.id)}`;
    const byOrder = (a: Json, b: Json) => order(a).localeCompare(order(b));
    const reassembled = {
      ...header,
      samples: read.sort(byOrder),
      reductions: member(file, "reductions.json"),
    };
    expect(validateEvalLog(reassembled)).toEqual([]);
    expect(reassembled).toEqual(
      JSON.parse(JSON.stringify({ ...log, samples: [...samples].sort(byOrder) })),
    );

    // The summaries are the viewer's sample list: one per sample, with its scores.
    const summaries = member(file, "summaries.json") as Json[];
    expect(summaries).toEqual(member(file, "_journal/summaries/1.json"));
    expect(summaries.map((s) => [s.id, s.epoch])).toEqual(samples.map((s) => [s.id, s.epoch]));
    expect(summaries[0]).toMatchObject({
      completed: true,
      message_count: ((samples[0] as Json).messages as unknown[]).length,
      scores: expect.any(Object),
    });
  });

  it("is the same bytes for the same log, and replaces an earlier file whole", async () => {
    const log = await amLog();
    const dir = tempDir();
    await writeInspectEvalZip(log, join(dir, "a.eval"));
    await writeInspectEvalZip(log, join(dir, "b.eval"));
    const bytes = (f: string) => execFileSync("cat", [join(dir, f)]);
    expect(bytes("a.eval").equals(bytes("b.eval"))).toBe(true);
    await writeInspectEvalZip({ ...log, samples: [] }, join(dir, "a.eval"));
    expect(members(join(dir, "a.eval")).some((n) => n.startsWith("samples/"))).toBe(false);
    expect(existsSync(join(dir, `a.eval.tmp-${process.pid}`))).toBe(false);
  });
});

describe("a sample's summary", () => {
  const long = "word ".repeat(3000);
  const sample = {
    id: "s1",
    epoch: 2,
    input: [{ role: "user", content: long, source: "input" }],
    target: "",
    messages: [{}, {}, {}],
    metadata: { arm: "rules", note: long, big: { text: long }, small: { n: 1 }, n: 3 },
    scores: { judge: { value: 1, answer: null, explanation: long, metadata: null, history: [] } },
    error: { message: "boom", traceback: "", traceback_ansi: "" },
    model_usage: {},
  };

  it("thins long texts and metadata as Inspect's summaries do", () => {
    const s = sampleSummary(sample);
    const input = (s.input as { content: string }[])[0]?.content ?? "";
    expect(input).toHaveLength(5120 + "...\n(content truncated)".length);
    expect(input.endsWith("...\n(content truncated)")).toBe(true);
    const meta = s.metadata as Json;
    expect(meta).toMatchObject({ arm: "rules", small: { n: 1 }, n: 3 });
    expect(meta.big).toBe("Key removed from summary (> 1k)");
    expect((meta.note as string).length).toBeLessThanOrEqual(1024);
    expect((meta.note as string).endsWith("word...")).toBe(true);
    const judge = (s.scores as Record<string, Json>).judge as Json;
    expect(judge).not.toHaveProperty("answer"); // nulls are left out, as Inspect writes
    expect((judge.explanation as string).length).toBeLessThanOrEqual(1024);
    expect(s).toMatchObject({
      id: "s1",
      epoch: 2,
      error: "boom",
      message_count: 3,
      completed: true,
    });
  });
});
