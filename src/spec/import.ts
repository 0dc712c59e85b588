/**
 * Converting a spec file to specsci's own Markdown: any layout in, the heading layout out, with
 * placeholders filled and the front matter saying where it came from.
 */
import { basename, extname } from "node:path";
import { sha256Hex } from "../core/hash.js";
import type { Diagnostic } from "./diagnostics.js";
import { lintSpec } from "./lint.js";
import { rulesOf, type Spec, withoutPositions } from "./model.js";
import { type ParseResult, parseSpec } from "./parse.js";
import type { PlaceholderValues } from "./placeholders.js";
import { renderSpec } from "./render.js";

/** Front matter of an imported spec: the source file's name and sha256, and the values set. */
export interface ImportRecord {
  file: string;
  sha256: string;
  set?: PlaceholderValues;
}

export interface ImportResult {
  /** The spec as imported (front matter included); `diagnostics` say whether it may be used. */
  spec: Spec;
  markdown: string;
  diagnostics: Diagnostic[];
  layout: ParseResult["layout"];
}

/**
 * Imports the text of `file`. The front matter keeps the source's keys, gains `imported` (and
 * `name`, from the file name, when there is none). The output is checked to read back as the same
 * rules; a difference would be a bug in a reader or the renderer, so it throws.
 */
export function importSpec(
  source: string,
  file: string,
  set: PlaceholderValues = {},
): ImportResult {
  const parsed = parseSpec(source, { set });
  const diagnostics = lintSpec(parsed.spec, parsed.diagnostics);
  const imported: ImportRecord = { file: basename(file), sha256: sha256Hex(source) };
  if (Object.keys(set).length) imported.set = { ...set };
  const spec: Spec = {
    ...parsed.spec,
    frontMatter: {
      ...(parsed.spec.frontMatter.name === undefined
        ? { name: basename(file, extname(file)) }
        : {}),
      ...parsed.spec.frontMatter,
      imported,
    },
  };
  const markdown = renderSpec(spec);
  const back = JSON.stringify(withoutPositions(rulesOf(parseSpec(markdown).spec)));
  if (back !== JSON.stringify(withoutPositions(rulesOf(spec))))
    throw new Error(`importing ${file}: the converted spec does not read back as the same rules`);
  return { spec, markdown, diagnostics, layout: parsed.layout };
}
