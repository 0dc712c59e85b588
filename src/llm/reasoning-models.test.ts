import { describe, expect, it } from "vitest";
import { nativeReasoning } from "./reasoning-models.js";

describe("nativeReasoning", () => {
  it("knows the paper's bases: Qwen3 reasons, Qwen2.5 Instruct does not", () => {
    expect(nativeReasoning("vllm/Qwen/Qwen3-14B")).toMatch(/Qwen3/);
    expect(nativeReasoning("Qwen/Qwen3-32B")).toMatch(/Qwen3/);
    expect(nativeReasoning("vllm/Qwen/Qwen2.5-32B-Instruct")).toBeUndefined();
    expect(nativeReasoning("Qwen/Qwen3-30B-A3B-Instruct-2507")).toBeUndefined();
    expect(nativeReasoning("Qwen/Qwen3-30B-A3B-Thinking-2507")).toBeDefined();
  });
  it("reads a trained model's base when its served name says nothing", () => {
    expect(nativeReasoning("trained/exp-aft-rules-seed0", "Qwen/Qwen3-8B")).toBeDefined();
    expect(
      nativeReasoning("trained/exp-aft-rules-seed0", "meta-llama/Llama-3.1-8B"),
    ).toBeUndefined();
  });
  it("knows other reasoning families and leaves ordinary chat models alone", () => {
    for (const id of [
      "openai/o3-mini",
      "openai/gpt-5.4",
      "vllm/deepseek-ai/DeepSeek-R1",
      "vllm/openai/gpt-oss-20b",
    ])
      expect(nativeReasoning(id), id).toBeDefined();
    for (const id of [
      "anthropic/claude-haiku-4-5",
      "openai/gpt-4.1",
      "vllm/google/gemma-3-27b-it",
      "openai/gpt-5.3-chat-latest",
    ])
      expect(nativeReasoning(id), id).toBeUndefined();
  });
});
