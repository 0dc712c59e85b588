import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChatRequest } from "../../src/llm/types.js";
import { FakeLlmServer } from "../fakes/llm-server.js";
import { writeLikeAGoodModel } from "../fakes/spec-writer.js";
import { cleanupTempDirs, ROOT, runCli, tempDir } from "../helpers.js";

let server: FakeLlmServer;
let cwd: string;

beforeAll(async () => {
  // The spec writer behind a loopback OpenAI-compatible endpoint, as a real provider would be.
  server = await new FakeLlmServer({
    record: false,
    chatReply: (body) => ({
      content: writeLikeAGoodModel({ messages: body.messages } as unknown as ChatRequest),
    }),
  }).start();
  cwd = tempDir("specsci-ladder-cli-");
  writeFileSync(
    join(cwd, "specsci.yaml"),
    `endpoints: { loop: { base_url: "${server.url}/v1", max_in_flight: 4 } }\ndefaults: { max_attempts: 2, retry_base_ms: 1 }\n`,
  );
});
afterAll(async () => {
  await server.stop();
  cleanupTempDirs();
});

/** `spec derive general -t richness-ladder` by the loopback writer, with `extra` arguments. */
const derive = (extra: string[]) =>
  runCli(["spec", "derive", "general", "-t", "richness-ladder", "-m", "loop/writer", ...extra], {
    cwd,
  });

describe("specsci spec derive -t richness-ladder", () => {
  it("writes every rung into -o DIR, or one rung with --rung; without either it says what to give", async () => {
    const all = await derive(["-o", "ladder", "--json"]);
    expect(all.stderr).toBe("");
    expect(all.code).toBe(0);
    const files = readdirSync(join(cwd, "ladder")).sort();
    expect(files).toEqual([
      "general+richness-0-general.md",
      "general+richness-1-principles.md",
      "general+richness-2-examples.md",
      "general+richness-3-self-preservation.md",
    ]);
    const summaries = JSON.parse(all.stdout) as {
      qwen3_tokens: number;
      report: { rung: number };
    }[];
    expect(summaries.map((s) => s.report.rung)).toEqual([0, 1, 2, 3]);
    const top = summaries[3]?.qwen3_tokens as number;
    for (const s of summaries) expect(Math.abs(s.qwen3_tokens / top - 1)).toBeLessThanOrEqual(0.02);

    const one = await derive(["--rung", "1", "-o", "one.md"]);
    expect(one.code).toBe(0);
    expect(one.stderr).toMatch(/rung 1 \(principles\), length ratio/);
    expect(readFileSync(join(cwd, "one.md"), "utf8")).toBe(
      readFileSync(join(cwd, "ladder", "general+richness-1-principles.md"), "utf8").replace(
        "general+richness-1-principles",
        "general+richness-ladder",
      ),
    );

    const noDir = await derive([]);
    expect(noDir.code).toBe(1);
    expect(noDir.stderr).toMatch(/richness-ladder without --rung writes every rung: give -o DIR/);
    const fileOut = await derive(["-o", "one.md"]);
    expect(fileOut.code).toBe(1);
    expect(fileOut.stderr).toMatch(/-o\/--out one\.md: is a file, not a directory/);
  });

  it("shapes the ladder with --steps, --paragraphs and --target-tokens, and names a bad one", async () => {
    const shaped = await derive([
      "--steps",
      "principles,self-preservation",
      "--paragraphs",
      "principles=3",
      "--target-tokens",
      "1200",
      "-o",
      "shaped",
      "--json",
    ]);
    expect(shaped.code, shaped.stderr).toBe(0);
    expect(readdirSync(join(cwd, "shaped")).sort()).toEqual([
      "general+richness-0-general.md",
      "general+richness-1-principles.md",
      "general+richness-2-self-preservation.md",
    ]);
    const summaries = JSON.parse(shaped.stdout) as {
      qwen3_tokens: number;
      report: { targetTokens: number };
      lineage: { params: Record<string, unknown> };
    }[];
    for (const s of summaries) {
      expect(s.report.targetTokens).toBe(1200);
      expect(Math.abs(s.qwen3_tokens / 1200 - 1)).toBeLessThanOrEqual(0.02);
    }
    expect(summaries[2]?.lineage.params).toMatchObject({
      rung: 2,
      steps: ["principles", "self-preservation"],
      paragraphs: { principles: 3 },
      targetTokens: 1200,
    });
    const unknown = await derive(["--steps", "principles,anecdotes", "--rung", "1"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/richness-ladder steps: "anecdotes" is not a step/);
    expect(unknown.stderr).toMatch(/choose from principles, examples, self-preservation/);
    const syntax = await derive(["--paragraphs", "principles", "--rung", "1"]);
    expect(syntax.code).not.toBe(0);
    expect(syntax.stderr).toMatch(/--paragraphs.*expected NAME=N/s);
    const short = await derive(["--target-tokens", "100", "--rung", "1"]);
    expect(short.code).toBe(1);
    expect(short.stderr).toMatch(/target_tokens 100: the richest rung is already \d+ qwen3 tokens/);
  });

  it("plans examples/open-questions/rich-general.yaml offline: the rungs pending, the trained arms waiting", async () => {
    const file = join(ROOT, "examples", "open-questions", "rich-general.yaml");
    const ws = tempDir("specsci-ladder-plan-");
    const before = readdirSync(join(ROOT, "examples", "open-questions"));
    const r = await runCli(["plan", file], {
      cwd: ws,
      env: { ANTHROPIC_API_KEY: undefined, OPENAI_API_KEY: undefined, TOGETHER_API_KEY: undefined },
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^rich-3 +- +to derive from general by richness-ladder with /m);
    expect(r.stdout).toContain(
      "8 more stage(s) wait for spec variants that `run` writes first (rich-0, rich-1, rich-2, rich-3)",
    );
    expect(r.stdout).toContain("eval/rich-prompted-r3/vllm/Qwen/Qwen3-8B/am/seed-1 (needs rich-3)");
    expect(r.stdout).toContain("10 stage(s) of trained arms wait for their models");
    expect(r.stdout).toContain("eval/rich-msm-r0/vllm/Qwen/Qwen3-8B/am/seed-0 (needs train-");
    expect(r.stdout).toMatch(/data to make: 1 of 5, about \$[\d.]+ expected/);
    // Planning writes nothing beside the example.
    expect(readdirSync(join(ROOT, "examples", "open-questions"))).toEqual(before);
  });
});
