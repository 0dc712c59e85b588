/**
 * An experiment's reasoning analysis (`analysis.reasoning`): the transcripts of each arm and model
 * labelled together, against the spec the arm was given (prompted: its spec; trained: the MSM
 * spec, or the AFT spec without MSM; otherwise `analysis.reasoning.spec`, by default the first).
 */
import { join } from "node:path";
import {
  analysisId,
  collectLabels,
  type HumanLabel,
  labelFailures,
  labelRuns,
  loadHumanLabels,
  type ReasoningOptions,
  resolveTaxonomy,
  type SpecUnderTest,
  summarizeReasoning,
} from "../analysis/reasoning/index.js";
import { SpecsciError } from "../core/errors.js";
import { AM_TASK_NAME } from "../evals/am/task.js";
import type { LlmClient } from "../llm/client.js";
import type { Store } from "../store/index.js";
import type { Arm, LoadedExperiment } from "./config.js";
import type { SpecArtifact, StageGraph } from "./stages.js";

export interface ArmAnalysis {
  arm: string;
  model: string;
  runIds: string[];
  options: ReasoningOptions;
  /** After labelling: labels and misuse readings that failed (see labelFailures). */
  failures?: number;
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
  const taxonomy = taxonomyOf(loaded, store);
  const out: ArmAnalysis[] = [];
  for (const arm of loaded.experiment.arms)
    for (const model of loaded.experiment.models) {
      // The reasoning of agentic-misalignment transcripts: the decisions the taxonomy describes.
      const runIds = graph.stages
        .filter(
          (s) =>
            s.arm.name === arm.name && s.experimentModel === model && s.task.name === AM_TASK_NAME,
        )
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

/**
 * Human labels of `analysis.reasoning.human`, by arm. Arms share sample ids, so with several arms
 * each line names its `arm` (or its eval `run`).
 */
export function experimentHumanLabels(
  loaded: LoadedExperiment,
  arms: ArmAnalysis[],
): Map<ArmAnalysis, HumanLabel[]> | undefined {
  const file = loaded.experiment.analysis?.reasoning?.human;
  const first = arms[0];
  if (!file || !first) return undefined;
  const path = join(loaded.dir, file);
  const lines = loadHumanLabels(path, first.options.taxonomy, humanFrom(loaded));
  const several = new Set(arms.map((a) => a.arm)).size > 1;
  for (const [i, h] of lines.entries()) humanLineCheck(loaded, path, i, h, several);
  return new Map(
    arms.map((a) => [
      a,
      lines.filter((h) => (h.arm ? h.arm === a.arm : h.run ? a.runIds.includes(h.run) : !several)),
    ]),
  );
}

/** Checks what the analysis reads before any model is called: its taxonomy and human labels. */
export function checkReasoningInputs(loaded: LoadedExperiment, store: Store): void {
  const r = loaded.experiment.analysis?.reasoning;
  if (!r) return;
  const taxonomy = taxonomyOf(loaded, store);
  if (!r.human) return;
  const path = join(loaded.dir, r.human);
  const lines = loadHumanLabels(path, taxonomy, humanFrom(loaded));
  const several = loaded.experiment.arms.length > 1;
  for (const [i, h] of lines.entries()) humanLineCheck(loaded, path, i, h, several);
}

function humanLineCheck(
  loaded: LoadedExperiment,
  path: string,
  i: number,
  h: HumanLabel,
  several: boolean,
): void {
  if (h.arm && !loaded.experiment.arms.some((a) => a.name === h.arm))
    throw new SpecsciError(`${path}:${i + 1}: no arm named "${h.arm}" in ${loaded.file}`);
  if (several && !h.arm && !h.run)
    throw new SpecsciError(`${path}:${i + 1}: say which arm this transcript is from`, {
      hint: 'add "arm": "<arm name>" (or "run": "<eval run id>"): the arms share sample ids',
    });
}

const humanFrom = (loaded: LoadedExperiment) => `analysis.reasoning.human in ${loaded.file}`;

/** The taxonomy named by `analysis.reasoning.taxonomy`: builtin, stored, or a file beside the experiment. */
function taxonomyOf(loaded: LoadedExperiment, store: Store) {
  const ref = loaded.experiment.analysis?.reasoning?.taxonomy ?? "builtin";
  const stored = ref === "builtin" || /^tax-[0-9a-f]+$/.test(ref);
  return resolveTaxonomy(
    store,
    stored ? ref : join(loaded.dir, ref),
    `analysis.reasoning.taxonomy in ${loaded.file}`,
  );
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
    const l = await labelRuns(client, a.runIds, {
      ...a.options,
      ...(o.signal ? { signal: o.signal } : {}),
      ...(o.log ? { log: o.log } : {}),
    });
    a.failures = labelFailures(l).total;
  }
  return arms;
}

/** How far the reasoning analysis has got, from stored labels (null without `analysis.reasoning`). */
export function reasoningProgress(
  loaded: LoadedExperiment,
  graph: StageGraph,
  store: Store,
): { transcripts: number; labelled: number; failed: number; pending: number } | null {
  const arms = armAnalyses(loaded, graph, store);
  if (!arms.length) return null;
  const total = { transcripts: 0, labelled: 0, failed: 0, pending: 0 };
  for (const a of arms) {
    const l = collectLabels(store, a.runIds, a.options);
    const s = summarizeReasoning(l.items, a.options.taxonomy, [], l.primary);
    total.transcripts += s.transcripts;
    total.labelled += s.labelled;
    total.failed += s.failed.call + s.failed.invalid;
    total.pending += s.pending;
  }
  return total;
}
