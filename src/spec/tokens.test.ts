import { describe, expect, it } from "vitest";
import { getTokenizer, TOKENIZERS } from "./tokens.js";

describe("base families' tokenizers", () => {
  it("each name counts with its own vocabulary (control tokens by their ids there)", () => {
    expect(TOKENIZERS).toEqual(expect.arrayContaining(["qwen2.5", "llama3", "gemma3"]));
    expect(getTokenizer("llama3").encode("<|start_header_id|>")).toEqual([128006]);
    expect(getTokenizer("gemma3").encode("<start_of_turn>")).toEqual([105]);
    // Qwen's vocabulary has no Llama header token: it splits into pieces.
    expect(getTokenizer("qwen2.5").count("<|start_header_id|>")).toBeGreaterThan(1);
  });

  it("refuses an unknown name, listing the known ones", () => {
    expect(() => getTokenizer("gpt2" as never)).toThrow(/unknown tokenizer "gpt2"/);
  });
});
