/**
 * The stage graph of an experiment. Specs are content-addressed artifacts (their hash is the
 * hash of their canonical Markdown); each eval stage is an eval run whose id is derived from
 * everything that determines its results (task, dataset with the spec text in its prompts, model,
 * epochs, generation settings, scorers). A stage whose inputs did not change keeps its id and is
 * never recomputed; editing one spec changes exactly the stages of the arms that use it.
 */
import { dirname } from "node:path";
import { SpecsciError } from "../core/errors.js";
import { judgeOptions } from "../evals/judge.js";
import { buildTask, limitItems, type TaskEnv } from "../evals/registry.js";
import { evalRunId } from "../evals/runner.js";
import { taskDefinition } from "../evals/tasks.js";
import type { GenerateConfig, Task } from "../evals/types.js";
import type { LlmClient } from "../llm/client.js";
import { nativeReasoning } from "../llm/reasoning-models.js";
import { renderSpecBody } from "../spec/render.js";
import {
  type ModelArtifact,
  modelKey,
  trainedModel,
  trainRunIdOf,
  weightsOf,
} from "../train/models.js";
import { servedName } from "../train/serve.js";
import {
  type Arm,
  type EvalConfig,
  isTrained,
  type LoadedExperiment,
  type TrainedArm,
} from "./config.js";
import { msmPart } from "./msm-recipe.js";
import { type PendingSpec, resolveSpecs, type SpecArtifact } from "./specs.js";
import { type TrainedStage, trainingFingerprint } from "./training.js";

export type { PendingSpec, SpecArtifact } from "./specs.js";

export interface EvalStage {
  /** `eval/{arm}/{model}/{eval}/seed-{n}`: stable within the experiment. */
  key: string;
  arm: Arm;
  /** The model called: the experiment's model, or for a trained arm its served trained model. */
  model: string;
  /** The experiment's model this stage belongs to (what a trained arm was trained from). */
  experimentModel: string;
  eval: EvalConfig;
  seed: number;
  task: Task;
  epochs: number;
  generate: Partial<GenerateConfig>;
  runId: string;
  /** Spec artifacts this stage depends on. */
  specs: SpecArtifact[];
  /** For a trained arm: the key of the model artifact it evaluates, and its weights' identity. */
  trainedModel?: string;
  modelVersion?: string;
}

/** An eval stage of a trained arm whose model is not trained (or registered) yet. */
export interface TrainingWait {
  key: string;
  arm: string;
  model: string;
  seed: number;
  /** The training plan that makes it, and the run and stage whose model the eval needs. */
  plan: string;
  /** The shared MSM plan an msm+aft cell continues. */
  parent?: string;
  /** A model exists, but was trained from other inputs than the experiment's now. */
  stale?: boolean;
  run: string;
  stage: string;
  base: string;
}

export interface StageGraph {
  specs: SpecArtifact[];
  /** Derived specs still to be made (by `run`), and the eval stages waiting for them. */
  pending: PendingSpec[];
  waiting: { key: string; spec: string }[];
  /** Eval stages of trained arms whose models do not exist yet. */
  training: TrainingWait[];
  stages: EvalStage[];
}

/**
 * The id a trained model is evaluated under: Together serves its own fine-tunes by output name;
 * a self-hosted model is served under the experiment's endpoint.
 */
export const trainedModelId = (a: ModelArtifact, endpoint: string) =>
  a.engine === "together" ? `together/${a.output_dir}` : `${endpoint}/${servedName(a)}`;

/** The training plan of one trained arm and experiment model (one run per seed). */
export const trainingPlanName = (experiment: string, arm: string, model: string) =>
  `${experiment}-${arm}-${model}`.toLowerCase().replace(/[^a-z0-9_.+-]+/g, "-");

/**
 * Which training run makes a trained arm's model. MSM on one spec is one run per model and seed,
 * shared by the `msm` arms of that spec and by every msm+aft cell that continues it; each AFT
 * (alone, or on an MSM run) is a run of its own arm, and so is an it-only arm's one stage (`it`).
 */
export function armTraining(
  experiment: string,
  arm: TrainedArm,
  model: string,
): { plan: string; stage: TrainedStage; parent?: string } {
  if (arm.kind === "it-only")
    return { plan: trainingPlanName(experiment, arm.name, model), stage: "it" };
  // `<experiment>.msm-<spec>-<model>` (`.msm.<recipe>.<spec>-…` with an arm's own recipe): the dot
  // keeps it apart from every `<experiment>-<arm>-…`.
  const msm =
    arm.kind === "aft"
      ? undefined
      : trainingPlanName(experiment, msmPart(arm.msm_spec, arm.msm_recipe), model).replace(
          `${experiment.toLowerCase()}-`,
          `${experiment.toLowerCase()}.`,
        );
  if (arm.kind === "msm") return { plan: msm as string, stage: "msm" };
  return {
    plan: trainingPlanName(experiment, arm.name, model),
    // A preference arm's model is its plan's last stage, the one after AFT.
    stage: arm.pref ? "pref" : "aft",
    ...(msm ? { parent: msm } : {}),
  };
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
  const { ready: specs, pending } = await resolveSpecs(loaded, client, {
    derive: options.derive ?? false,
    ...(options.runId ? { runId: options.runId } : {}),
  });
  const graph = new StageGraphBuilder(loaded, client, specs);
  for (const arm of loaded.experiment.arms) graph.addArm(arm);
  const { waiting, training, stages } = graph;
  return { specs, pending, waiting, training, stages };
}

const stageKey = (arm: Arm, model: string, ev: EvalConfig, seed: number) =>
  `eval/${arm.name}/${model}/${ev.name}/seed-${seed}`;

/** The model a stage calls, with a trained arm's artifact key and weights. */
interface EvalTarget {
  model: string;
  trainedKey?: string;
  modelVersion?: string;
}

/** Collects the stages of each arm, in order: arm, eval, model, seed. */
class StageGraphBuilder {
  readonly waiting: StageGraph["waiting"] = [];
  readonly training: TrainingWait[] = [];
  readonly stages: EvalStage[] = [];
  private readonly e: LoadedExperiment["experiment"];
  private readonly specByName: Map<string, SpecArtifact>;
  private readonly judge: ReturnType<typeof judgeOptions>;

  constructor(
    private readonly loaded: LoadedExperiment,
    private readonly client: LlmClient,
    private readonly specs: SpecArtifact[],
  ) {
    this.e = loaded.experiment;
    this.specByName = new Map(specs.map((s) => [s.name, s]));
    this.judge = judgeOptions(client.lazyModel(this.e.judge.model), {
      k: this.e.judge.k,
      attempts: this.e.judge.attempts,
    });
  }

  addArm(arm: Arm): void {
    const trained = isTrained(arm);
    if (trained) this.requireTraining(arm);
    const spec = arm.kind === "prompted" ? this.specByName.get(arm.spec) : undefined;
    if (arm.kind === "prompted" && !spec) {
      for (const ev of this.e.evals)
        for (const model of this.e.models)
          for (const seed of this.e.seeds)
            this.waiting.push({ key: stageKey(arm, model, ev, seed), spec: arm.spec });
      return;
    }
    for (const ev of this.e.evals) this.addEval(arm, ev, spec, trained);
  }

  /** A trained arm needs the training section, and a base model for each experiment model. */
  private requireTraining(arm: Arm): void {
    const { e, loaded } = this;
    if (!e.training)
      throw new SpecsciError(
        `${loaded.file}: arm "${arm.name}" (kind ${arm.kind}) needs a trained model: the experiment has no training: section`,
        {
          hint: "add training: { base_models: { <model>: <Hugging Face base> } } and train with `specsci train run` (see the README's Training section)",
        },
      );
    for (const model of e.models)
      if (!e.training.base_models[model])
        throw new SpecsciError(
          `${loaded.file}: arm "${arm.name}" needs a trained ${model}: training.base_models has no entry for it`,
          {
            hint: `add training: { base_models: { "${model}": <the Hugging Face base it is trained from> } }`,
          },
        );
  }

  private addEval(arm: Arm, ev: EvalConfig, spec: SpecArtifact | undefined, trained: boolean) {
    const taskFor = this.tasksOf(arm, ev, spec);
    for (const model of this.e.models) {
      const task = taskFor(
        nativeReasoning(model, trained ? this.e.training?.base_models[model] : undefined),
      );
      for (const seed of this.e.seeds) {
        // A trained arm is evaluated on the model its training run registered, as served.
        const target =
          trained && this.e.training
            ? this.trainedTarget(arm as TrainedArm, ev, model, seed)
            : { model };
        if (target) this.addStage(arm, ev, spec, task, model, seed, target);
      }
    }
  }

  /** One task per kind of model (native reasoners get no scratchpad under `scratchpad: auto`). */
  private tasksOf(arm: Arm, ev: EvalConfig, spec: SpecArtifact | undefined) {
    const { loaded, client, specByName, specs } = this;
    const tasks = new Map<string, Task>();
    return (reasoning: string | undefined): Task => {
      let task = tasks.get(reasoning ?? "");
      if (!task) {
        task = buildEvalTask(loaded, ev, {
          judge: () => this.judge,
          ...(spec
            ? { promptSpec: { name: spec.name, hash: spec.hash, text: renderSpecBody(spec.spec) } }
            : {}),
          ...specUnderTest(arm, specByName, specs),
          baseDir: dirname(loaded.file),
          store: client.store,
          model: reasoning ? { reasoning } : {},
        });
        tasks.set(reasoning ?? "", task);
      }
      return task;
    };
  }

  /**
   * The trained model a stage evaluates, or undefined (and a training wait) where it is not
   * trained yet or was trained from other inputs (spec, recipe, size, settings) than now.
   */
  private trainedTarget(
    arm: TrainedArm,
    ev: EvalConfig,
    model: string,
    seed: number,
  ): EvalTarget | undefined {
    const training = this.e.training as NonNullable<LoadedExperiment["experiment"]["training"]>;
    const { plan, stage, parent } = armTraining(this.e.name, arm, model);
    const run = trainRunIdOf(plan, seed);
    const trainedKey = modelKey(run, stage);
    const artifact = trainedModel(this.client.store, trainedKey);
    const base = training.base_models[model] as string;
    const expected = trainingFingerprint(
      this.loaded,
      arm,
      stage,
      base,
      (n) => this.specByName.get(n)?.hash,
    );
    if (!artifact || artifact.origin?.fingerprint !== expected) {
      this.training.push({
        ...(artifact ? { stale: true } : {}),
        key: stageKey(arm, model, ev, seed),
        arm: arm.name,
        model,
        seed,
        plan,
        ...(parent ? { parent } : {}),
        run,
        stage,
        base,
      });
      return undefined;
    }
    const modelVersion = weightsOf(artifact);
    return {
      model: trainedModelId(artifact, training.endpoint),
      trainedKey,
      ...(modelVersion ? { modelVersion } : {}),
    };
  }

  private addStage(
    arm: Arm,
    ev: EvalConfig,
    spec: SpecArtifact | undefined,
    task: Task,
    model: string,
    seed: number,
    target: EvalTarget,
  ): void {
    const generate: Partial<GenerateConfig> = { seed };
    if (ev.temperature !== undefined) generate.temperature = ev.temperature;
    if (ev.max_tokens !== undefined) generate.max_tokens = ev.max_tokens;
    const full = { ...task.defaults, ...generate } as GenerateConfig;
    this.stages.push({
      key: stageKey(arm, model, ev, seed),
      arm,
      model: target.model,
      experimentModel: model,
      eval: ev,
      seed,
      task,
      epochs: ev.epochs,
      generate,
      runId: evalRunId(task, target.model, ev.epochs, full, target.modelVersion),
      specs: spec ? [spec] : [],
      ...(target.trainedKey ? { trainedModel: target.trainedKey } : {}),
      ...(target.modelVersion ? { modelVersion: target.modelVersion } : {}),
    });
  }
}

/** An experiment's eval as a task: its definition built with the arm's context, and its limit. */
function buildEvalTask(loaded: LoadedExperiment, ev: EvalConfig, env: TaskEnv): Task {
  const def = taskDefinition(ev.task);
  if (def.needs.spec && !env.spec)
    throw new SpecsciError(
      `${loaded.file}: eval "${ev.name}" (task ${def.name}) measures a spec, and the experiment has none`,
      { hint: "add the spec under specs: (arms without one are measured against the first)" },
    );
  try {
    return limitItems(buildTask(def, ev.args, env), ev.limit);
  } catch (e) {
    if (e instanceof SpecsciError)
      throw new SpecsciError(`${loaded.file}: eval "${ev.name}": ${e.message}`, {
        ...(e.hint ? { hint: e.hint } : {}),
      });
    throw e;
  }
}

/**
 * The spec an arm is measured against by tasks that need one (spec knowledge): a prompted arm's
 * spec, a trained arm's MSM spec (what its documents discuss), else its AFT spec; an arm without a
 * spec (the baseline) is measured against the experiment's first spec, as a reference point.
 */
function specUnderTest(
  arm: Arm,
  byName: Map<string, SpecArtifact>,
  specs: SpecArtifact[],
): Pick<TaskEnv, "spec"> {
  const own =
    "spec" in arm
      ? arm.spec
      : "msm_spec" in arm
        ? arm.msm_spec
        : "aft_spec" in arm
          ? arm.aft_spec
          : undefined;
  const chosen = own !== undefined ? byName.get(own) : specs[0];
  return chosen
    ? {
        spec: {
          name: chosen.name,
          hash: chosen.hash,
          spec: chosen.spec,
          markdown: renderSpecBody(chosen.spec),
        },
      }
    : {};
}
