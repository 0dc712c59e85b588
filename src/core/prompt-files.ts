/**
 * Prompts as versioned files under `prompts/<set>/` (shipped with the package): Markdown with a
 * `version` in front matter and `{{name}}` slots. The version recorded in provenance is
 * `name@version+sha`, where sha hashes the text, so an edit that forgot to bump the version is
 * still told apart.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import { sha256Hex } from "./hash.js";

export const PROMPTS_ROOT = fileURLToPath(new URL("../../prompts/", import.meta.url));

export interface PromptTemplate {
  name: string;
  /** `document@1+3f2a9c1e`. */
  version: string;
  body: string;
  slots: string[];
}

const cache = new Map<string, PromptTemplate>();

export function loadPromptFile(set: string, name: string): PromptTemplate {
  const file = `${PROMPTS_ROOT}${set}/${name}.md`;
  const hit = cache.get(file);
  if (hit) return hit;
  const text = readFileSync(file, "utf8");
  const m = /^---\n([\s\S]*?)\n---\n([\s\S]*)$/.exec(text);
  if (!m) throw new Error(`prompt ${file} has no front matter`);
  const meta = parseYaml(m[1] as string) as { version?: unknown };
  if (meta.version === undefined) throw new Error(`prompt ${file} has no version`);
  const body = (m[2] as string).trim();
  const slots = [...new Set([...body.matchAll(/\{\{(\w+)\}\}/g)].map((s) => s[1] as string))];
  const t: PromptTemplate = {
    name,
    version: `${name}@${String(meta.version)}+${sha256Hex(body).slice(0, 8)}`,
    body,
    slots,
  };
  cache.set(file, t);
  return t;
}

/**
 * Fills every slot. Hand-written rather than a template engine: slots are plain substitutions and
 * a missing or unknown value must fail loudly, which engines treat as an empty string.
 */
export function renderPrompt(t: PromptTemplate, values: Record<string, string>): string {
  for (const s of t.slots)
    if (values[s] === undefined) throw new Error(`prompt ${t.name}: no value for {{${s}}}`);
  for (const k of Object.keys(values))
    if (!t.slots.includes(k)) throw new Error(`prompt ${t.name}: it has no slot {{${k}}}`);
  return t.body
    .replace(/\{\{(\w+)\}\}/g, (_, s: string) => values[s] as string)
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}

/** Fills the slots a template has out of `values` (others are ignored). */
export function renderWith(t: PromptTemplate, values: Record<string, string>): string {
  return renderPrompt(
    t,
    Object.fromEntries(Object.entries(values).filter(([k]) => t.slots.includes(k))),
  );
}

export const feedbackText = (feedback?: string) =>
  feedback
    ? `\nYour previous answer could not be used: ${feedback}\nAnswer again, following the format exactly.`
    : "";

/** One prompt set: its names, loader and versions (for manifests). */
export function promptSet<N extends string>(set: string, names: readonly N[]) {
  return {
    names,
    load: (name: N) => loadPromptFile(set, name),
    versions: () =>
      Object.fromEntries(names.map((n) => [n, loadPromptFile(set, n).version])) as Record<
        N,
        string
      >,
  };
}
