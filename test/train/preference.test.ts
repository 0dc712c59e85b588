import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeAftSet } from "../../src/data/aft/output.js";
import { PrefConfigSchema } from "../../src/data/pref/config.js";
import { writePrefSet } from "../../src/data/pref/output.js";
import { buildPrefSet } from "../../src/data/pref/pipeline.js";
import { registerFakeModel } from "../../src/llm/providers/fake.js";
import type { ChatRequest } from "../../src/llm/types.js";
import { axolotlConfigs, configText } from "../../src/train/axolotl.js";
import { resolveData } from "../../src/train/data.js";
import { runTraining } from "../../src/train/launcher.js";
import { parseTrainPlan } from "../../src/train/plan.js";
import { aftFakeModel } from "../fakes/aft-teacher.js";
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
});
afterAll(cleanupTempDirs);

const PLAN = (pref: string, extra = "") => `name: rules-aft-pref
base_model: Qwen/Qwen3-8B
stages:
  - { name: aft, kind: aft, data: chatset }
  - { name: pref, kind: preference, data: prefset, ${pref} }
${extra}`;

const normalize = (text: string) =>
  text.replaceAll(dir, "<DIR>").replace(/(prepared\/\w+)-[0-9a-f]{12}/g, "$1-<SHA>");

async function prefConfig(pref: string) {
  const loaded = parseTrainPlan(PLAN(pref), join(dir, "train.yaml"));
  const [aft, c] = axolotlConfigs(loaded, 1, await resolveData(loaded));
  return { aft, c: c as NonNullable<typeof c> };
}

describe("preference stages", () => {
  it("DPO matches the golden config: continues the AFT adapter, rl keys as axolotl's schema names them", async () => {
    const { aft, c } = await prefConfig("rl: dpo, beta: 0.05");
    const golden = join(GOLDEN, "pref-dpo.yaml");
    if (process.env.UPDATE_GOLDEN) writeFileSync(golden, normalize(configText(c)));
    expect(normalize(configText(c))).toBe(readFileSync(golden, "utf8"));
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

  it("refuses GRPO, rl outside a preference stage, a missing rl, another engine and the wrong data", async () => {
    const parse = (text: string) => () => parseTrainPlan(text, "t.yaml");
    expect(parse(PLAN("rl: grpo"))).toThrow(/stage pref: rl: grpo needs reward functions/);
    expect(parse(PLAN("beta: 0.1"))).toThrow(/stage pref: a preference stage needs rl/);
    expect(
      parse(
        PLAN("rl: dpo").replace("kind: aft, data: chatset", "kind: aft, data: chatset, rl: dpo"),
      ),
    ).toThrow(/stage aft: rl, beta and steps belong to a preference stage/);
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
