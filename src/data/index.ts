/**
 * data's public surface: MSM corpora and AFT chat sets (recipes, plan, build, write, mix,
 * compare), chat templates, dedup, corpus statistics, the contamination check and failed items.
 */

export { MAX_CALLS_PER_STRATUM } from "./aft/backfill.js";
export {
  type AftCategory,
  type AftConfig,
  AftConfigSchema,
  loadAftConfig,
  parseAftConfig,
} from "./aft/config.js";
export { mixChatSets } from "./aft/mix.js";
export { writeAftSet } from "./aft/output.js";
export { type AftBuild, buildAftSet } from "./aft/pipeline.js";
export { planAftSet } from "./aft/plan.js";
export {
  CHAT_TEMPLATES,
  type ChatTemplate,
  type ChatTemplateName,
  getChatTemplate,
} from "./chat-template.js";
export {
  type ContaminationIndex,
  contaminationIndex,
  overlapWith,
  stringsIn,
} from "./contamination.js";
export {
  type CorpusStats,
  type CorpusStatsOptions,
  corpusStats,
  formatCorpusStats,
} from "./corpus-stats.js";
export {
  type DedupOptions,
  type DedupResult,
  type Duplicate,
  findDuplicates,
} from "./dedup/index.js";
export {
  FAILED_ITEMS_FILE,
  NoUsableAnswer,
  withFailedItems,
  writeFailedItems,
} from "./item-failures.js";
export {
  type CorpusComparison,
  type CorpusSummary,
  compareCorpora,
  summarizeCorpus,
  tokenShares,
} from "./msm/compare.js";
export {
  checkMsmConfig,
  loadMsmConfig,
  type MsmConfig,
  MsmConfigSchema,
  parseMsmConfig,
} from "./msm/config.js";
export { type WrittenCorpus, writeCorpus } from "./msm/output.js";
export {
  type BuildOptions,
  buildCorpus,
  type CorpusBuild,
  type CorpusDocument,
} from "./msm/pipeline.js";
export { type MsmPlan, planCorpus } from "./msm/plan.js";
export {
  type ContaminationKind,
  loadPrefConfig,
  type PrefConfig,
  PrefConfigSchema,
  parsePrefConfig,
} from "./pref/config.js";
export { PREF_FILES, PREF_MANIFEST_FORMAT, writePrefSet } from "./pref/output.js";
export { buildPrefSet, type PrefBuild, type PrefPair } from "./pref/pipeline.js";
