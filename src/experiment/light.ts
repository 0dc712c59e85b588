/**
 * The part of experiment's public surface that loads no experiment machinery (no stage graph,
 * planner or runner): the eval-run listing, the Inspect-log export and the scenario pack's texts,
 * for quick commands (`specsci eval list`/`export`, `msm`/`aft generate`'s contamination check).
 * All of it is in `index.ts` too.
 */
export { type EvalRunListing, listEvalRuns } from "./eval-listing.js";
export {
  type ArmContext,
  type ExperimentLogsExport,
  exportExperimentLogs,
  type InspectLogFormat,
  validatedLog,
  writeInspectLog,
} from "./inspect-export.js";
export { scenarioPackTexts } from "./scenario-texts.js";
