import { existsSync, readdirSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { SpecsciError } from "../core/errors.js";
import { displayPath } from "../core/fs.js";
import { checkSpecFile, readSpecSource, requireValidSpec } from "./io.js";
import type { Spec } from "./model.js";
import { parseSpec } from "./parse.js";
import type { PlaceholderValues } from "./placeholders.js";

/** The built-in specs, shipped in `specs/` at the package root (next to `src/` and `dist/`). */
export const LIBRARY_DIR = fileURLToPath(new URL("../../specs/", import.meta.url));

export interface LibraryEntry {
  name: string;
  file: string;
  description: string;
  purpose: string;
}

/** The built-in specs' names and files, in name order, without reading them. */
export function libraryFiles(): { name: string; file: string }[] {
  return readdirSync(LIBRARY_DIR)
    .filter((f) => f.endsWith(".md"))
    .sort()
    .map((f) => ({ name: basename(f, ".md"), file: join(LIBRARY_DIR, f) }));
}

export function listLibrary(): LibraryEntry[] {
  return libraryFiles().map(({ name, file }) => {
    const fm = parseSpec(readSpecSource(file)).spec.frontMatter;
    return {
      name,
      file,
      description: String(fm.description ?? ""),
      purpose: String(fm.purpose ?? ""),
    };
  });
}

/**
 * A spec reference on the command line: a path to a Markdown file, or the name of a built-in
 * spec (`rules`, `value-augmented`, …). Paths win when both exist.
 */
export function resolveSpecRef(ref: string, o: { dir?: string; from?: string } = {}): string {
  const asPath = resolve(o.dir ?? ".", ref);
  if (existsSync(asPath)) return asPath;
  const builtIn = join(LIBRARY_DIR, `${ref}.md`);
  if (/^[a-z0-9-]+$/.test(ref) && existsSync(builtIn)) return builtIn;
  const from = o.from ? ` (${o.from})` : "";
  throw new SpecsciError(`no spec file ${asPath} and no built-in spec named "${ref}"${from}`, {
    hint: `built-in specs: ${listLibrary()
      .map((e) => e.name)
      .join(", ")} (see \`specsci spec list\`)`,
  });
}

/**
 * A spec named by the user (a file or a built-in name) that must be sound to be used; `set` fills
 * its placeholders. Files in the bullet layout are read as they are.
 */
/** The name data built from a spec goes by: its front matter's `name`, else its file's name. */
export function specNameOf(spec: Spec, path: string): string {
  return typeof spec.frontMatter.name === "string" ? spec.frontMatter.name : basename(path, ".md");
}

export function loadValidSpec(
  ref: string,
  set: PlaceholderValues = {},
): { spec: Spec; path: string } {
  const path = resolveSpecRef(ref);
  const { spec, diagnostics } = checkSpecFile(path, { set });
  return { spec: requireValidSpec(spec, diagnostics, displayPath(path)), path };
}
