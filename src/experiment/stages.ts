/**
 * The stage graph of an experiment. Specs are content-addressed artifacts (their hash is the
 * hash of their canonical Markdown); each eval stage is an eval run whose id is derived from
 * everything that determines its results (task, dataset with the spec text in its prompts, model,
 * epochs, generation settings, scorers). A stage whose inputs did not change keeps its id and is
 * never recomputed; editing one spec changes exactly the stages of the arms that use it.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { SpecsciError } from "../core/errors.js";
import { agenticMisalignmentTask, judgeOptions } from "../evals/am/task.js";
import { evalRunId } from "../evals/runner.js";
import type { GenerateConfig, Task } from "../evals/types.js";
import type { LlmClient } from "../llm/client.js";
import { specHash } from "../spec/hash.js";
import { checkSpecFile, requireValidSpec } from "../spec/io.js";
import { resolveSpecRef } from "../spec/library.js";
import type { Spec } from "../spec/model.js";
import { renderSpecBody } from "../spec/render.js";
import type { Arm, EvalConfig, LoadedExperiment } from "./config.js";

export interface SpecArtifact {
  name: string;
  file: string;
  spec: Spec;
  hash: string;
}

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
  stages: EvalStage[];
}

function resolveSpec(
  loaded: LoadedExperiment,
  name: string,
  source: string | { file: string } | { library: string },
): SpecArtifact {
  let file: string;
  if (typeof source === "string") {
    const relative = resolve(loaded.dir, source);
    file = existsSync(relative) ? relative : resolveSpecRef(source);
  } else if ("file" in source) {
    file = resolve(loaded.dir, source.file);
    if (!existsSync(file))
      throw new SpecsciError(`${loaded.file}: spec "${name}": no file ${file}`);
  } else file = resolveSpecRef(source.library);
  const { spec, diagnostics } = checkSpecFile(file);
  requireValidSpec(spec, diagnostics, file);
  return { name, file, spec, hash: specHash(spec) };
}

/** Builds every spec artifact and eval stage of an experiment (no model calls). */
export function buildStages(loaded: LoadedExperiment, client: LlmClient): StageGraph {
  const e = loaded.experiment;
  const specs = Object.entries(e.specs).map(([name, source]) => resolveSpec(loaded, name, source));
  const specByName = new Map(specs.map((s) => [s.name, s]));
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
    const spec = arm.kind === "prompted" ? (specByName.get(arm.spec) as SpecArtifact) : undefined;
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
  return { specs, stages };
}
