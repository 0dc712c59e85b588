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
import { type ItSource, itExamplesWanted, readItFiles } from "../data/aft/mix.js";
import type { BaseFamilyId } from "../data/base-templates.js";
import { resolveSpecRef } from "../spec/library.js";
import { renderSpec } from "../spec/render.js";
import {
  antiPercent,
  type ItMixConfig,
  isTrained,
  type LoadedExperiment,
  type TrainedArm,
} from "./config.js";
import { aftTemplateFor, experimentBases, overriddenFamilyOf } from "./families.js";
import { msmPart } from "./msm-recipe.js";
import {
  type PrefStep,
  prefCommand,
  prefFingerprint,
  prefStage,
  prefStepOf,
} from "./pref-training.js";
import { type SpecArtifact, type TrainingWait, trainingPlanName } from "./stages.js";

/** A corpus or chat set an arm trains on. */
export type DataStep =
  | {
      kind: "msm" | "aft";
      spec: string;
      /** An MSM step's own recipe (the arm's msm_recipe, relative to the experiment file). */
      recipe?: string;
      /** AFT examples wanted (the recipe's budget when absent). */
      size?: number;
      /** An AFT set for a base of another turn format: the recipe with this chat_template. */
      chatTemplate?: BaseFamilyId;
      /** Absolute directory the data is written to. */
      dir: string;
    }
  | {
      /**
       * A mix (`aft mix`, no model calls): an AFT set (`into`) with a share of anti-spec examples
       * and IT data, or IT data alone for an it-only arm.
       */
      kind: "mix";
      /** The aligned AFT set's spec and directory, when mixing into one. */
      spec?: string;
      into?: string;
      /** The anti-spec set (another step's directory) and its share of the AFT examples. */
      anti?: { spec: string; dir: string; fraction: number };
      /** The arm's IT settings, its files made absolute. */
      it?: ItMixConfig;
      /** Seed of the aligned and anti-spec choice and of the mix's order. */
      seed: number;
      dir: string;
    }
  | PrefStep;

/** A mix step: what `aft mix` makes. */
export type MixStep = Extract<DataStep, { kind: "mix" }>;

/** The stage of a training plan whose model an arm is evaluated on. */
export type TrainedStage = "msm" | "aft" | "it" | "pref";

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

/** IT settings with their files resolved against the experiment file. */
const itResolved = (loaded: LoadedExperiment, it: ItMixConfig): ItMixConfig => ({
  ...it,
  files: it.files.map((f) => resolve(loaded.dir, f)),
});

/**
 * A short tag of IT settings (files as named, count or share, seed) for directory names: the
 * files' content is checked through the manifest, so editing a file remakes the same directory.
 */
const itTag = (it: ItMixConfig) =>
  hashValue({ files: it.files, examples: it.examples, fraction: it.fraction, seed: it.seed }).slice(
    0,
    8,
  );

/**
 * The data an arm trains on, in the order it is made. Each (spec, size) AFT set is one directory
 * shared by every arm that uses it, the anti-spec set of a dose arm included (made like any AFT
 * set, at the arm's size); a dose arm's or IT arm's set is one mix of them
 * (`<aft set>[-anti-<spec>-<percent>][-it-<tag>]/`). A base of another turn format than the
 * recipe's trains on sets in its family's template (`aft-<spec>[-<size>]-<family>`, mixes too).
 */
export function armData(loaded: LoadedExperiment, arm: TrainedArm, base?: string): DataStep[] {
  const steps = chatData(loaded, arm, base);
  // A preference arm's set comes last: its AFT data is the step before it.
  const pref = arm.kind !== "it-only" && arm.kind !== "msm" && arm.pref;
  return pref
    ? [...steps, prefStepOf(join(trainingDir(loaded), "data"), arm.aft_spec, pref)]
    : steps;
}

/**
 * The MSM corpus and the AFT (or IT) chat set an arm trains on, in the order they are made, for
 * the given base (its family's turn format).
 */
function chatData(loaded: LoadedExperiment, arm: TrainedArm, base?: string): DataStep[] {
  const data = join(trainingDir(loaded), "data");
  if (arm.kind === "it-only")
    return [
      {
        kind: "mix",
        it: itResolved(loaded, arm.it),
        seed: arm.it.seed,
        dir: join(data, `it-${itTag(arm.it)}`),
      },
    ];
  const steps: DataStep[] = [];
  if (arm.kind !== "aft")
    steps.push({
      kind: "msm",
      spec: arm.msm_spec,
      ...(arm.msm_recipe ? { recipe: arm.msm_recipe } : {}),
      dir: join(data, msmPart(arm.msm_spec, arm.msm_recipe)),
    });
  if (arm.kind === "msm") return steps;
  const format = aftTemplateFor(loaded, base);
  const aftSet = (spec: string): DataStep & { kind: "aft" } => ({
    kind: "aft",
    spec,
    ...(arm.aft_size ? { size: arm.aft_size } : {}),
    ...(format.suffix ? { chatTemplate: format.template } : {}),
    dir: join(data, `aft-${spec}${arm.aft_size ? `-${arm.aft_size}` : ""}${format.suffix}`),
  });
  const aligned = aftSet(arm.aft_spec);
  steps.push(aligned);
  const anti = arm.anti && aftSet(arm.anti.spec);
  if (anti) steps.push(anti);
  if (!arm.anti && !arm.it) return steps;
  const antiTag = arm.anti ? `-anti-${arm.anti.spec}-${antiPercent(arm.anti.fraction)}` : "";
  steps.push({
    kind: "mix",
    spec: arm.aft_spec,
    into: aligned.dir,
    ...(anti && arm.anti
      ? { anti: { spec: arm.anti.spec, dir: anti.dir, fraction: arm.anti.fraction } }
      : {}),
    ...(arm.it ? { it: itResolved(loaded, arm.it) } : {}),
    // A dose series keeps one seed for every fraction; an IT-only mix keeps the IT seed, as before.
    seed: arm.anti?.seed ?? (arm.it as ItMixConfig).seed,
    dir: `${aligned.dir}${antiTag}${arm.it ? `-it-${itTag(arm.it)}` : ""}`,
  });
  return steps;
}

/** The data of an arm for every base of the experiment, each directory once. */
export function armDataAllBases(loaded: LoadedExperiment, arm: TrainedArm): DataStep[] {
  const bases = experimentBases(loaded);
  const steps = (bases.length ? bases : [undefined]).flatMap((b) => armData(loaded, arm, b));
  return steps.filter((s, i) => steps.findIndex((x) => x.dir === s.dir) === i);
}

/** The step whose data the arm's chat stage trains on (an AFT set mixed with others, if any). */
export const trainedData = (steps: DataStep[]) =>
  steps.filter((d) => d.kind !== "pref").at(-1) as DataStep;

/** IT files read once per loaded experiment (their hashes enter every fingerprint that uses them). */
const itFiles = new WeakMap<LoadedExperiment, Map<string, ItSource>>();
/**
 * What IT settings train on, for fingerprints: the files' sha256 (so editing one retrains), the
 * count or share and the seed. The files are read and checked here, so `plan` and `status`
 * already name a missing file, a malformed line or more examples than the files hold.
 */
export function itIdentity(loaded: LoadedExperiment, it: ItMixConfig) {
  let cache = itFiles.get(loaded);
  if (!cache) {
    cache = new Map();
    itFiles.set(loaded, cache);
  }
  const from = `it.files in ${loaded.file}`;
  const sources = itResolved(loaded, it).files.map((file) => {
    let source = cache.get(file);
    if (!source) {
      source = readItFiles([file], from)[0] as ItSource;
      cache.set(file, source);
    }
    return source;
  });
  const available = sources.reduce((n, f) => n + f.lines.length, 0);
  itExamplesWanted(available, it, `it: in ${loaded.file}`);
  return {
    files: sources.map((f) => f.sha256),
    examples: it.examples ?? null,
    fraction: it.fraction ?? null,
    seed: it.seed,
  };
}

/** Recipe texts read once per loaded experiment (fingerprints are taken per arm, model and seed). */
const recipes = new WeakMap<LoadedExperiment, Map<string, string>>();
function recipeText(loaded: LoadedExperiment, which: "msm" | "aft" | "pref", own?: string): string {
  const file = own ?? loaded.experiment.training?.data[which];
  if (!file) return "";
  let cache = recipes.get(loaded);
  if (!cache) {
    cache = new Map();
    recipes.set(loaded, cache);
  }
  let text = cache.get(file);
  if (text === undefined) {
    const what = which === "pref" ? "preference" : which.toUpperCase();
    text = readUserFile(join(loaded.dir, file), `${what} recipe`, {
      from: `${own ? `msm_recipe ${own}` : `training.data.${which}`} in ${loaded.file}`,
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
  part: TrainedStage,
  base: string,
  specHash: (name: string) => string | undefined,
): string | undefined {
  const t = loaded.experiment.training;
  const recipe = (which: "msm" | "aft" | "pref") => recipeText(loaded, which);
  // A family from training.base_families enters only where it overrides the id (old ones stay).
  const named = overriddenFamilyOf(loaded, base);
  const common = {
    base,
    ...(named !== undefined ? { base_family: named } : {}),
    engine: t?.engine ?? "axolotl",
    hyperparameters: t?.hyperparameters ?? {},
  };
  if (arm.kind === "it-only") return hashValue({ ...common, it: itIdentity(loaded, arm.it) });
  // A preference stage continues the AFT run: its fingerprint is taken on top of that one's.
  const withPref = (aftPrint: string) =>
    part === "pref" && arm.kind !== "msm" && arm.pref
      ? prefFingerprint(arm.pref, common, aftPrint, recipe("pref"), specHash(arm.aft_spec))
      : aftPrint;
  // IT and anti-spec data are added only when there are some, so models of arms without them
  // keep their fingerprints. The anti-spec set is made with the same recipe and size as the
  // aligned one, so its spec's content, the share and the seed say the rest. A set in another
  // template than the recipe's names it. Undefined while a spec it trains on is not made yet.
  const format = aftTemplateFor(loaded, base);
  const aftPart = (a: Exclude<TrainedArm, { kind: "msm" | "it-only" }>) => {
    const spec = specHash(a.aft_spec);
    const anti = a.anti && specHash(a.anti.spec);
    if (!spec || (a.anti && !anti)) return undefined;
    return {
      spec,
      recipe: recipe("aft"),
      size: a.aft_size ?? null,
      reasoning: a.reasoning,
      ...(format.suffix ? { chat_template: format.template } : {}),
      ...(a.it ? { it: itIdentity(loaded, a.it) } : {}),
      ...(a.anti ? { anti: { spec: anti, fraction: a.anti.fraction, seed: a.anti.seed } } : {}),
    };
  };
  if (arm.kind !== "aft") {
    const hash = specHash(arm.msm_spec);
    if (!hash) return undefined;
    const msmRecipe = recipeText(loaded, "msm", arm.msm_recipe);
    const msm = hashValue({ ...common, msm: { spec: hash, recipe: msmRecipe } });
    if (part === "msm" || arm.kind === "msm") return msm;
    const aft = aftPart(arm);
    if (!aft) return undefined;
    return withPref(
      hashValue({ ...common, parent: msm, from_previous: t?.from_previous ?? "adapter", aft }),
    );
  }
  const aft = aftPart(arm);
  return aft ? withPref(hashValue({ ...common, aft })) : undefined;
}

/** The `aft mix` command that makes a mix step by hand (`run` makes it itself: no model calls). */
function mixCommand(d: MixStep, here: (p: string) => string): string {
  const it = d.it;
  const select = !it
    ? ""
    : it.examples !== undefined
      ? ` --it-examples ${it.examples}`
      : it.fraction !== undefined
        ? ` --it-fraction ${it.fraction}`
        : "";
  const files = it ? it.files.map((f) => ` --it ${here(f)}`).join("") : "";
  const itSeed = it && it.seed !== d.seed ? ` --it-seed ${it.seed}` : "";
  const anti = d.anti ? ` --anti ${here(d.anti.dir)} --fraction ${d.anti.fraction}` : "";
  return `specsci aft mix${d.into ? ` ${here(d.into)}` : ""}${anti}${files}${select}${itSeed} --seed ${d.seed} -o ${here(d.dir)}`;
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
  const recipe = (which: "msm" | "aft" | "pref", own?: string) => {
    const file = own ?? t?.data[which];
    return file ? ` -r ${here(join(loaded.dir, file))}` : "";
  };
  // Seeds each shared MSM plan is needed for: its own arms' and those of the cells continuing it.
  const parentSeeds = new Map<string, Set<number>>();
  for (const w of waits)
    for (const p of [w.stage === "msm" ? w.plan : w.parent])
      if (p) parentSeeds.set(p, (parentSeeds.get(p) ?? new Set()).add(w.seed));
  // The AFT plan a wait's model comes from: its own, or for a preference arm that of the arm
  // without pref, whose AFT run it continues (so one AFT run serves every point of a series).
  const aftPlanOf = (w: TrainingWait) => {
    const base = e.arms.find((a) => a.name === w.arm)?.design?.pref?.base;
    if (base !== undefined) return trainingPlanName(e.name, base, w.model);
    return w.stage === "aft" ? w.plan : undefined;
  };
  const aftSeeds = new Map<string, Set<number>>();
  for (const w of waits) {
    const p = aftPlanOf(w);
    if (p) aftSeeds.set(p, (aftSeeds.get(p) ?? new Set()).add(w.seed));
  }
  const written = new Set<string>();
  const writePlan = (
    plan: string,
    why: string,
    base: string,
    seeds: number[],
    stages: Record<string, unknown>[],
    origin: { arm: string; fingerprint: string | undefined },
    startFrom?: { plan: string; stage: string },
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
          ...(overriddenFamilyOf(loaded, base) !== undefined
            ? { base_family: overriddenFamilyOf(loaded, base) }
            : {}),
          engine: t?.engine ?? "axolotl",
          seeds,
          stages,
          ...(startFrom
            ? { start_from: { plan: `${startFrom.plan}.yaml`, stage: startFrom.stage } }
            : {}),
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
    const data = armData(loaded, arm, first.base);
    const sorted = (xs: Iterable<number>) => [...new Set(xs)].sort((a, b) => a - b);
    const msmData = data.find((d): d is DataStep & { kind: "msm" } => d.kind === "msm");
    const lastData = trainedData(data);
    const msmPlan = first.stage === "msm" ? first.plan : first.parent;
    const fingerprint = (part: TrainedStage) =>
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
        `MSM on spec ${msmData.spec}${msmData.recipe ? ` with recipe ${msmData.recipe}` : ""}`,
        first.base,
        sorted(parentSeeds.get(msmPlan) ?? []),
        [{ name: "msm", kind: "midtraining", data: relative(dir, msmData.dir) }],
        { arm: msmPart(msmData.spec, msmData.recipe), fingerprint: fingerprint("msm") },
      );
    const seeds = sorted(ws.map((w) => w.seed));
    // The chat SFT stage: AFT (mixed with anti-spec and IT data, if any), or IT data alone.
    const chatStage =
      arm.kind === "msm"
        ? undefined
        : arm.kind === "it-only"
          ? { name: "it", kind: "aft", data: relative(dir, lastData.dir), set: "reasoning" }
          : {
              name: "aft",
              kind: "aft",
              data: relative(dir, lastData.dir),
              set: arm.reasoning ? "reasoning" : "no-reasoning",
              ...(first.parent ? { from_previous: t?.from_previous ?? "adapter" } : {}),
            };
    const fromMsm = first.parent ? { plan: first.parent, stage: "msm" } : undefined;
    // A preference arm's plan is its preference stage alone, continuing the AFT plan of the arm
    // without pref (written here too, the same as that arm writes it).
    // GRPO's reward reads the spec as a file: the one the commands name, or the library's.
    const pref = prefStage(dir, data, arm, () => {
      const ref = specRef(arm.kind === "it-only" || arm.kind === "msm" ? "" : arm.aft_spec);
      return existsSync(resolve(ref)) ? resolve(ref) : resolveSpecRef(ref);
    });
    const aftPlan = aftPlanOf(first);
    const aftFile =
      chatStage &&
      writePlan(
        pref && aftPlan ? aftPlan : plan,
        `arm ${pref ? arm.design?.pref?.base : arm.name}${arm.kind === "it-only" ? " (instruction-tuning data only)" : ""}`,
        first.base,
        sorted(aftPlan ? (aftSeeds.get(aftPlan) ?? []) : seeds),
        [chatStage],
        {
          arm: pref ? (arm.design?.pref?.base as string) : arm.name,
          fingerprint: fingerprint(chatStage.name as TrainedStage),
        },
        fromMsm,
      );
    const file = !aftFile
      ? join(dir, `${plan}.yaml`)
      : pref && aftPlan
        ? writePlan(
            plan,
            `arm ${arm.name}`,
            first.base,
            seeds,
            [pref],
            { arm: arm.name, fingerprint: fingerprint("pref") },
            { plan: aftPlan, stage: "aft" },
          )
        : aftFile;
    todos.push({
      plan,
      arm,
      file,
      seeds,
      data,
      commands: [
        ...data.map((d) =>
          d.kind === "mix"
            ? mixCommand(d, here)
            : d.kind === "pref"
              ? prefCommand(d, specRef(d.spec), recipe("pref"), here)
              : d.kind === "msm"
                ? `specsci msm generate ${specRef(d.spec)}${recipe("msm", d.recipe)} -o ${here(d.dir)}`
                : `specsci aft generate ${specRef(d.spec)}${recipe("aft")}${d.size ? ` --examples ${d.size}` : ""}${d.chatTemplate ? ` --chat-template ${d.chatTemplate}` : ""} -o ${here(d.dir)}`,
        ),
        `specsci train run ${here(file)}`,
      ],
    });
  }
  return todos;
}
