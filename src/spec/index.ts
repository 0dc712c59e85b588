/**
 * spec's public surface: the spec model, parsing, linting, rendering, diff, stats and tokenizers,
 * the built-in library, and deriving variants by transform. Markdown plumbing, the transforms'
 * prompts and their steps stay internal.
 */
export {
  type CheckedDerivation,
  type DeriveOptions,
  deriveCheckedRichnessLadder,
  deriveCheckedSpec,
  UnsoundDerivedSpec,
} from "./derive.js";
export { type Diagnostic, formatDiagnostic, type Severity } from "./diagnostics.js";
export { diffSpecs, formatDiff, type RuleDiff, type SpecDiff, type SubruleRef } from "./diff.js";
export { type FrontMatter, FrontMatterSchema, type LineageStep } from "./frontmatter.js";
export { specHash } from "./hash.js";
export { findReferences, parseRuleHeading, RULE_ID } from "./ids.js";
export { type ImportRecord, type ImportResult, importSpec } from "./import.js";
export { checkSpecFile, readSpecSource, requireValidSpec } from "./io.js";
export {
  LIBRARY_DIR,
  type LibraryEntry,
  libraryFiles,
  listLibrary,
  loadValidSpec,
  resolveSpecRef,
  specNameOf,
} from "./library.js";
export { lintSource, lintSpec } from "./lint.js";
export {
  type Block,
  explanationOf,
  type Pos,
  type Rule,
  type RuleBlock,
  rulesOf,
  type Section,
  type Spec,
  type SpecNode,
  type Subrule,
  type SubruleList,
  sectionsOf,
  subrulesOf,
  withoutPositions,
} from "./model.js";
export { type ParseOptions, type ParseResult, parseSpec } from "./parse.js";
export {
  fillPlaceholders,
  PLACEHOLDER,
  type Placeholder,
  type PlaceholderValues,
  placeholderValueProblem,
} from "./placeholders.js";
export { renderSpec, renderSpecBody } from "./render.js";
export { type SpecStats, specStats } from "./stats.js";
export {
  getTokenizer,
  isTokenizerName,
  TOKENIZERS,
  type TokenCounter,
  type TokenizerName,
} from "./tokens.js";
export type { MatchLengthReport, ModelContext } from "./transforms/generative.js";
export {
  type DeriveParams,
  type DeriveResult,
  deriveRichnessLadder,
  deriveSpec,
  isTransformName,
  RICHNESS_RUNGS,
  type RichnessRung,
  type RungReport,
  TRANSFORMS,
  type TransformName,
} from "./transforms/index.js";
