import { Template } from "@huggingface/jinja";
import { describe, expect, it } from "vitest";
import { approximateCount, getChatTemplate } from "../data/chat-template.js";
import type { ChatMessage } from "../llm/types.js";
import {
  BASE_FAMILIES,
  BASES,
  baseFamilyOf,
  baseSizeOf,
  memoryEstimate,
  resolveBaseFamily,
} from "./bases.js";

const chat: ChatMessage[] = [
  { role: "system", content: "S" },
  { role: "user", content: "U1" },
  { role: "assistant", content: "A1" },
  { role: "user", content: "U2" },
  { role: "assistant", content: "A2" },
  { role: "user", content: "U3" },
  { role: "assistant", content: "A3" },
];

const family = (id: string) => BASES.find((b) => b.id === id) as (typeof BASES)[number];
const render = (id: string, messages = chat) => {
  const t = family(id).template;
  return new Template(t.jinja).render({
    messages,
    add_generation_prompt: false,
    bos_token: t.bos,
    eos_token: t.eos,
  });
};

describe("base-model registry", () => {
  it("covers the families the issue names", () => {
    expect(BASE_FAMILIES).toEqual(
      expect.arrayContaining(["qwen2.5", "qwen3", "llama3", "gemma3", "olmo2", "mistral"]),
    );
    for (const b of BASES) for (const e of b.examples) expect(baseFamilyOf(e)?.id).toBe(b.id);
  });

  it("renders a 3-turn chat in each family's documented format", () => {
    const im = (r: string, c: string) => `<|im_start|>${r}\n${c}<|im_end|>\n`;
    const history = ["S", "U1", "A1", "U2", "A2", "U3"]
      .map((c) => im({ S: "system", U: "user", A: "assistant" }[c[0] as "S"], c))
      .join("");
    expect(render("qwen2.5")).toBe(`${history}${im("assistant", "A3")}`);
    expect(render("qwen3")).toBe(`${history}${im("assistant", "<think>\n\n</think>\n\nA3")}`);
    const h = (r: string, c: string) =>
      `<|start_header_id|>${r}<|end_header_id|>\n\n${c}<|eot_id|>`;
    expect(render("llama3")).toBe(
      `<|begin_of_text|>${h("system", "S")}${h("user", "U1")}${h("assistant", "A1")}${h("user", "U2")}${h("assistant", "A2")}${h("user", "U3")}${h("assistant", "A3")}`,
    );
    const g = (r: string, c: string) => `<start_of_turn>${r}\n${c}<end_of_turn>\n`;
    expect(render("gemma3")).toBe(
      `<bos>${g("user", "S\n\nU1")}${g("model", "A1")}${g("user", "U2")}${g("model", "A2")}${g("user", "U3")}${g("model", "A3")}`,
    );
    expect(render("olmo2")).toBe(
      "<|endoftext|><|system|>\nS\n<|user|>\nU1\n<|assistant|>\nA1<|endoftext|>\n<|user|>\nU2\n<|assistant|>\nA2<|endoftext|>\n<|user|>\nU3\n<|assistant|>\nA3<|endoftext|>",
    );
    expect(render("mistral")).toBe(
      "<s>[INST]S\n\nU1[/INST]A1</s>[INST]U2[/INST]A2</s>[INST]U3[/INST]A3</s>",
    );
    expect(render("mistral-small")).toBe(
      "<s>[SYSTEM_PROMPT]S[/SYSTEM_PROMPT][INST]U1[/INST]A1</s>[INST]U2[/INST]A2</s>[INST]U3[/INST]A3</s>",
    );
  });

  it("writes Qwen's templates as Qwen's own shipped templates render them", () => {
    for (const id of ["qwen2.5", "qwen3"] as const) {
      expect(render(id)).toBe(getChatTemplate(id).render(chat));
      // Qwen2.5's default system prompt where the chat has none.
      expect(render(id, chat.slice(1))).toBe(getChatTemplate(id).render(chat.slice(1)));
    }
  });

  it("counts tokens with the family's own tokenizer: control tokens are one each", () => {
    // <|begin_of_text|>, 7 turns × (header start, role, header end, "\n\n", eot), then the
    // texts: "S" one token, "U1" … "A3" two each (Llama 3 splits digits off).
    expect(getChatTemplate("llama3").count(chat)).toBe(1 + 7 * 5 + 1 + 6 * 2);
    expect(getChatTemplate("llama3").render(chat)).toBe(render("llama3"));
  });

  it("approximates the count of a family without a packaged tokenizer, control tokens one each", () => {
    const words = (t: string) => t.split(/\s+/).filter(Boolean).length;
    expect(
      approximateCount("<s>[INST]a b[/INST]c</s>", ["<s>", "</s>", "[INST]", "[/INST]"], words),
    ).toBe(4 + 3);
    const olmo = family("olmo2").template;
    expect(olmo.tokenizer.kind).toBe("approximate");
    expect(getChatTemplate("olmo2").count(chat)).toBeGreaterThan(olmo.specialTokens.length);
  });

  it("names the setting and the known families for an unknown base; an explicit family wins", () => {
    expect(() => resolveBaseFamily("./my-model", "train.yaml: base_model")).toThrow(
      /train\.yaml: base_model: "\.\/my-model" is not a known base-model family/,
    );
    try {
      resolveBaseFamily("./my-model", "base_model");
    } catch (e) {
      expect((e as { hint?: string }).hint).toContain("qwen3, llama3, gemma3");
    }
    expect(resolveBaseFamily("./my-model", "base_model", "gemma3").id).toBe("gemma3");
    expect(() => resolveBaseFamily("x", "base_family", "gpt")).toThrow(/unknown base family "gpt"/);
  });

  it("estimates GPU memory from the size's shape (weights + LoRA + activations)", () => {
    const s = baseSizeOf(family("llama3"), "meta-llama/Llama-3.1-8B-Instruct");
    expect(s?.size).toBe("8B");
    const m = memoryEstimate(s as NonNullable<typeof s>, {
      lora_r: 64,
      sequence_len: 4096,
      micro_batch_size: 1,
    });
    const GiB = 1024 ** 3;
    expect(m.weightsGiB).toBeCloseTo((8.03e9 * 2) / GiB, 6);
    expect(m.loraGiB).toBeCloseTo((64 * 32 * (8 * 4096 + 3 * (4096 + 14336)) * 16) / GiB, 6);
    expect(m.activationsGiB).toBeCloseTo((4096 * 4096 * 32 * 2 + 4096 * 128256 * 4) / GiB, 6);
    expect(m.totalGiB).toBeCloseTo(m.weightsGiB + m.loraGiB + m.activationsGiB, 6);
    expect(baseSizeOf(family("qwen2.5"), "Qwen/Qwen2.5-0.5B")?.params).toBe(0.49);
    expect(baseSizeOf(family("qwen3"), "Qwen/Qwen3-30B-A3B")).toBeUndefined();
  });
});
