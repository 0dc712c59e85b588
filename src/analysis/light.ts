/**
 * The part of analysis' public surface that loads nothing heavy: the statistics, pure functions of
 * counts and numbers (no store, model or labeller), for commands that need only them
 * (`specsci stats`). All of it is in `index.ts` too.
 */
export {
  type CohenKappa,
  type Confusion,
  cohenKappa,
  cohenKappaInterval,
  confusion,
  fleissKappa,
  type Kappa,
  type KappaInterval,
  type Rating,
} from "../core/statistics/agreement.js";
export {
  benjaminiHochberg,
  clusterBootstrap,
  fisherExact,
  holm,
  type Interval,
  type MeanDifference,
  type MeanInterval,
  mcnemar,
  meanInterval,
  NO_DISCORDANT_PAIRS,
  newcombe,
  pairedT,
  riskMeasures,
  samplesPerArm,
  twoProportionZ,
  type UndefinedReason,
  welchT,
} from "../core/statistics/comparisons.js";
export {
  chiSquare1Sf,
  normalCdf,
  normalQuantile,
  normalTwoSidedP,
  tQuantile,
  tTwoSidedP,
} from "../core/statistics/distributions.js";
