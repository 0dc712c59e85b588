/**
 * An experiment's reasoning analysis (`analysis.reasoning`): the transcripts of each arm and model
 * labelled together, against the spec the arm was given (prompted: its spec; trained: the MSM
 * spec, or the AFT spec without MSM; otherwise `analysis.reasoning.spec`, by default the first).
 */
import { join } from "node:path";
import {
  analysisId,
  type HumanLabel,
  labelRuns,
  loadHumanLabels,
  type ReasoningOptions,
  resolveTaxonomy,
  type SpecUnderTest,
} from "../analysis/reasoning/index.js";
import type { LlmClient } from "../llm/client.js";
import type { Store } from "../store/index.js";
import type { Arm, LoadedExperiment } from "./config.js";
import type { SpecArtifact, StageGraph } from "./stages.js";

export interface ArmAnalysis {
  arm: string;
  model: string;
  runIds: string[];
  options: ReasoningOptions;
}

/** The spec an arm's transcripts are read against. */
export function specOfArm(
  loaded: LoadedExperiment,
  arm: Arm,
  specs: SpecArtifact[],
): SpecUnderTest | null {
  const name =
    arm.kind === "prompted"
      ? arm.spec
      : arm.kind === "msm" || arm.kind === "msm+aft"
        ? arm.msm_spec
        : arm.kind === "aft"
          ? arm.aft_spec
          : (loaded.experiment.analysis?.reasoning?.spec ??
            Object.keys(loaded.experiment.specs)[0]);
  const s = specs.find((x) => x.name === name);
  return s ? { name: s.name, hash: s.hash, spec: s.spec } : null;
}

/** What each arm × model's analysis reads (none without `analysis.reasoning`). */
export function armAnalyses(
  loaded: LoadedExperiment,
  graph: StageGraph,
  store: Store,
): ArmAnalysis[] {
  const r = loaded.experiment.analysis?.reasoning;
  if (!r) return [];
  const taxonomy = resolveTaxonomy(
    store,
    r.taxonomy === "builtin" || r.taxonomy.startsWith("tax-")
      ? r.taxonomy
      : join(loaded.dir, r.taxonomy),
  );
  const out: ArmAnalysis[] = [];
  for (const arm of loaded.experiment.arms)
    for (const model of loaded.experiment.models) {
      const runIds = graph.stages
        .filter((s) => s.arm.name === arm.name && s.experimentModel === model)
        .map((s) => s.runId);
      if (!runIds.length) continue;
      out.push({
        arm: arm.name,
        model,
        runIds,
        options: {
          labellers: r.labellers,
          repeats: r.repeats,
          attempts: r.attempts,
          temperature: r.temperature,
          maxTokens: r.max_tokens,
          concurrency: r.concurrency,
          taxonomy,
          spec: specOfArm(loaded, arm, graph.specs),
        },
      });
    }
  return out;
}

/** Human labels of `analysis.reasoning.human`, if given. */
export function experimentHumanLabels(
  loaded: LoadedExperiment,
  a: ArmAnalysis,
): HumanLabel[] | undefined {
  const file = loaded.experiment.analysis?.reasoning?.human;
  return file ? loadHumanLabels(join(loaded.dir, file), a.options.taxonomy) : undefined;
}

/** Labels every arm's transcripts (resumable; only what is missing is asked for). */
export async function analyzeExperiment(
  loaded: LoadedExperiment,
  client: LlmClient,
  graph: StageGraph,
  o: { signal?: AbortSignal; log?: (line: string) => void; onRun?: (runId: string) => void } = {},
): Promise<ArmAnalysis[]> {
  const arms = armAnalyses(loaded, graph, client.store);
  for (const a of arms) {
    o.onRun?.(analysisId(a.options));
    o.log?.(`reasoning: ${a.arm} on ${a.model}`);
    await labelRuns(client, a.runIds, {
      ...a.options,
      ...(o.signal ? { signal: o.signal } : {}),
      ...(o.log ? { log: o.log } : {}),
    });
  }
  return arms;
}
