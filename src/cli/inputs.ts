/** Inputs commands share: specs named on the command line, the scenario pack as evaluation text. */
import { relative } from "node:path";
import { checkSpecFile, requireValidSpec } from "../spec/io.js";
import { resolveSpecRef } from "../spec/library.js";
import type { Spec } from "../spec/model.js";
import type { PlaceholderValues } from "../spec/placeholders.js";

/** A path as the user would type it from here. */
export const label = (path: string) => {
  const rel = relative(process.cwd(), path);
  return rel.startsWith("..") ? path : rel;
};

/**
 * A spec given on the command line (a file or a built-in name), which must be sound to be used;
 * `set` fills its placeholders (`--set`). Files in the bullet layout are read as they are.
 */
export function loadValid(ref: string, set: PlaceholderValues = {}): { spec: Spec; path: string } {
  const path = resolveSpecRef(ref);
  const { spec, diagnostics } = checkSpecFile(path, { set });
  return { spec: requireValidSpec(spec, diagnostics, label(path)), path };
}

export { scenarioPackTexts } from "../experiment/scenario-texts.js";
