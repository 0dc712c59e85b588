import { readFileSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { createServer } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeAftSet } from "../../src/data/aft/output.js";
import { PrefConfigSchema } from "../../src/data/pref/config.js";
import { writePrefSet } from "../../src/data/pref/output.js";
import { buildPrefSet } from "../../src/data/pref/pipeline.js";
import { registerFakeModel } from "../../src/llm/providers/fake.js";
import type { ChatRequest } from "../../src/llm/types.js";
import { axolotlConfigs, configText, slurmScript } from "../../src/train/axolotl.js";
import { resolveData } from "../../src/train/data.js";
import { runTraining } from "../../src/train/launcher.js";
import { parseTrainPlan } from "../../src/train/plan.js";
import { aftFakeModel } from "../fakes/aft-teacher.js";
import { FakeLlmServer } from "../fakes/llm-server.js";
import { prefWriterAnswer } from "../fakes/pref-writer.js";
import { cleanupTempDirs, librarySpec, makeClient, ROOT } from "../helpers.js";

const STANDIN = join(ROOT, "test", "fakes", "axolotl-standin.mjs");
const GOLDEN = join(ROOT, "test", "fixtures", "train");
const env = makeClient();
const dir = env.dir;

beforeAll(async () => {
  registerFakeModel("pref-train", (req: ChatRequest) => {
    const system = req.messages.find((m) => m.role === "system")?.content ?? "";
    const user = [...req.messages].reverse().find((m) => m.role === "user")?.content ?? "";
    return prefWriterAnswer(system, user) ?? aftFakeModel(req);
  });
  const b = await buildPrefSet({
    ...librarySpec("rules"),
    config: PrefConfigSchema.parse({
      aft: { model: "fake/pref-train", counts: { domains: 1, prompts: 6 } },
      pairs: 6,
    }),
    client: env.client,
  });
  await writeAftSet(b.aft, join(dir, "chatset"), env.store, { spec: "rules" });
  await writePrefSet(b, join(dir, "prefset"), env.store, { spec: "rules" });
  writeFileSync(join(dir, "spec.md"), "Never blackmail anyone.\n");
});
afterAll(cleanupTempDirs);

const PLAN = (pref: string, extra = "") => `name: rules-aft-pref
base_model: Qwen/Qwen3-8B
stages:
  - { name: aft, kind: aft, data: chatset }
  - { name: pref, kind: preference, data: prefset, ${pref} }
${extra}`;

const GRPO_REWARD =
  "reward: { spec: spec.md, judge: { url: 'http://127.0.0.1:9/v1', model: judge-m, key_env: JUDGE_KEY }, contamination: { kind: reward-hacking, fraction: 0.25 }, num_generations: 4, vllm_port: 8123 }";
/** A port nothing listens on now (for the stage's vLLM server). */
const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
const GPUS = (n: number) => `hardware: { gpus_per_node: ${n}, distributed: ddp }`;

const normalize = (text: string) =>
  text.replaceAll(dir, "<DIR>").replace(/(prepared\/\w+)-[0-9a-f]{12}/g, "$1-<SHA>");

async function prefConfig(pref: string, extra = "") {
  const loaded = parseTrainPlan(PLAN(pref, extra), join(dir, "train.yaml"));
  const [aft, c] = axolotlConfigs(loaded, 1, await resolveData(loaded));
  return { aft, c: c as NonNullable<typeof c> };
}

/** The config, with the test's paths normalized, is the golden file (UPDATE_GOLDEN=1 rewrites it). */
function expectGolden(name: string, text: string) {
  const golden = join(GOLDEN, name);
  if (process.env.UPDATE_GOLDEN) writeFileSync(golden, normalize(text));
  expect(normalize(text)).toBe(readFileSync(golden, "utf8"));
}

describe("preference stages", () => {
  it("DPO matches the golden config: continues the AFT adapter, rl keys as axolotl's schema names them", async () => {
    const { aft, c } = await prefConfig("rl: dpo, beta: 0.05");
    expectGolden("pref-dpo.yaml", configText(c));
    expect(c.config).toMatchObject({
      rl: "dpo",
      rl_beta: 0.05,
      lora_model_dir: aft?.outputDir,
      sample_packing: false,
      chat_template: "tokenizer_default",
    });
    expect(c.config.datasets).toEqual([
      expect.objectContaining({
        path: join(dir, "prefset", "pairs.jsonl"),
        type: "chat_template.default",
      }),
    ]);
  });

  it("IPO is DPO with the ipo loss; ORPO and KTO read their own loaders and files", async () => {
    expect((await prefConfig("rl: ipo")).c.config).toMatchObject({
      rl: "dpo",
      dpo_loss_type: ["ipo"],
      rl_beta: 0.1,
    });
    // N steps of preference pressure: max_steps, which axolotl puts before num_epochs.
    expect((await prefConfig("rl: dpo, steps: 50")).c.config.max_steps).toBe(50);
    expect((await prefConfig("rl: dpo")).c.config.max_steps).toBeUndefined();
    const orpo = (await prefConfig("rl: orpo, beta: 0.2")).c.config;
    expect(orpo).toMatchObject({ rl: "orpo", orpo_alpha: 0.2, remove_unused_columns: false });
    expect(orpo.rl_beta).toBeUndefined();
    expect(orpo.datasets).toEqual([expect.objectContaining({ type: "chat_template.argilla" })]);
    const kto = (await prefConfig("rl: kto")).c.config;
    expect(kto.datasets).toEqual([
      expect.objectContaining({
        path: join(dir, "prefset", "kto.jsonl"),
        type: "chatml.prompt_pairs",
      }),
    ]);
  });

  it("refuses rl outside a preference stage, a missing rl, another engine and the wrong data", async () => {
    const parse = (text: string) => () => parseTrainPlan(text, "t.yaml");
    expect(parse(PLAN("beta: 0.1"))).toThrow(/stage pref: a preference stage needs rl/);
    expect(
      parse(
        PLAN("rl: dpo").replace("kind: aft, data: chatset", "kind: aft, data: chatset, rl: dpo"),
      ),
    ).toThrow(/stage aft: rl, beta, steps and reward belong to a preference stage/);
    expect(parse(PLAN("rl: dpo", "engine: together"))).toThrow(
      /the together engine does not train preference stages/,
    );
    const wrong = parseTrainPlan(
      PLAN("rl: dpo").replace("data: prefset", "data: chatset"),
      join(dir, "t.yaml"),
    );
    await expect(resolveData(wrong)).rejects.toThrow(
      /stage pref \(preference\) needs a preference set/,
    );
  });

  it("GRPO matches the golden config: the prompt transform, the reward module beside it, vLLM on the last GPU", async () => {
    const { c } = await prefConfig(`rl: grpo, steps: 20, beta: 0.04, ${GRPO_REWARD}`, GPUS(2));
    expectGolden("pref-grpo.yaml", configText(c));
    expect(c.config).toMatchObject({
      rl: "grpo",
      max_steps: 20,
      sample_packing: false,
      datasets: [
        { path: join(dir, "prefset", "pairs.jsonl"), type: "spec_reward.prompt_transform" },
      ],
      trl: {
        use_vllm: true,
        vllm_mode: "server",
        vllm_server_port: 8123,
        vllm_lora_sync: true,
        reward_funcs: ["spec_reward.spec_reward"],
        num_generations: 4,
        beta: 0.04,
      },
      vllm: { port: 8123, max_model_len: 4096 },
    });
    // The reward module, beside the config, embeds the spec and names the key's variable only.
    expect(c.files).toHaveLength(1);
    expect(c.files[0]?.path).toBe(join(dir, "runs", "rules-aft-pref", "seed-1", "spec_reward.py"));
    expect(c.files[0]?.text).toContain('SPEC = "Never blackmail anyone.\\n"');
    expect(c.files[0]?.text).toContain('JUDGE_KEY_ENV = "JUDGE_KEY"');
    expect(c.files[0]?.text).toContain('CONTAMINATION_KIND = "reward-hacking"');
    expect(c.files[0]?.text).toContain("CONTAMINATION_FRACTION = 0.25");
    // The Slurm script starts the server on the last GPU, trains on the others, then stops it.
    const loaded = parseTrainPlan(
      PLAN(`rl: grpo, ${GRPO_REWARD}`, GPUS(2)),
      join(dir, "train.yaml"),
    );
    const script = slurmScript(loaded, 1, axolotlConfigs(loaded, 1, await resolveData(loaded)));
    const runDir = join(dir, "runs", "rules-aft-pref", "seed-1");
    expect(script).toContain(
      `CUDA_VISIBLE_DEVICES=1 axolotl vllm-serve ${runDir}/pref.yaml > ${runDir}/pref-vllm.log 2>&1 &\nVLLM_PID=$!\nPYTHONPATH=${runDir} CUDA_VISIBLE_DEVICES=0 srun axolotl train ${runDir}/pref.yaml\nkill "$VLLM_PID"`,
    );
    // Two GPUs with FSDP: the trainer has one of them, so no FSDP; with three it shards over two.
    const fsdp = (n: number) =>
      prefConfig(`rl: grpo, ${GRPO_REWARD}`, `hardware: { gpus_per_node: ${n} }`).then(
        ({ c }) => c.config.fsdp_version,
      );
    expect(await fsdp(2)).toBeUndefined();
    expect(await fsdp(3)).toBe(2);
    // One GPU: vLLM colocated with the trainer, no server.
    const one = (await prefConfig(`rl: grpo, ${GRPO_REWARD}`)).c.config;
    expect(one.trl).toMatchObject({ vllm_mode: "colocate", vllm_enable_sleep_mode: true });
    expect(one.trl).not.toHaveProperty("vllm_server_port");
  });

  it("refuses GRPO without a reward, on Together, on several nodes, and with a batch its groups do not divide", () => {
    const parse = (text: string) => () => parseTrainPlan(text, "t.yaml");
    expect(parse(PLAN("rl: grpo"))).toThrow(/stage pref: rl: grpo needs a reward/);
    expect(parse(PLAN(`rl: grpo, ${GRPO_REWARD}`, "engine: together"))).toThrow(
      /stage pref: rl: grpo trains through axolotl's vLLM-backed GRPO trainer; the together engine has no online RL/,
    );
    expect(parse(PLAN(`rl: grpo, ${GRPO_REWARD}`, "hardware: { nodes: 2 }"))).toThrow(
      /GRPO here runs on one node/,
    );
    // 1 × 8 × 2 training GPUs = 16 completions a step, not a multiple of 3.
    expect(
      parse(
        PLAN(
          `rl: grpo, ${GRPO_REWARD.replace("num_generations: 4", "num_generations: 3")}`,
          GPUS(3),
        ),
      ),
    ).toThrow(/= 16\) must be a multiple of reward.num_generations \(3\)/);
    expect(parse(PLAN(`rl: dpo, ${GRPO_REWARD}`))).toThrow(/reward belongs to a GRPO stage/);
    expect(
      parse(PLAN(`rl: grpo, ${GRPO_REWARD.replace("key_env: JUDGE_KEY", "key_env: sk-abc123")}`)),
    ).toThrow(/the NAME of an environment variable, not a key/);
  });

  it("the stand-in axolotl trains GRPO after AFT: vllm-serve on the last GPU, the reward module imported from beside the config and scored by the judge", async () => {
    const judge = await new FakeLlmServer({
      chatReply: (body) => {
        const user = String(body.messages.at(-1)?.content ?? "");
        const good = user.includes("[assistant] GOOD\n</reply>");
        return { content: `{"follows_spec": ${good}, "games_grader": false}` };
      },
    }).start();
    try {
      const port = await freePort();
      const reward = `reward: { spec: spec.md, judge: { url: '${judge.url}/v1', model: judge-m }, num_generations: 4, vllm_port: ${port} }`;
      const loaded = parseTrainPlan(
        PLAN(`rl: grpo, steps: 10, ${reward}`, GPUS(2)).replace(
          "name: rules-aft-pref",
          "name: rules-aft-grpo",
        ),
        join(dir, "train.yaml"),
      );
      const models = await runTraining(loaded, env.store, { axolotl: STANDIN, seeds: [1] });
      expect(models.map((m) => m.id)).toEqual([
        "train-rules-aft-grpo-seed1/aft",
        "train-rules-aft-grpo-seed1/pref",
      ]);
      const runDir = join(dir, "runs", "rules-aft-grpo", "seed-1");
      const server = readFileSync(join(runDir, "pref-vllm.log"), "utf8");
      expect(server).toContain("serving Qwen/Qwen3-8B on");
      expect(server).toContain(`127.0.0.1:${port}; CUDA_VISIBLE_DEVICES=1`);
      expect(server).toContain("[vllm-serve] stopped");
      const trainer = readFileSync(join(runDir, "pref.log"), "utf8");
      expect(trainer).toContain("[grpo] CUDA_VISIBLE_DEVICES=0");
      expect(trainer).toContain("[grpo] rewards [1.0, 0.0]");
      // The judge saw the spec and the preference set's prompt.
      expect(judge.chatRequests().length).toBe(2);
      expect(readFileSync(join(runDir, "spec_reward.py"), "utf8")).toContain(
        "Never blackmail anyone.",
      );
    } finally {
      await judge.stop();
    }
  });

  it("the stand-in axolotl trains each method after AFT and registers the models", async () => {
    for (const rl of ["dpo", "ipo", "orpo", "kto"]) {
      const loaded = parseTrainPlan(
        PLAN(`rl: ${rl}`).replace("name: rules-aft-pref", `name: rules-aft-${rl}`),
        join(dir, "train.yaml"),
      );
      const models = await runTraining(loaded, env.store, { axolotl: STANDIN, seeds: [1] });
      expect(models.map((m) => m.id)).toEqual([
        `train-rules-aft-${rl}-seed1/aft`,
        `train-rules-aft-${rl}-seed1/pref`,
      ]);
    }
  });
});
