// Apart from the model lists in models.ts, so that the CLI's help can name the defaults cheaply.

export type ModelRole = "target" | "judge" | "labeller" | "generator";

/**
 * specsci's default model for each role (`defaults:` in specsci.yaml overrides any of them), for
 * Anthropic and, where the quickstart finds only an OpenAI key, OpenAI. Each has a list price in
 * prices.ts and is not deprecated (a test checks both). They are the newest models that take the
 * sampling temperatures specsci sends: judges and labellers run at temperature 0, the
 * agentic-misalignment agent at 0.7, and Anthropic's models from Claude Opus 4.7 on (Sonnet 5,
 * Opus 5, Haiku 5.5, Fable) answer any temperature with HTTP 400.
 */
export const DEFAULT_MODELS = {
  anthropic: {
    target: "anthropic/claude-haiku-4-5",
    judge: "anthropic/claude-sonnet-4-6",
    labeller: "anthropic/claude-sonnet-4-6",
    generator: "anthropic/claude-opus-4-6",
  },
  openai: {
    target: "openai/gpt-5.4-mini",
    judge: "openai/gpt-5.4",
    labeller: "openai/gpt-5.4",
    generator: "openai/gpt-5.4",
  },
} as const satisfies Record<"anthropic" | "openai", Record<ModelRole, string>>;
