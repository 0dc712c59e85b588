/**
 * What the trained arms of an experiment need: for every (arm, model) whose models are not
 * registered, a training plan written beside the experiment, the data it trains on (one directory
 * per spec and AFT size, shared by every arm that uses it) and the commands that make it by hand.
 * `run` does these steps itself where it can (see trained.ts); nothing here trains or spends.
 */
import { existsSync, mkdirSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { stringify } from "yaml";
import { readUserFile, writeFileAtomic } from "../core/fs.js";
import { hashValue } from "../core/hash.js";
import { renderSpec } from "../spec/render.js";
import { isTrained, type LoadedExperiment, type TrainedArm } from "./config.js";
import type { SpecArtifact, TrainingWait } from "./stages.js";

/** A corpus or chat set an arm trains on. */
export interface DataStep {
  kind: "msm" | "aft";
  spec: string;
  /** AFT examples wanted (the recipe's budget when absent). */
  size?: number;
  /** Absolute directory the data is written to. */
  dir: string;
}

export interface TrainingTodo {
  plan: string;
  arm: TrainedArm;
  file: string;
  seeds: number[];
  data: DataStep[];
  /** Shell commands, in order: make the data (one per data step), then train. */
  commands: string[];
}

/** The training directory of an experiment: plans, data and (by default) runs. */
export const trainingDir = (loaded: LoadedExperiment) =>
  join(loaded.dir, `${loaded.experiment.name}-training`);

export function armData(loaded: LoadedExperiment, arm: TrainedArm): DataStep[] {
  const data = join(trainingDir(loaded), "data");
  const steps: DataStep[] = [];
  if (arm.kind !== "aft")
    steps.push({ kind: "msm", spec: arm.msm_spec, dir: join(data, `msm-${arm.msm_spec}`) });
  if (arm.kind !== "msm")
    steps.push({
      kind: "aft",
      spec: arm.aft_spec,
      ...(arm.aft_size ? { size: arm.aft_size } : {}),
      dir: join(data, `aft-${arm.aft_spec}${arm.aft_size ? `-${arm.aft_size}` : ""}`),
    });
  return steps;
}

/** Recipe texts read once per loaded experiment (fingerprints are taken per arm, model and seed). */
const recipes = new WeakMap<LoadedExperiment, Map<string, string>>();
function recipeText(loaded: LoadedExperiment, which: "msm" | "aft"): string {
  const file = loaded.experiment.training?.data[which];
  if (!file) return "";
  let cache = recipes.get(loaded);
  if (!cache) {
    cache = new Map();
    recipes.set(loaded, cache);
  }
  let text = cache.get(file);
  if (text === undefined) {
    text = readUserFile(join(loaded.dir, file), `${which.toUpperCase()} recipe`, {
      from: `training.data.${which} in ${loaded.file}`,
    });
    cache.set(file, text);
  }
  return text;
}

/**
 * What a training run of the experiment is made from, hashed: the base model, the training
 * settings, and for each of its stages the spec's content, the data recipe's text and the arm's
 * size and set. A registered model whose plan was written from another fingerprint is out of
 * date, and its arm is trained again (the launcher still skips stages whose data and config did
 * not change).
 */
export function trainingFingerprint(
  loaded: LoadedExperiment,
  arm: TrainedArm,
  part: "msm" | "aft",
  base: string,
  specHash: (name: string) => string | undefined,
): string | undefined {
  const t = loaded.experiment.training;
  const recipe = (which: "msm" | "aft") => recipeText(loaded, which);
  const common = {
    base,
    engine: t?.engine ?? "axolotl",
    hyperparameters: t?.hyperparameters ?? {},
  };
  const aftPart = (spec: string) => ({
    spec,
    recipe: recipe("aft"),
    size: arm.kind === "msm" ? null : (arm.aft_size ?? null),
    reasoning: arm.kind === "msm" ? null : arm.reasoning,
  });
  if (arm.kind !== "aft") {
    const hash = specHash(arm.msm_spec);
    if (!hash) return undefined;
    const msm = hashValue({ ...common, msm: { spec: hash, recipe: recipe("msm") } });
    if (part === "msm" || arm.kind === "msm") return msm;
    const aft = specHash(arm.aft_spec);
    if (!aft) return undefined;
    return hashValue({
      ...common,
      parent: msm,
      from_previous: t?.from_previous ?? "adapter",
      aft: aftPart(aft),
    });
  }
  const aft = specHash(arm.aft_spec);
  return aft ? hashValue({ ...common, aft: aftPart(aft) }) : undefined;
}

/** The command that serves what the plans train (Together serves its own). */
export const serveCommand = (loaded: LoadedExperiment) =>
  loaded.experiment.training?.engine === "together"
    ? undefined
    : `specsci train serve --endpoint ${loaded.experiment.training?.endpoint ?? "trained"} --start`;

export function writeTrainingPlans(
  loaded: LoadedExperiment,
  waits: TrainingWait[],
  specs: SpecArtifact[],
): TrainingTodo[] {
  const e = loaded.experiment;
  const t = e.training;
  const dir = trainingDir(loaded);
  const byPlan = new Map<string, TrainingWait[]>();
  for (const w of waits) byPlan.set(w.plan, [...(byPlan.get(w.plan) ?? []), w]);
  const here = (p: string) => relative(process.cwd(), p) || p;
  // How the commands name a spec: its library name, its file, or (derived) a file written here.
  const specRef = (name: string) => {
    const source = e.specs[name];
    if (typeof source === "string" && !existsSync(resolve(loaded.dir, source))) return source;
    if (typeof source === "object" && "library" in source) return source.library;
    const s = specs.find((x) => x.name === name);
    // A file read with placeholder values is written out filled, as a derived spec is.
    const filled = typeof source === "object" && "set" in source && source.set !== undefined;
    if (s?.file && !filled) return here(s.file);
    if (!s) return name;
    const file = join(dir, "specs", `${name}.md`);
    mkdirSync(dirname(file), { recursive: true });
    writeFileAtomic(file, renderSpec(s.spec));
    return here(file);
  };
  const recipe = (which: "msm" | "aft") =>
    t?.data[which] ? ` -r ${here(join(loaded.dir, t.data[which] as string))}` : "";
  // Seeds each shared MSM plan is needed for: its own arms' and those of the cells continuing it.
  const parentSeeds = new Map<string, Set<number>>();
  for (const w of waits)
    for (const p of [w.stage === "msm" ? w.plan : w.parent])
      if (p) parentSeeds.set(p, (parentSeeds.get(p) ?? new Set()).add(w.seed));
  const written = new Set<string>();
  const writePlan = (
    plan: string,
    why: string,
    base: string,
    seeds: number[],
    stages: Record<string, unknown>[],
    origin: { arm: string; fingerprint: string | undefined },
    startFrom?: string,
  ) => {
    const file = join(dir, `${plan}.yaml`);
    if (written.has(file)) return file;
    written.add(file);
    mkdirSync(dir, { recursive: true });
    writeFileAtomic(
      file,
      `# written by specsci for ${why} of experiment ${e.name}: edit the experiment's training: section, not this file\n${stringify(
        {
          name: plan,
          base_model: base,
          engine: t?.engine ?? "axolotl",
          seeds,
          stages,
          ...(startFrom ? { start_from: { plan: `${startFrom}.yaml`, stage: "msm" } } : {}),
          ...(origin.fingerprint
            ? { origin: { experiment: e.name, arm: origin.arm, fingerprint: origin.fingerprint } }
            : {}),
          ...(t && Object.keys(t.hyperparameters).length
            ? { hyperparameters: t.hyperparameters }
            : {}),
          ...(t?.hardware ? { hardware: t.hardware } : {}),
          output_dir: t?.output_dir ? relative(dir, join(loaded.dir, t.output_dir)) : "runs",
        },
      )}`,
    );
    return file;
  };
  const todos: TrainingTodo[] = [];
  for (const [plan, ws] of byPlan) {
    const first = ws[0] as TrainingWait;
    const arm = e.arms.find((a) => a.name === first.arm);
    if (!arm || !isTrained(arm)) continue;
    const data = armData(loaded, arm);
    const sorted = (xs: Iterable<number>) => [...new Set(xs)].sort((a, b) => a - b);
    const msmData = data.find((d) => d.kind === "msm");
    const aftData = data.find((d) => d.kind === "aft");
    const msmPlan = first.stage === "msm" ? first.plan : first.parent;
    const fingerprint = (part: "msm" | "aft") =>
      trainingFingerprint(
        loaded,
        arm,
        part,
        first.base,
        (n) => specs.find((x) => x.name === n)?.hash,
      );
    if (msmPlan && msmData)
      writePlan(
        msmPlan,
        `MSM on spec ${msmData.spec}`,
        first.base,
        sorted(parentSeeds.get(msmPlan) ?? []),
        [{ name: "msm", kind: "midtraining", data: relative(dir, msmData.dir) }],
        { arm: `msm-${msmData.spec}`, fingerprint: fingerprint("msm") },
      );
    const seeds = sorted(ws.map((w) => w.seed));
    const file =
      arm.kind === "msm" || !aftData
        ? join(dir, `${plan}.yaml`)
        : writePlan(
            plan,
            `arm ${arm.name}`,
            first.base,
            seeds,
            [
              {
                name: "aft",
                kind: "aft",
                data: relative(dir, aftData.dir),
                set: arm.reasoning ? "reasoning" : "no-reasoning",
                ...(first.parent ? { from_previous: t?.from_previous ?? "adapter" } : {}),
              },
            ],
            { arm: arm.name, fingerprint: fingerprint("aft") },
            first.parent,
          );
    todos.push({
      plan,
      arm,
      file,
      seeds,
      data,
      commands: [
        ...data.map((d) =>
          d.kind === "msm"
            ? `specsci msm generate ${specRef(d.spec)}${recipe("msm")} -o ${here(d.dir)}`
            : `specsci aft generate ${specRef(d.spec)}${recipe("aft")}${d.size ? ` --examples ${d.size}` : ""} -o ${here(d.dir)}`,
        ),
        `specsci train run ${here(file)}`,
      ],
    });
  }
  return todos;
}
