/**
 * Which models reason natively (a hidden or `<think>` chain before the answer). The MSM paper gives
 * non-reasoning models the agentic-misalignment scenarios' secret scratchpad and reasoning models
 * none, so an eval set to `scratchpad: auto` asks this. Matched on the model id and, for a trained
 * model, on the base it was trained from; a name not listed is taken as non-reasoning.
 */
const REASONING_FAMILIES: { pattern: RegExp; why: string }[] = [
  // Qwen3 checkpoints think by default (the paper's Qwen3-14B/32B); the 2507 Instruct ones do not.
  { pattern: /qwen3(?![\w.-]*instruct-2507)/i, why: "Qwen3 (thinking by default)" },
  { pattern: /qwq/i, why: "QwQ" },
  { pattern: /deepseek-r1/i, why: "DeepSeek-R1" },
  { pattern: /gpt-oss/i, why: "gpt-oss" },
  { pattern: /magistral/i, why: "Magistral" },
  { pattern: /reasoning|thinking/i, why: "a reasoning or thinking variant" },
  // OpenAI's o-series and GPT-5 family reason before answering (their -chat models do not).
  { pattern: /(^|\/)(o[134](-|$)|gpt-5(?![\w.-]*chat))/i, why: "an OpenAI reasoning model" },
];

/** The family that makes a model a native reasoner, or undefined for a non-reasoning one. */
export function nativeReasoning(...names: (string | undefined)[]): string | undefined {
  for (const name of names) {
    if (!name) continue;
    const hit = REASONING_FAMILIES.find((f) => f.pattern.test(name));
    if (hit) return hit.why;
  }
  return undefined;
}
