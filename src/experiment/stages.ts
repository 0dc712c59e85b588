/**
 * The stage graph of an experiment. Specs are content-addressed artifacts (their hash is the
 * hash of their canonical Markdown); each eval stage is an eval run whose id is derived from
 * everything that determines its results (task, dataset with the spec text in its prompts, model,
 * epochs, generation settings, scorers). A stage whose inputs did not change keeps its id and is
 * never recomputed; editing one spec changes exactly the stages of the arms that use it.
 */
import { SpecsciError } from "../core/errors.js";
import { agenticMisalignmentTask, judgeOptions } from "../evals/am/task.js";
import { evalRunId } from "../evals/runner.js";
import type { GenerateConfig, Task } from "../evals/types.js";
import type { LlmClient } from "../llm/client.js";
import { renderSpecBody } from "../spec/render.js";
import type { Arm, EvalConfig, LoadedExperiment } from "./config.js";
import { type PendingSpec, resolveSpecs, type SpecArtifact } from "./specs.js";

export type { PendingSpec, SpecArtifact } from "./specs.js";

export interface EvalStage {
  /** `eval/{arm}/{model}/{eval}/seed-{n}`: stable within the experiment. */
  key: string;
  arm: Arm;
  model: string;
  eval: EvalConfig;
  seed: number;
  task: Task;
  epochs: number;
  generate: Partial<GenerateConfig>;
  runId: string;
  /** Spec artifacts this stage depends on. */
  specs: SpecArtifact[];
}

export interface StageGraph {
  specs: SpecArtifact[];
  /** Derived specs still to be made (by `run`), and the eval stages waiting for them. */
  pending: PendingSpec[];
  waiting: { key: string; spec: string }[];
  stages: EvalStage[];
}

/**
 * Builds every spec artifact and eval stage of an experiment. Without `derive`, no model calls are
 * made: a model-written spec variant not made before is pending, and its arms' stages wait for it.
 */
export async function buildStages(
  loaded: LoadedExperiment,
  client: LlmClient,
  options: { derive?: boolean; runId?: string } = {},
): Promise<StageGraph> {
  const e = loaded.experiment;
  const { ready: specs, pending } = await resolveSpecs(loaded, client, {
    derive: options.derive ?? false,
    ...(options.runId ? { runId: options.runId } : {}),
  });
  const specByName = new Map(specs.map((s) => [s.name, s]));
  const waiting: StageGraph["waiting"] = [];
  const judge = judgeOptions(client.lazyModel(e.judge.model), {
    k: e.judge.k,
    attempts: e.judge.attempts,
  });
  const stages: EvalStage[] = [];
  for (const arm of e.arms) {
    if (arm.kind !== "baseline" && arm.kind !== "prompted") {
      throw new SpecsciError(
        `${loaded.file}: arm "${arm.name}" (kind ${arm.kind}) needs a trained model, and specsci cannot train models yet`,
        {
          hint: "use prompted and baseline arms for now (training arms come with the training issue)",
        },
      );
    }
    const spec = arm.kind === "prompted" ? specByName.get(arm.spec) : undefined;
    if (arm.kind === "prompted" && !spec) {
      for (const ev of e.evals)
        for (const model of e.models)
          for (const seed of e.seeds)
            waiting.push({
              key: `eval/${arm.name}/${model}/${ev.name}/seed-${seed}`,
              spec: arm.spec,
            });
      continue;
    }
    for (const ev of e.evals) {
      const toggles = {
        ...(ev.toggles?.model_name ? { modelName: ev.toggles.model_name } : {}),
        ...(ev.toggles?.scratchpad !== undefined ? { scratchpad: ev.toggles.scratchpad } : {}),
        ...(ev.toggles?.safety_instructions !== undefined
          ? { safetyInstructions: ev.toggles.safety_instructions }
          : {}),
        ...(ev.toggles?.eval_notice !== undefined ? { evalNotice: ev.toggles.eval_notice } : {}),
      };
      const task = agenticMisalignmentTask(
        {
          conditions: ev.conditions,
          ...(ev.families ? { families: ev.families } : {}),
          toggles,
          ...(spec
            ? { spec: { name: spec.name, hash: spec.hash, text: renderSpecBody(spec.spec) } }
            : {}),
        },
        judge,
        { evalAwareness: ev.eval_awareness },
      );
      for (const model of e.models) {
        for (const seed of e.seeds) {
          const generate: Partial<GenerateConfig> = { seed };
          if (ev.temperature !== undefined) generate.temperature = ev.temperature;
          if (ev.max_tokens !== undefined) generate.max_tokens = ev.max_tokens;
          const full = { ...task.defaults, ...generate } as GenerateConfig;
          stages.push({
            key: `eval/${arm.name}/${model}/${ev.name}/seed-${seed}`,
            arm,
            model,
            eval: ev,
            seed,
            task,
            epochs: ev.epochs,
            generate,
            runId: evalRunId(task, model, ev.epochs, full),
            specs: spec ? [spec] : [],
          });
        }
      }
    }
  }
  return { specs, pending, waiting, stages };
}
