import { SpecsciError } from "../../core/errors.js";

const PLACEHOLDER = /\{\{\s*([a-z][a-z0-9_]*)\s*\}\}/g;
/** Anything that still looks like a placeholder after rendering, in any common syntax. */
const LEFTOVER = /\{\{[^}]*\}\}|\$\{[^}]*\}|\{[a-z_][a-z0-9_]*\}/i;

/**
 * A strict template renderer: `{{name}}` slots, values that may themselves contain slots (up to a
 * small depth), and no forgiveness. A slot without a value, a cycle, or text that still looks like
 * a placeholder afterwards is an error naming where it happened. `used` collects every variable
 * consulted, so the caller can reject variables that were defined but never used.
 */
export function renderStrict(
  template: string,
  vars: Readonly<Record<string, string>>,
  used: Set<string>,
  where: string,
): string {
  const expand = (text: string, depth: number, chain: string[]): string =>
    text.replace(PLACEHOLDER, (_m, name: string) => {
      if (chain.includes(name))
        throw new SpecsciError(
          `${where}: placeholder {{${name}}} refers to itself (${[...chain, name].join(" → ")})`,
        );
      const value = vars[name];
      if (value === undefined)
        throw new SpecsciError(`${where}: placeholder {{${name}}} has no value`);
      used.add(name);
      if (depth > 4)
        throw new SpecsciError(`${where}: placeholders nested too deeply at {{${name}}}`);
      return expand(value, depth + 1, [...chain, name]);
    });
  const out = expand(template, 0, []);
  const left = LEFTOVER.exec(out);
  if (left)
    throw new SpecsciError(`${where}: unfilled placeholder ${left[0]} in the rendered text`);
  return out;
}
