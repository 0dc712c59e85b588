/**
 * What specsci knows about model names: the names the bundled provider SDKs list, which of them
 * the providers have deprecated, and specsci's default model for each role. Knowing a name is
 * only ever a warning: a model newer than the SDK is valid and is called as asked.
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { Model as AnthropicSdkModel } from "@anthropic-ai/sdk/resources/messages/messages";
import type { ChatModel as OpenAISdkModel } from "openai/resources/shared";
import { log } from "../core/log.js";
import { closestMatch } from "../core/text.js";
import type { Config } from "./config.js";
import { DEFAULT_MODELS, type ModelRole } from "./default-models.js";
import { parseModelId } from "./model-id.js";

export { DEFAULT_MODELS, type ModelRole } from "./default-models.js";

/** The model for a role: the config's `defaults:` first, then specsci's own. */
export function defaultModel(
  role: ModelRole,
  config: Pick<Config, "defaults">,
  provider: keyof typeof DEFAULT_MODELS = "anthropic",
): string {
  return config.defaults[role] ?? DEFAULT_MODELS[provider][role];
}

/** A union's literal members, without the `(string & {})` that keeps the SDK's type open. */
type Literal<T> = T extends string ? (string extends T ? never : T) : never;
/** True only when A and B have the same members. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

/** The names the Anthropic SDK's `Model` type lists (resources/messages/messages.d.ts). */
export const ANTHROPIC_MODEL_NAMES = [
  "claude-fable-5-2",
  "claude-mythos-5-2",
  "claude-haiku-5-5",
  "claude-sonnet-5-5",
  "claude-fable-5-1",
  "claude-opus-5-5",
  "claude-mythos-5-1",
  "claude-sonnet-5",
  "claude-fable-5",
  "claude-mythos-5",
  "claude-opus-5",
  "claude-opus-4-8",
  "claude-opus-4-7",
  "claude-mythos-preview",
  "claude-opus-4-6",
  "claude-sonnet-4-6",
  "claude-haiku-4-5",
  "claude-haiku-4-5-20251001",
  "claude-opus-4-5",
  "claude-opus-4-5-20251101",
  "claude-sonnet-4-5",
  "claude-sonnet-4-5-20250929",
] as const satisfies readonly Literal<AnthropicSdkModel>[];

/** The names the OpenAI SDK's `ChatModel` type lists (resources/shared.d.ts). */
export const OPENAI_MODEL_NAMES = [
  "gpt-5.6-sol",
  "gpt-5.6-terra",
  "gpt-5.6-luna",
  "gpt-5.4",
  "gpt-5.4-mini",
  "gpt-5.4-nano",
  "gpt-5.4-mini-2026-03-17",
  "gpt-5.4-nano-2026-03-17",
  "gpt-5.3-chat-latest",
  "gpt-5.2",
  "gpt-5.2-2025-12-11",
  "gpt-5.2-chat-latest",
  "gpt-5.2-pro",
  "gpt-5.2-pro-2025-12-11",
  "gpt-5.1",
  "gpt-5.1-2025-11-13",
  "gpt-5.1-codex",
  "gpt-5.1-mini",
  "gpt-5.1-chat-latest",
  "gpt-5",
  "gpt-5-mini",
  "gpt-5-nano",
  "gpt-5-2025-08-07",
  "gpt-5-mini-2025-08-07",
  "gpt-5-nano-2025-08-07",
  "gpt-5-chat-latest",
  "gpt-4.1",
  "gpt-4.1-mini",
  "gpt-4.1-nano",
  "gpt-4.1-2025-04-14",
  "gpt-4.1-mini-2025-04-14",
  "gpt-4.1-nano-2025-04-14",
  "o4-mini",
  "o4-mini-2025-04-16",
  "o3",
  "o3-2025-04-16",
  "o3-mini",
  "o3-mini-2025-01-31",
  "o1",
  "o1-2024-12-17",
  "o1-preview",
  "o1-preview-2024-09-12",
  "o1-mini",
  "o1-mini-2024-09-12",
  "gpt-4o",
  "gpt-4o-2024-11-20",
  "gpt-4o-2024-08-06",
  "gpt-4o-2024-05-13",
  "gpt-4o-audio-preview",
  "gpt-4o-audio-preview-2024-10-01",
  "gpt-4o-audio-preview-2024-12-17",
  "gpt-4o-audio-preview-2025-06-03",
  "gpt-4o-mini-audio-preview",
  "gpt-4o-mini-audio-preview-2024-12-17",
  "gpt-4o-search-preview",
  "gpt-4o-mini-search-preview",
  "gpt-4o-search-preview-2025-03-11",
  "gpt-4o-mini-search-preview-2025-03-11",
  "chatgpt-4o-latest",
  "codex-mini-latest",
  "gpt-4o-mini",
  "gpt-4o-mini-2024-07-18",
  "gpt-4-turbo",
  "gpt-4-turbo-2024-04-09",
  "gpt-4-0125-preview",
  "gpt-4-turbo-preview",
  "gpt-4-1106-preview",
  "gpt-4-vision-preview",
  "gpt-4",
  "gpt-4-0314",
  "gpt-4-0613",
  "gpt-4-32k",
  "gpt-4-32k-0314",
  "gpt-4-32k-0613",
  "gpt-3.5-turbo",
  "gpt-3.5-turbo-16k",
  "gpt-3.5-turbo-0301",
  "gpt-3.5-turbo-0613",
  "gpt-3.5-turbo-1106",
  "gpt-3.5-turbo-0125",
  "gpt-3.5-turbo-16k-0613",
] as const satisfies readonly Literal<OpenAISdkModel>[];

/**
 * Types are not there at run time, so the lists above are copies; these fail to compile when an
 * SDK upgrade changes its list, until the copy is brought up to date.
 */
export type AnthropicListUpToDate =
  Same<(typeof ANTHROPIC_MODEL_NAMES)[number], Literal<AnthropicSdkModel>> extends true
    ? true
    : never;
export type OpenAIListUpToDate =
  Same<(typeof OPENAI_MODEL_NAMES)[number], Literal<OpenAISdkModel>> extends true ? true : never;
export const MODEL_LISTS_UP_TO_DATE: [AnthropicListUpToDate, OpenAIListUpToDate] = [true, true];

/**
 * A table from the Anthropic SDK's internal data (the ones behind its per-call console warnings).
 * The package does not export them, so they are read from the installed package by path; if a
 * later SDK moves one, it reads as absent, and a test says so.
 */
function anthropicSdkData<T>(file: string, name: string): T | undefined {
  try {
    const require = createRequire(import.meta.url);
    const root = dirname(require.resolve("@anthropic-ai/sdk"));
    return (require(join(root, "internal", "data", file)) as Record<string, T>)[name];
  } catch {
    return undefined;
  }
}

/** Deprecated Anthropic models and their end-of-life dates, as the SDK lists them. */
export const ANTHROPIC_DEPRECATED: Readonly<Record<string, string>> =
  anthropicSdkData<Record<string, string>>("deprecated-models.js", "DEPRECATED_MODELS") ?? {};

/** Anthropic models on which the SDK calls `thinking.type: enabled` deprecated (use adaptive). */
export const ANTHROPIC_ADAPTIVE_THINKING: readonly string[] =
  anthropicSdkData<string[]>(
    "models-to-warn-with-thinking-enabled.js",
    "MODELS_TO_WARN_WITH_THINKING_ENABLED",
  ) ?? [];

/**
 * OpenAI's announced shutdowns for the models its SDK lists (its deprecations page, read
 * 2026-12; the SDK carries no such table). Models shut down already are listed too, so that an
 * old experiment file says why its calls fail.
 */
const OPENAI_SHUTDOWNS: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries({
    "October 23rd, 2026": [
      "gpt-4.1-nano",
      "gpt-4.1-nano-2025-04-14",
      "o4-mini",
      "o4-mini-2025-04-16",
      "o3-mini",
      "o3-mini-2025-01-31",
      "o1",
      "o1-2024-12-17",
      "gpt-4",
      "gpt-4-0613",
      "gpt-4-1106-preview",
      "gpt-4-turbo",
      "gpt-4-turbo-2024-04-09",
      "gpt-4o-2024-05-13",
      "gpt-3.5-turbo",
      "gpt-3.5-turbo-0125",
    ],
    "December 11th, 2026": [
      "gpt-5",
      "gpt-5-2025-08-07",
      "gpt-5-mini",
      "gpt-5-mini-2025-08-07",
      "gpt-5-nano",
      "gpt-5-nano-2025-08-07",
      "o3",
      "o3-2025-04-16",
    ],
    "January 14th, 2027": [
      "gpt-4o",
      "gpt-4o-2024-08-06",
      "gpt-4o-2024-11-20",
      "gpt-4o-mini",
      "gpt-4o-mini-2024-07-18",
      "gpt-4.1",
      "gpt-4.1-2025-04-14",
      "gpt-4.1-mini",
      "gpt-4.1-mini-2025-04-14",
    ],
  }).flatMap(([date, names]) => names.map((n) => [n, date])),
);

/** When a model reaches (or reached) end of life, if its provider has deprecated it. */
export function endOfLife(id: string): string | undefined {
  const { provider, name } = parseModelId(id);
  if (provider === "anthropic") return ANTHROPIC_DEPRECATED[name];
  if (provider === "openai") return OPENAI_SHUTDOWNS[name];
  return undefined;
}

/** "November 30th, 2026" → a Date; undefined when the text is not a date. */
function parseDay(text: string): Date | undefined {
  const t = Date.parse(text.replace(/(\d+)(st|nd|rd|th)\b/, "$1"));
  return Number.isNaN(t) ? undefined : new Date(t);
}

/** One line for a deprecated model, or undefined for a model that is not deprecated. */
export function deprecationNotice(id: string, now = new Date()): string | undefined {
  const date = endOfLife(id);
  if (!date) return undefined;
  const day = parseDay(date);
  const past = day !== undefined && day.getTime() <= now.getTime();
  return `${id} is deprecated: it ${past ? "reached" : "reaches"} end of life on ${date}${past ? ", so its calls may fail" : ""}; choose a current model (see the provider's model deprecations page)`;
}

/** The names a provider is known to serve, where specsci knows them. */
function knownNames(
  provider: string,
  config: Pick<Config, "endpoints">,
): readonly string[] | undefined {
  if (provider === "anthropic") return ANTHROPIC_MODEL_NAMES;
  if (provider === "openai") return OPENAI_MODEL_NAMES;
  return config.endpoints[provider]?.models;
}

/** Where the list of known names comes from, for the warning. */
function listSource(provider: string): string {
  if (provider === "anthropic") return "the Anthropic SDK's model list";
  if (provider === "openai") return "the OpenAI SDK's model list";
  return `the models listed for endpoint ${provider} in specsci.yaml`;
}

/** The closest name in `names`, if it is close enough to be a likely typo of `name`. */
export function closestName(name: string, names: readonly string[]): string | undefined {
  return closestMatch(name, names, Math.max(2, Math.floor(name.length / 4)));
}

/** A warning for an id whose provider does not list its name, or undefined when it does. */
export function unknownModelNotice(
  id: string,
  config: Pick<Config, "endpoints">,
): string | undefined {
  const { provider, name } = parseModelId(id);
  const names = knownNames(provider, config);
  if (!names || names.includes(name)) return undefined;
  const guess = closestName(name, names);
  return `${id} is not in ${listSource(provider)}${guess ? `; did you mean ${provider}/${guess}?` : ""} (calls go ahead: a newer model than the list may exist)`;
}

/**
 * Deprecation and unknown-name warnings, each said once per model for the lifetime of this
 * object (one per run: the client that owns it lives as long as the command).
 */
export class ModelNotices {
  private readonly seen = new Set<string>();

  constructor(
    private readonly config: Pick<Config, "endpoints">,
    private readonly warn: (message: string) => void = (m) => log.warn(m),
  ) {}

  check(id: string): void {
    if (this.seen.has(id)) return;
    this.seen.add(id);
    for (const notice of [deprecationNotice(id), unknownModelNotice(id, this.config)])
      if (notice) this.warn(notice);
  }
}
