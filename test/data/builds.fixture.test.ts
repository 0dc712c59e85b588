/**
 * An MSM corpus and AFT chat sets built to a budget in waves (a stratum that never yields, gates,
 * dedup, a judge, contamination), pinned by hash: every file they write, the build records and the
 * log. Run ids, the cache and resumption depend on the exact bytes, so a refactor of the builders
 * must leave these hashes as they are (update deliberately with
 * `npx vitest run test/data/builds.fixture.test.ts -u`).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sha256Hex } from "../../src/core/hash.js";
import { AftConfigSchema } from "../../src/data/aft/config.js";
import { writeAftSet } from "../../src/data/aft/output.js";
import { buildAftSet } from "../../src/data/aft/pipeline.js";
import { MsmConfigSchema } from "../../src/data/msm/config.js";
import { writeCorpus } from "../../src/data/msm/output.js";
import { buildCorpus } from "../../src/data/msm/pipeline.js";
import { registerFakeModel } from "../../src/llm/providers/fake.js";
import type { ChatRequest } from "../../src/llm/types.js";
import {
  AFT_TEACHER_MARK,
  AFT_WRITER_PREFIX,
  aftTeacherAnswer,
  aftWriterAnswer,
} from "../fakes/aft-teacher.js";
import { msmAnswer, SHARED_COPY } from "../fakes/msm-writer.js";
import { cleanupTempDirs, librarySpec, makeClient } from "../helpers.js";

const lastUser = (req: ChatRequest) =>
  [...req.messages].reverse().find((m) => m.role === "user")?.content ?? "";

/** The AFT teacher of test/data/aft.test.ts, whose judge fails every question about the model. */
function aftTeacher(req: ChatRequest) {
  const system = req.messages.find((m) => m.role === "system")?.content ?? "";
  const user = lastUser(req);
  if (system.startsWith(AFT_WRITER_PREFIX)) {
    const out = aftWriterAnswer(user, req.params.seed);
    return user.includes("questions to the model about itself")
      ? out.replace(/"user":"([^"]*)"/g, '"user":"$1 [[resp=fail]]"')
      : out;
  }
  if (system.includes(AFT_TEACHER_MARK)) {
    if (user.includes("[[fault=refusal]]"))
      return { text: "", stopReason: "refusal" as const, refusal: "I can't." };
    return aftTeacherAnswer(system, user);
  }
  return "unknown prompt";
}

beforeAll(() => {
  // The MSM writer with its faults, refusing every forum thread: that stratum never gains.
  registerFakeModel("fixture-msm-writer", (req) => {
    const prompt = lastUser(req);
    if (prompt.includes("<content></content>") && prompt.includes("Forum thread"))
      return "UNSUITABLE";
    return msmAnswer(prompt, req.params.seed);
  });
  registerFakeModel("fixture-msm-judge", (req) => {
    const doc = /<document>\n([\s\S]*?)\n<\/document>/.exec(lastUser(req))?.[1] ?? "";
    return JSON.stringify({ realism: doc.length % 3 === 0 ? 2 : 4, faithfulness: 5, invented: [] });
  });
  registerFakeModel("fixture-aft-teacher", aftTeacher);
});
afterAll(cleanupTempDirs);

/**
 * What varies from run to run and is not the builder's: the temp dir, the clock, the commit (in
 * the manifest's JSON and the card's YAML), and the card's hash of the manifest, which holds both.
 */
function normalized(text: string, dir: string): string {
  return text
    .replaceAll(dir, "<dir>")
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, "<time>")
    .replace(/"specsci": \{[^}]*\}/g, '"specsci": "<version>"')
    .replace(/^( +)(commit|dirty|manifest_sha256): .*$/gm, "$1$2: <varies>");
}

/** A hash of each file under `out` (paths sorted), and of the build record and log. */
function hashes(out: string, dir: string, build: unknown, log: string[]): Record<string, string> {
  const h: Record<string, string> = {};
  const files = readdirSync(out, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(out, join(e.parentPath, e.name)))
    .sort();
  for (const name of files)
    h[name] = sha256Hex(normalized(readFileSync(join(out, name), "utf8"), dir));
  h["(build)"] = sha256Hex(normalized(JSON.stringify(build), dir));
  h["(log)"] = sha256Hex(log.join("\n"));
  return h;
}

describe("budgeted builds", () => {
  it("an MSM corpus written in waves is byte-identical to the pinned one", async () => {
    const { client, store, dir } = makeClient();
    const log: string[] = [];
    const config = MsmConfigSchema.parse({
      model: "fake/fixture-msm-writer",
      counts: { domains: 3, subdomains: 1, assertions: 2, doc_types: 2, ideas: 3 },
      stages: { documents: { max_tokens: 900 } },
      gates: { retry_truncated_max_tokens: 3000, judge: { model: "fake/fixture-msm-judge" } },
      budget: { target_tokens: 12_000 },
      contamination: { enforce: true },
      concurrency: 4,
    });
    const texts = [`Subject: notes\n\n${SHARED_COPY.split(" ").slice(40, 70).join(" ")}`];
    const b = await buildCorpus({
      ...librarySpec("rules"),
      config,
      client,
      contamination: { texts, source: "a test pack" },
      log: (m) => log.push(m),
    });
    expect(b.waves).toBeGreaterThan(1);
    const out = join(dir, "corpus");
    await writeCorpus(b, out, store, { spec: "rules" });
    // The run records where it was written, so a corpus written with -o is found again.
    expect(store.runs.get(b.ctx.corpusId)?.config).toMatchObject({ outputs: [out] });
    await expect(`${JSON.stringify(hashes(out, dir, b, log), null, 2)}\n`).toMatchFileSnapshot(
      "../fixtures/msm-build-hashes.json",
    );
  });

  it("AFT chat sets backfilled in waves, by count and by tokens, are byte-identical to the pinned ones", async () => {
    const all: Record<string, Record<string, string>> = {};
    for (const [name, budget] of [
      ["examples", { examples: 40 }],
      ["tokens", { target_tokens: 9_000 }],
    ] as const) {
      const { client, store, dir } = makeClient();
      const log: string[] = [];
      const b = await buildAftSet({
        ...librarySpec("rules"),
        config: AftConfigSchema.parse({
          model: "fake/fixture-aft-teacher",
          counts: { domains: 2, prompts: 6 },
          budget,
          concurrency: 4,
        }),
        client,
        log: (m) => log.push(m),
      });
      expect(b.waves).toBeGreaterThan(1);
      const out = join(dir, "set");
      await writeAftSet(b, out, store, { spec: "rules" });
      expect(store.runs.get(b.ctx.setId)?.config).toMatchObject({ outputs: [out] });
      all[name] = hashes(out, dir, b, log);
    }
    await expect(`${JSON.stringify(all, null, 2)}\n`).toMatchFileSnapshot(
      "../fixtures/aft-build-hashes.json",
    );
  });
});
