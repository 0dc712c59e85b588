/**
 * `specsci train run --slurm`: each seed's run files written and submitted with `sbatch`. A plan
 * that continues another plan's stage (`start_from`) submits that plan's job of the same seed
 * first (and so on up its chain), unless that stage is trained already, and its own job waits
 * for it to succeed.
 */
import { spawnSync } from "node:child_process";
import { SpecsciError } from "../core/errors.js";
import type { Store } from "../store/index.js";
import { modelKey, trainedModel, trainRunIdOf } from "./models.js";
import { parentPlan } from "./parent.js";
import type { LoadedPlan } from "./plan.js";
import { writeRunFiles } from "./slurm.js";

export interface SlurmJob {
  seed: number;
  /** The plan it trains: this one, or the plan it continues. */
  plan: string;
  /** True for the job of the plan this one continues. */
  parent: boolean;
  job: string;
  script: string;
  /** The job it waits for (`--dependency=afterok`). */
  after?: string;
}

/** Submits one script; returns its job id (`sbatch --parsable` prints `id[;cluster]`). */
function sbatch(script: string, after?: string): string {
  const r = spawnSync(
    "sbatch",
    ["--parsable", ...(after ? [`--dependency=afterok:${after}`] : []), script],
    { encoding: "utf8" },
  );
  if (r.error)
    throw new SpecsciError(
      `cannot run sbatch: ${(r.error as NodeJS.ErrnoException).code ?? r.error.message}`,
      { hint: `submit ${script} on the cluster's login node, or run without --slurm` },
    );
  if (r.status !== 0) throw new SpecsciError(`sbatch ${script} failed: ${r.stderr.trim()}`);
  return r.stdout.trim().split(";")[0] as string;
}

/**
 * Submits the seeds' runs in order and returns their jobs; `onJob` hears of each job as soon as it is submitted, so that
 * when a later submission fails the ones before it have been reported.
 */
export async function submitToSlurm(
  loaded: LoadedPlan,
  seeds: number[],
  /** The workspace's store, opened only to look up a parent's trained stage. */
  store: () => Store,
  onJob: (job: SlurmJob) => void = () => {},
): Promise<SlurmJob[]> {
  const jobs: SlurmJob[] = [];
  const submitted = (job: SlurmJob) => {
    jobs.push(job);
    onJob(job);
    return job;
  };
  // The job a plan's seed must wait for: its parent's, submitted first (after the parent's own
  // parent), unless the stage it continues is trained already.
  const parentJob = async (plan: LoadedPlan, seed: number): Promise<SlurmJob | undefined> => {
    const parent = parentPlan(plan);
    if (!parent) return undefined;
    const key = modelKey(trainRunIdOf(parent.plan.name, seed), plan.plan.start_from?.stage ?? "");
    if (trainedModel(store(), key)) return undefined;
    const after = await parentJob(parent, seed);
    const script = await writeRunFiles(parent, seed);
    return submitted({
      seed,
      plan: parent.plan.name,
      parent: true,
      job: sbatch(script, after?.job),
      script,
      ...(after ? { after: after.job } : {}),
    });
  };
  for (const seed of seeds) {
    const first = await parentJob(loaded, seed);
    const script = await writeRunFiles(loaded, seed);
    submitted({
      seed,
      plan: loaded.plan.name,
      parent: false,
      job: sbatch(script, first?.job),
      script,
      ...(first ? { after: first.job } : {}),
    });
  }
  return jobs;
}
