import { SpecsciError } from "../core/errors.js";
import { readUserFile } from "../core/fs.js";
import { type Diagnostic, formatDiagnostic } from "./diagnostics.js";
import { lintSpec } from "./lint.js";
import type { Spec } from "./model.js";
import { type ParseOptions, type ParseResult, parseSpec } from "./parse.js";
import { unfilledName } from "./placeholders.js";

export function readSpecSource(path: string): string {
  return readUserFile(path, "spec");
}

/** Reads, parses (filling placeholders from front matter and `options.set`) and lints a spec file. */
export function checkSpecFile(
  path: string,
  options: ParseOptions = {},
): { spec: Spec; diagnostics: Diagnostic[]; layout: ParseResult["layout"] } {
  const { spec, diagnostics, layout } = parseSpec(readSpecSource(path), options);
  return { spec, diagnostics: lintSpec(spec, diagnostics), layout };
}

/**
 * A spec that must be sound to be used (transforms, stats): lint errors stop here, named. Unfilled
 * placeholders are told how to be filled: `--set NAME=VALUE` unless `setHint` says otherwise
 * (an experiment's `set:`).
 */
export function requireValidSpec(
  spec: Spec,
  diagnostics: Diagnostic[],
  label: string,
  setHint: (names: string[]) => string = (names) =>
    `give each a value: ${names.map((n) => `--set ${n}=VALUE`).join(" ")} (or a front matter key)`,
): Spec {
  const errors = diagnostics.filter((d) => d.severity === "error");
  if (errors.length) {
    const unfilled = [
      ...new Set(errors.map(unfilledName).filter((n): n is string => n !== undefined)),
    ];
    throw new SpecsciError(
      `${label} has ${errors.length} problem(s):\n${errors.map((d) => `  ${formatDiagnostic(label, d)}`).join("\n")}`,
      {
        hint: unfilled.length
          ? setHint(unfilled)
          : `run \`specsci spec lint ${label}\` for the full list`,
      },
    );
  }
  return spec;
}
