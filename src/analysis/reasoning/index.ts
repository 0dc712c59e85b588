/** Reasoning analysis: labels per transcript, rule invocation, policy misuse, agreement. */
export {
  analysisId,
  type CollectOptions,
  checkedClaims,
  claimKey,
  collectLabels,
  itemKey,
  itemMeasures,
  type LabelledRuns,
  LeanForms,
  labelRuns,
  labelStage,
  misuseStage,
  type RaterLabel,
  type ReasoningOptions,
  type ReasoningSummary,
  raterId,
  type SpecUnderTest,
  summarizeReasoning,
  type TranscriptKey,
  type TranscriptLabels,
} from "./analyze.js";
export { type Discovery, discoverTaxonomy, mergeOverlapping, storedTaxonomy } from "./discovery.js";
export type { LabelValue } from "./labeller.js";
export { lexicalCheck, type MisuseCheck, ruleText } from "./misuse.js";
export {
  type Agreement,
  agreementWithHumans,
  conditionSummaries,
  type HumanAgreement,
  type HumanCategoryAgreement,
  type HumanLabel,
  humanAgreement,
  humanPairs,
  type LabelFailures,
  labelFailures,
  loadHumanLabels,
  misuseRows,
  type ReasoningResults,
  raterAgreement,
  reasoningResults,
  selfAgreement,
} from "./results.js";
export { explicitMentions, type RuleMention } from "./rules.js";
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
  extendedTaxonomy,
  POLICY_MISUSE,
  ReasoningCategory,
  type Taxonomy,
  taxonomyOf,
} from "./taxonomy.js";
