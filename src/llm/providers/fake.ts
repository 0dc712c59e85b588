import { ModelCallError } from "../errors.js";
import type { ChatRequest, ProviderModel, ProviderResult } from "../types.js";

/**
 * In-process fake models for tests of the layers above `llm` (and nothing else). `fake/echo`
 * answers "echo: <last user message>"; tests register scripted models with `registerFakeModel`.
 * Tokens are counted as ceil(chars / 4), and `max_tokens` truncates like a real model would.
 */
export type FakeHandler = (
  req: ChatRequest,
) => string | Partial<ProviderResult> | Promise<string | Partial<ProviderResult>>;

const handlers = new Map<string, FakeHandler>([
  [
    "echo",
    (req) => `echo: ${[...req.messages].reverse().find((m) => m.role === "user")?.content ?? ""}`,
  ],
]);

export function registerFakeModel(name: string, handler: FakeHandler): void {
  handlers.set(name, handler);
}

export function fakeModelNames(): string[] {
  return [...handlers.keys()];
}

const tokens = (s: string) => Math.ceil(s.length / 4);

export class FakeModel implements ProviderModel {
  readonly identity = { provider: "fake" };
  constructor(
    readonly id: string,
    private readonly name: string,
  ) {}

  async complete(req: ChatRequest): Promise<ProviderResult> {
    const handler = handlers.get(this.name);
    if (!handler) {
      throw new ModelCallError(
        "not_found",
        `${this.id}: no fake model "${this.name}" (known: ${fakeModelNames().join(", ")})`,
      );
    }
    const out = await handler(req);
    const partial = typeof out === "string" ? { text: out } : out;
    let text = partial.text ?? "";
    let stopReason = partial.stopReason ?? "end";
    const limitChars = req.params.max_tokens * 4;
    if (text.length > limitChars) {
      text = text.slice(0, limitChars);
      stopReason = "max_tokens";
    }
    const input = req.messages.reduce((n, m) => n + tokens(m.content), 0);
    return {
      providerStopReason: stopReason,
      ...partial,
      text,
      stopReason,
      usage: partial.usage ?? { input_tokens: input, output_tokens: tokens(text) },
    };
  }
}
