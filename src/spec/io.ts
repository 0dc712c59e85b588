import { SpecsciError } from "../core/errors.js";
import { readUserFile } from "../core/fs.js";
import { type Diagnostic, formatDiagnostic } from "./diagnostics.js";
import { lintSpec } from "./lint.js";
import type { Spec } from "./model.js";
import { parseSpec } from "./parse.js";

export function readSpecSource(path: string): string {
  return readUserFile(path, "spec");
}

/** Reads, parses and lints a spec file. */
export function checkSpecFile(path: string): { spec: Spec; diagnostics: Diagnostic[] } {
  const { spec, diagnostics } = parseSpec(readSpecSource(path));
  return { spec, diagnostics: lintSpec(spec, diagnostics) };
}

/** A spec that must be sound to be used (transforms, stats): lint errors stop here, named. */
export function requireValidSpec(spec: Spec, diagnostics: Diagnostic[], label: string): Spec {
  const errors = diagnostics.filter((d) => d.severity === "error");
  if (errors.length) {
    throw new SpecsciError(
      `${label} has ${errors.length} problem(s):\n${errors.map((d) => `  ${formatDiagnostic(label, d)}`).join("\n")}`,
      { hint: `run \`specsci spec lint ${label}\` for the full list` },
    );
  }
  return spec;
}
