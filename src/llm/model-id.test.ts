import { describe, expect, it } from "vitest";
import { isBuiltinModel, isLocalModel, parseModelId } from "./model-id.js";

describe("model ids", () => {
  it("say which models run here and which specsci built (their output is synthetic)", () => {
    expect(["local/builtin:tiny", "local/hf:o/r/m.gguf", "vllm/local/x"].map(isLocalModel)).toEqual(
      [true, true, false],
    );
    expect(
      ["local/builtin:tiny-judge", "local/hf:o/r/m.gguf", "builtin:tiny"].map(isBuiltinModel),
    ).toEqual([true, false, false]);
    expect(parseModelId("vllm/Qwen/Qwen3-8B")).toMatchObject({ provider: "vllm" });
  });
});
