/**
 * Placeholders in a spec's text, such as `{model_name}` in the paper's released specs.
 *
 * A placeholder is one identifier (a letter or `_`, then letters, digits or `_`) in single braces:
 * `{model_name}`, `{developer}`. Nothing else is one, so braces that are not placeholders are left
 * as written: JSON (`{"a": 1}`), spaced or empty braces (`{ x }`, `{}`), and doubled braces
 * (`{{model_name}}`, the usual way to write a literal placeholder). Only the text after the front
 * matter is read; values come from the front matter's one-line scalar keys and from `--set`
 * (which wins).
 */
import type { Diagnostic } from "./diagnostics.js";

export const PLACEHOLDER = /(?<!\{)\{([A-Za-z_][A-Za-z0-9_]*)\}(?!\})/g;

/** Values for placeholders, by name. */
export type PlaceholderValues = Record<string, string>;

export interface Placeholder {
  name: string;
  /** 1-based position in the file. */
  line: number;
  column: number;
}

/** Front matter keys that can fill a placeholder: strings, numbers and booleans on one line. */
export function frontMatterValues(frontMatter: Record<string, unknown>): PlaceholderValues {
  const out: PlaceholderValues = {};
  for (const [key, v] of Object.entries(frontMatter)) {
    if (typeof v === "number" || typeof v === "boolean") out[key] = String(v);
    else if (typeof v === "string" && !v.includes("\n")) out[key] = v;
  }
  return out;
}

/**
 * Fills the placeholders of `text` from offset `from` on (the end of the front matter). Values
 * are one line, so line numbers after filling are those of the file.
 */
export function fillPlaceholders(
  text: string,
  values: PlaceholderValues,
  from = 0,
): { text: string; unfilled: Placeholder[] } {
  const unfilled: Placeholder[] = [];
  const head = text.slice(0, from);
  const body = text.slice(from).replace(PLACEHOLDER, (match, name: string, offset: number) => {
    const value = values[name];
    if (value !== undefined) return value;
    unfilled.push({ name, ...positionOf(text, from + offset) });
    return match;
  });
  return { text: head + body, unfilled };
}

function positionOf(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const lineStart = before.lastIndexOf("\n") + 1;
  return { line: before.split("\n").length, column: offset - lineStart + 1 };
}

/** An error per placeholder left unfilled, saying how to fill it. */
export function unfilledDiagnostics(unfilled: Placeholder[]): Diagnostic[] {
  return unfilled.map((p) => ({
    line: p.line,
    column: p.column,
    severity: "error",
    code: "unfilled-placeholder",
    message: `placeholder {${p.name}} has no value: give one with --set ${p.name}=VALUE or a front matter key ${p.name}`,
  }));
}

/** Checks a value given for a placeholder (`--set`, an experiment's `set:`); the problem, or undefined. */
export function placeholderValueProblem(name: string, value: string): string | undefined {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
    return `"${name}" is not a placeholder name (a letter or _, then letters, digits or _)`;
  if (value.includes("\n")) return `the value of ${name} must be one line`;
  return undefined;
}

/** The placeholder an `unfilled-placeholder` diagnostic is about (undefined for other codes). */
export function unfilledName(d: Diagnostic): string | undefined {
  return d.code === "unfilled-placeholder" ? /\{(\w+)\}/.exec(d.message)?.[1] : undefined;
}
