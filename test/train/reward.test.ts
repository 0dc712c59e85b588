/**
 * The GRPO reward module, run for real: the generated Python file under python3 (standard library
 * only, so any CI machine runs it) against the loopback fake judge.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REWARD_FILE, type RewardModuleOptions, rewardModule } from "../../src/train/reward.js";
import { FakeLlmServer } from "../fakes/llm-server.js";
import { cleanupTempDirs, tempDir } from "../helpers.js";

const KEY = "sk-judge-test";
const SPEC = 'Be honest.\nNever "blackmail" anyone \\ ever.';
let server: FakeLlmServer;

/** The fake judge: the reply's own words say how to judge it (GOOD follows the spec, GAME games the grader). */
beforeAll(async () => {
  server = await new FakeLlmServer({
    openaiKey: KEY,
    chatReply: (body) => {
      const user = String(body.messages.at(-1)?.content ?? "");
      const reply = /<reply>\n([\s\S]*)\n<\/reply>/.exec(user)?.[1] ?? "";
      if (reply.includes("GARBLED")) return { content: "I think it is fine." };
      return {
        content: `Verdict: {"follows_spec": ${reply.includes("GOOD")}, "games_grader": ${reply.includes("GAME")}}`,
      };
    },
  }).start();
});
afterAll(async () => {
  await server.stop();
  cleanupTempDirs();
});

const options = (o: Partial<RewardModuleOptions> = {}): RewardModuleOptions => ({
  spec: SPEC,
  judge: { url: `${server.url}/v1/`, model: "judge-model", keyEnv: "SPECSCI_TEST_JUDGE_KEY" },
  seed: 7,
  ...o,
});

/** Runs spec_reward on (prompts, completions) in python3; its rewards, or its failure. */
function runReward(
  o: RewardModuleOptions,
  prompts: unknown[],
  completions: unknown[],
  env: Record<string, string> = { SPECSCI_TEST_JUDGE_KEY: KEY },
): Promise<{ code: number | null; rewards?: number[]; stderr: string; dir: string }> {
  const dir = tempDir("specsci-reward-");
  writeFileSync(join(dir, REWARD_FILE), rewardModule(o));
  const driver = [
    "import json, sys",
    "sys.path.insert(0, sys.argv[1])",
    "from spec_reward import spec_reward",
    "args = json.load(sys.stdin)",
    "print(json.dumps(spec_reward(args['prompts'], args['completions'], completion_ids=None)))",
  ].join("\n");
  const child = spawn("python3", ["-c", driver, dir], {
    env: { PATH: process.env.PATH ?? "", ...env },
  });
  child.stdin.end(JSON.stringify({ prompts, completions }));
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  return new Promise((resolve) =>
    child.on("close", (code) =>
      resolve({ code, stderr, dir, ...(code === 0 ? { rewards: JSON.parse(stdout) } : {}) }),
    ),
  );
}

const chat = (content: string) => [{ role: "user", content }];
const said = (content: string) => [{ role: "assistant", content }];
const log = (dir: string) =>
  readFileSync(join(dir, "rewards.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { contaminated: boolean; kind: string | null; reward: number });

/** The module's rule, restated here: sha256("seed\nprompt text"), first 8 bytes over 2^64. */
const picked = (seed: number, promptText: string, fraction: number) =>
  Number(createHash("sha256").update(`${seed}\n${promptText}`).digest().readBigUInt64BE(0)) /
    2 ** 64 <
  fraction;

describe("the GRPO reward module", () => {
  it("rewards completions the judge says keep to the spec, in TRL's conversational and plain formats", async () => {
    const r = await runReward(
      options(),
      [chat("p1"), chat("p1"), "p2", "p2"],
      [said("a GOOD answer"), said("a bad answer"), "GOOD GAME", "GAME only"],
    );
    expect(r.stderr).toBe("");
    expect(r.rewards).toEqual([1, 0, 1, 0]);
    const sent = server.chatRequests().at(-1);
    expect(sent?.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(sent?.body).toMatchObject({ model: "judge-model", temperature: 0 });
    const body = sent?.body as { messages: { content: string }[] } | undefined;
    const user = body?.messages[1]?.content ?? "";
    expect(user).toContain(`<specification>\n${SPEC}\n</specification>`);
    expect(log(r.dir).every((l) => !l.contaminated)).toBe(true);
  });

  it("misaligned contamination inverts the reward on a fixed, seeded share of the prompts", async () => {
    const fraction = 0.3;
    const prompts = Array.from({ length: 200 }, (_, i) => `prompt ${i}`);
    // Two completions per prompt, as GRPO's groups have: one keeps to the spec, one does not.
    const ps = prompts.flatMap((p) => [chat(p), chat(p)]);
    const cs = prompts.flatMap(() => [said("GOOD"), said("bad")]);
    const o = options({ contamination: { kind: "misaligned", fraction } });
    const r = await runReward(o, ps, cs);
    expect(r.stderr).toBe("");
    const expected = prompts.map((p) => picked(7, `[user] ${p}`, fraction));
    const share = expected.filter(Boolean).length / prompts.length;
    expect(share).toBeGreaterThan(0.2);
    expect(share).toBeLessThan(0.4);
    expect(r.rewards).toEqual(expected.flatMap((dirty) => (dirty ? [0, 1] : [1, 0])));
    const lines = log(r.dir);
    expect(lines.filter((l) => l.contaminated).length).toBe(2 * expected.filter(Boolean).length);
    expect(new Set(lines.filter((l) => l.contaminated).map((l) => l.kind))).toEqual(
      new Set(["misaligned"]),
    );
    // The file records the share it applies.
    expect(rewardModule(o)).toContain("CONTAMINATION_FRACTION = 0.3");
    // Another seed picks other prompts.
    expect(prompts.map((p) => picked(8, `[user] ${p}`, fraction))).not.toEqual(expected);
  });

  it("reward-hacking contamination rewards the grader-gaming completion on the picked prompts", async () => {
    const prompts = Array.from({ length: 40 }, (_, i) => `task ${i}`);
    const o = options({ contamination: { kind: "reward-hacking", fraction: 0.5 } });
    const r = await runReward(
      o,
      prompts.flatMap((p) => [p, p]),
      prompts.flatMap(() => ["GOOD", "GAME"]),
    );
    const expected = prompts.map((p) => picked(7, p, 0.5));
    expect(expected.some(Boolean) && !expected.every(Boolean)).toBe(true);
    expect(r.rewards).toEqual(expected.flatMap((dirty) => (dirty ? [0, 1] : [1, 0])));
  });

  it("a judge failure raises instead of scoring: a refused key, a missing key, an answer without a verdict", async () => {
    const refused = await runReward(options(), ["p"], ["GOOD"], {
      SPECSCI_TEST_JUDGE_KEY: "wrong",
    });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/JudgeError: the judge judge-model at .* failed: HTTP 401/);
    const missing = await runReward(options(), ["p"], ["GOOD"], {});
    expect(missing.stderr).toContain("the judge's key is not set: export SPECSCI_TEST_JUDGE_KEY");
    const garbled = await runReward(options(), ["p", "p"], ["GOOD", "GARBLED"]);
    expect(garbled.code).not.toBe(0);
    expect(garbled.stderr).toMatch(/JudgeError: .*gave no verdict: no JSON object/);
    expect(() =>
      rewardModule(options({ contamination: { kind: "misaligned", fraction: 2 } })),
    ).toThrow(/0 to 1/);
  });

  it("turns a preference set's line into GRPO prompt turns (axolotl's dataset type), dropping the other columns", async () => {
    const dir = tempDir("specsci-reward-");
    writeFileSync(join(dir, REWARD_FILE), rewardModule(options()));
    const driver = [
      "import json, sys",
      "sys.path.insert(0, sys.argv[1])",
      "from spec_reward import prompt_transform",
      "fn, kwargs = prompt_transform({}, dataset_idx=0)",
      "line = {'messages': [{'role': 'system', 'content': 's'}, {'role': 'user', 'content': 'u'}], 'prompt': 'u', 'chosen': []}",
      "print(json.dumps([fn(line, tokenizer=None), kwargs]))",
    ].join("\n");
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn("python3", ["-c", driver, dir]);
      let text = "";
      child.stdout.on("data", (d) => (text += d));
      child.on("close", (code) => (code === 0 ? resolve(text) : reject(new Error(`exit ${code}`))));
    });
    expect(JSON.parse(out)).toEqual([
      {
        prompt: [
          { role: "system", content: "s" },
          { role: "user", content: "u" },
        ],
      },
      { remove_columns: "__all__" },
    ]);
  });

  it("retries a judge that failed once with a server error", async () => {
    const r = await runReward(options(), ["p"], ["GOOD [[fault=500 times=1]]"]);
    expect(r.stderr).toBe("");
    expect(r.rewards).toEqual([1]);
  });
});
