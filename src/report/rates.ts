/**
 * An experiment's pooled misalignment rate per arm and model, from the store's verdict counts
 * alone: what the dashboard's Experiment page draws first (its rates table and main figure),
 * while the whole report (`experimentResults`, the same numbers and the rest) is computed.
 */
import { meanInterval } from "../core/statistics/comparisons.js";
import { pooledFromVerdicts, type RateCell } from "../evals/am/metrics.js";
import { AM_TASK_NAME } from "../evals/am/task.js";
import type { LoadedExperiment } from "../experiment/config.js";
import type { StageGraph } from "../experiment/stages.js";
import type { Store } from "../store/index.js";
import type { ArmResult } from "./results.js";

/** An arm's rates as the report has them, less its breakdowns and other metrics. */
export type ArmRates = Pick<
  ArmResult,
  "arm" | "kind" | "model" | "runIds" | "seeds" | "acrossSeeds"
> & { metrics: { pooled: RateCell } };

export interface ExperimentRates {
  /** Whether the experiment has agentic-misalignment results. */
  am: boolean;
  arms: ArmRates[];
}

export function experimentRates(
  loaded: LoadedExperiment,
  graph: StageGraph,
  store: Store,
): ExperimentRates {
  const e = loaded.experiment;
  const arms: ArmRates[] = [];
  for (const arm of e.arms)
    for (const model of e.models) {
      const stages = graph.stages.filter(
        (s) =>
          s.arm.name === arm.name && s.experimentModel === model && s.task.name === AM_TASK_NAME,
      );
      const counts = stages.map((s) => ({
        seed: s.seed,
        counts: store.evals.verdictCounts(s.runId),
      }));
      // As experimentResults: each seed's stages pooled, seeds in the order their stages come.
      const seeds = [...new Set(counts.map((c) => c.seed))].map((seed) => {
        const pooled = pooledFromVerdicts(
          counts.filter((c) => c.seed === seed).flatMap((c) => c.counts),
        );
        return { seed, n: pooled.n, rate: pooled.rate };
      });
      const seedRates = seeds.filter((x) => x.n > 0).map((x) => x.rate);
      arms.push({
        arm: arm.name,
        kind: arm.kind,
        model,
        runIds: stages.map((s) => s.runId),
        metrics: { pooled: pooledFromVerdicts(counts.flatMap((c) => c.counts)) },
        seeds,
        acrossSeeds: seedRates.length >= 2 ? meanInterval(seedRates, { bounds: [0, 1] }) : null,
      });
    }
  return { am: e.evals.some((ev) => ev.task === AM_TASK_NAME), arms };
}

/** The report's own rates, as experimentRates gives them (for a report already computed). */
export function ratesOfReport(report: { am: boolean; arms: ArmResult[] }): ExperimentRates {
  return {
    am: report.am,
    arms: report.arms.map((a) => ({
      arm: a.arm,
      kind: a.kind,
      model: a.model,
      runIds: a.runIds,
      metrics: { pooled: a.metrics.pooled },
      seeds: a.seeds,
      acrossSeeds: a.acrossSeeds,
    })),
  };
}
