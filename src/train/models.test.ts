import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cleanupTempDirs, tempDir } from "../../test/helpers.js";
import { Store } from "../store/db.js";
import {
  externalModelKey,
  type ModelArtifact,
  modelKey,
  parseModelArtifact,
  registerModel,
  trainedModel,
  trainedModels,
} from "./models.js";

afterAll(cleanupTempDirs);

const record = (extra: Record<string, unknown> = {}): ModelArtifact =>
  ({
    id: "train-p-seed1/aft",
    run: "train-p-seed1",
    plan: "/plans/p.yaml",
    base_model: "Qwen/Qwen3-8B",
    served_base: "Qwen/Qwen3-8B",
    stage: "aft",
    stages: [{ name: "aft", kind: "aft", data: "/d/x.jsonl", data_sha256: "ab", tokens: 10 }],
    seed: 1,
    engine: "axolotl",
    hyperparameters: { lora_r: 16 },
    output_dir: "/out/aft",
    adapter: true,
    configs: { "/runs/aft.yaml": "base_model: Qwen/Qwen3-8B\n" },
    specsci: { version: "0.1.0" },
    ...extra,
  }) as ModelArtifact;

describe("the trained-model registry", () => {
  it("reads back what was registered, as stored, fields it does not know included", () => {
    const store = Store.open(join(tempDir(), "ws"));
    const a = record({ added_later: { x: 1 } });
    registerModel(store, modelKey("train-p-seed1", "aft"), a, { base_model: a.base_model });
    const b = record({ id: "external/x", stage: "external", engine: "external", seed: -1 });
    registerModel(store, externalModelKey("x"), b, {});
    const back = trainedModel(store, "model:train-p-seed1:aft");
    expect(JSON.stringify(back)).toBe(JSON.stringify(a));
    expect(trainedModels(store).map((m) => m.id)).toEqual(["train-p-seed1/aft", "external/x"]);
    expect(trainedModel(store, "model:train-q-seed1:aft")).toBeUndefined();
    store.close();
  });

  it("refuses a record that is not one, naming it", () => {
    const key = "model:train-p-seed1:aft";
    expect(() => parseModelArtifact("{not json", key)).toThrow(
      /^trained-model record model:train-p-seed1:aft is not JSON/,
    );
    expect(() => parseModelArtifact("null", key)).toThrow(
      /trained-model record model:train-p-seed1:aft is not one specsci wrote \(record: /,
    );
    const noBase = { ...record() } as Partial<ModelArtifact>;
    delete noBase.base_model;
    expect(() => parseModelArtifact(JSON.stringify(noBase), key)).toThrow(
      /not one specsci wrote \(base_model: /,
    );
    expect(() =>
      parseModelArtifact(JSON.stringify(record({ stages: [{ name: "aft" }] })), key),
    ).toThrow(/\(stages\.0\.kind: /);
    expect(() => parseModelArtifact(JSON.stringify(record({ seed: "1" })), key)).toThrow(
      /\(seed: /,
    );
  });

  it("lists through the same check: a damaged record stops the listing by name", () => {
    const store = Store.open(join(tempDir(), "ws"));
    registerModel(store, modelKey("train-p-seed1", "aft"), record(), {});
    store.artifacts.put("model:train-p-seed2:aft", "model", '{"id": "train-p-seed2/aft"}', {});
    expect(() => trainedModels(store)).toThrow(/model:train-p-seed2:aft is not one specsci wrote/);
    store.close();
  });
});
