/**
 * What the trained arms of an experiment still need: for every (arm, model) whose models are not
 * registered, a training plan written beside the experiment (data directories named after the
 * specs) and the commands that make its data and train it. Nothing here trains or spends: data and
 * training are run by the user where the hardware or the budget is.
 */
import { mkdirSync } from "node:fs";
import { join, relative } from "node:path";
import { stringify } from "yaml";
import { writeFileAtomic } from "../core/fs.js";
import type { LoadedExperiment } from "./config.js";
import type { SpecArtifact, TrainingWait } from "./stages.js";

export interface TrainingTodo {
  plan: string;
  file: string;
  /** Shell commands, in order: make the data, then train. */
  commands: string[];
}

export function writeTrainingPlans(
  loaded: LoadedExperiment,
  waits: TrainingWait[],
  specs: SpecArtifact[],
): TrainingTodo[] {
  const e = loaded.experiment;
  const dir = join(loaded.dir, `${e.name}-training`);
  const byPlan = new Map<string, TrainingWait[]>();
  for (const w of waits) byPlan.set(w.plan, [...(byPlan.get(w.plan) ?? []), w]);
  const specRef = (name: string) => {
    const s = specs.find((x) => x.name === name);
    return s?.file ? relative(process.cwd(), s.file) || s.file : name;
  };
  const todos: TrainingTodo[] = [];
  for (const [plan, ws] of byPlan) {
    const first = ws[0] as TrainingWait;
    const arm = e.arms.find((a) => a.name === first.arm);
    if (!arm || arm.kind === "baseline" || arm.kind === "prompted") continue;
    const msmSpec = arm.kind === "aft" ? undefined : arm.msm_spec;
    const aftSpec = arm.kind === "msm" ? undefined : arm.aft_spec;
    const aftSize = arm.kind === "msm" ? undefined : arm.aft_size;
    const stages = [
      ...(msmSpec ? [{ name: "msm", kind: "midtraining", data: `data/msm-${msmSpec}` }] : []),
      ...(aftSpec
        ? [
            {
              name: "aft",
              kind: "aft",
              data: `data/aft-${aftSpec}${aftSize ? `-${aftSize}` : ""}`,
              set: "reasoning",
            },
          ]
        : []),
    ];
    const file = join(dir, `${plan}.yaml`);
    mkdirSync(dir, { recursive: true });
    writeFileAtomic(
      file,
      `# written by specsci for arm ${arm.name} of experiment ${e.name}; edit hyperparameters and hardware freely\n${stringify(
        {
          name: plan,
          base_model: first.base,
          seeds: [...new Set(ws.map((w) => w.seed))].sort((a, b) => a - b),
          stages,
        },
      )}`,
    );
    const rel = (p: string) => relative(process.cwd(), join(dir, p)) || p;
    todos.push({
      plan,
      file,
      commands: [
        ...(msmSpec
          ? [`specsci msm generate ${specRef(msmSpec)} -o ${rel(`data/msm-${msmSpec}`)}`]
          : []),
        ...(aftSpec
          ? [
              `specsci aft generate ${specRef(aftSpec)}${aftSize ? ` --examples ${aftSize}` : ""} -o ${rel(`data/aft-${aftSpec}${aftSize ? `-${aftSize}` : ""}`)}`,
            ]
          : []),
        `specsci train run ${relative(process.cwd(), file) || file}`,
        `specsci train serve --endpoint ${e.training?.endpoint ?? "trained"} --start`,
      ],
    });
  }
  return todos;
}
