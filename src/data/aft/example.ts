/**
 * A training example as the trainer sees it. The spec is never in it: the system message is the
 * scenario's own (if any), so the with-reasoning set is the deliberative-alignment baseline (spec
 * in context at generation, absent at training). The no-reasoning set drops the thinking; for
 * Qwen3 it follows the model's no-think convention (`/no_think` and an empty think block).
 */
import type { ChatMessage } from "../../llm/types.js";
import type { ChatTemplate } from "../chat-template.js";
import type { JudgeVerdict, TeacherResponse, UserPrompt } from "./stages.js";

export interface AftExample {
  id: string;
  prompt: UserPrompt;
  response: TeacherResponse;
  judge: JudgeVerdict;
  /** Tokens in the trained model's chat template, with and without the reasoning. */
  tokens: { reasoning: number; plain: number };
}

export function chatMessages(
  p: UserPrompt,
  r: TeacherResponse,
  template: ChatTemplate,
  withReasoning: boolean,
): ChatMessage[] {
  const messages: ChatMessage[] = p.system ? [{ role: "system", content: p.system }] : [];
  if (withReasoning) {
    messages.push({ role: "user", content: p.user });
    messages.push({
      role: "assistant",
      content: `<think>\n${r.reasoning}\n</think>\n\n${r.reply}`,
    });
  } else {
    const nt = template.noThink;
    messages.push({ role: "user", content: nt ? `${p.user}${nt.userSuffix}` : p.user });
    messages.push({ role: "assistant", content: nt ? `${nt.assistantPrefix}${r.reply}` : r.reply });
  }
  return messages;
}
