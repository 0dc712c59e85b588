/**
 * The part of experiment's public surface that loads no experiment machinery (no stage graph,
 * planner or runner): the eval-run listing and the scenario pack's texts, for quick commands
 * (`specsci eval list`, `msm`/`aft generate`'s contamination check). All of it is in `index.ts` too.
 */
export { type EvalRunListing, listEvalRuns } from "./eval-listing.js";
export { scenarioPackTexts } from "./scenario-texts.js";
