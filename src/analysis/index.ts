/**
 * analysis' public surface: the reasoning analysis (labels, taxonomy, rules invoked, misuse,
 * agreement), human annotations, agreement statistics and the statistics behind every comparison.
 * The labelling steps themselves stay behind `analyzeReasoning`.
 */
export * from "./annotations/index.js";
export {
  AWARE_LABEL,
  type AwarenessAnalysis,
  type AwarenessGroup,
  type AwarenessHomogeneity,
  type AwarenessSplit,
  awarenessAnalysis,
  awarenessHomogeneity,
  awarenessSplit,
} from "./awareness.js";
export * from "./light.js";
export {
  type Agreement,
  type Analysis,
  type AnalyzeOptions,
  analyzeReasoning,
  BUILTIN_CATEGORIES,
  builtinTaxonomy,
  DISCOVERY_DEFAULTS,
  type Discovery,
  discoverTaxonomy,
  extendedTaxonomy,
  type HumanAgreement,
  type HumanLabel,
  humanAgreement,
  loadHumanLabels,
  POLICY_MISUSE,
  type ReasoningCategory,
  type ReasoningResults,
  type ReasoningSummary,
  raterAgreement,
  reasoningResults,
  resolveTaxonomy,
  type SpecUnderTest,
  selfAgreement,
  storedTaxonomy,
  summarizeReasoning,
  type Taxonomy,
  taxonomyOf,
  taxonomyYaml,
} from "./reasoning/index.js";
export { specUnderTest } from "./spec-under-test.js";
