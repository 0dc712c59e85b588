/** Reasoning analysis: labels per transcript, rule invocation, policy misuse, agreement. */
export {
  analysisId,
  collectLabels,
  type LabelledRuns,
  labelRuns,
  type ReasoningOptions,
  type ReasoningSummary,
  type SpecUnderTest,
  summarize,
  type TranscriptLabels,
} from "./analyze.js";
export { type Discovery, discoverTaxonomy, mergeOverlapping, storedTaxonomy } from "./discovery.js";
export { lexicalCheck, type MisuseCheck } from "./misuse.js";
export {
  type Agreement,
  type HumanAgreement,
  type HumanLabel,
  humanAgreement,
  loadHumanLabels,
  type ReasoningResults,
  raterAgreement,
  reasoningResults,
} from "./results.js";
export {
  type Analysis,
  type AnalyzeOptions,
  analyzeReasoning,
  DISCOVERY_DEFAULTS,
  resolveTaxonomy,
  taxonomyYaml,
} from "./run.js";
export {
  BUILTIN_CATEGORIES,
  builtinTaxonomy,
  Category,
  extendedTaxonomy,
  POLICY_MISUSE,
  type Taxonomy,
  taxonomyOf,
} from "./taxonomy.js";
