export { type AftConfig, AftConfigSchema, loadAftConfig, parseAftConfig } from "./aft/config.js";
export { mixChatSets } from "./aft/mix.js";
export { writeAftSet } from "./aft/output.js";
export { type AftBuild, buildAftSet } from "./aft/pipeline.js";
export { planAftSet } from "./aft/plan.js";
export { CHAT_TEMPLATES, type ChatTemplate, getChatTemplate } from "./chat-template.js";
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
export { type CorpusComparison, compareCorpora, summarizeCorpus } from "./msm/compare.js";
export { loadMsmConfig, type MsmConfig, MsmConfigSchema, parseMsmConfig } from "./msm/config.js";
export { type WrittenCorpus, writeCorpus } from "./msm/output.js";
export {
  type BuildOptions,
  buildCorpus,
  type CorpusBuild,
  type CorpusDocument,
} from "./msm/pipeline.js";
export { type MsmPlan, planCorpus } from "./msm/plan.js";
