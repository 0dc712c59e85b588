/**
 * The chain behind an experiment's trained arms, run by `specsci run`: make the data (MSM corpora,
 * AFT chat sets), train (axolotl here, or Together), then serve what was trained here so the eval
 * stages can call it. Each step is cached and resumable on its own: data directories are kept
 * while their recipe and spec are unchanged (and generation resumes from the store), training
 * skips finished stages and resumes from checkpoints, and served models are registered in the
 * store. An arm whose step cannot run here (no axolotl, no Together key, no vLLM) is reported as
 * blocked with what to do, after everything upstream of it is done.
 */
import { join } from "node:path";
import { SpecsciError } from "../core/errors.js";
import { findExecutable } from "../core/executable.js";
import { canonicalJson } from "../core/hash.js";
import { readSecret } from "../core/secrets.js";
import { loadAftConfig } from "../data/aft/config.js";
import { type MixOptions, planMix, writeMix } from "../data/aft/mix.js";
import { writeAftSet } from "../data/aft/output.js";
import { buildAftSet } from "../data/aft/pipeline.js";
import { planAftSet } from "../data/aft/plan.js";
import { aftContext } from "../data/aft/stages.js";
import { withFailedItems, writeFailedItems } from "../data/item-failures.js";
import { MANIFEST_FILE, writtenManifest } from "../data/manifest.js";
import { loadMsmConfig } from "../data/msm/config.js";
import { corpusContext } from "../data/msm/context.js";
import { writeCorpus } from "../data/msm/output.js";
import { buildCorpus } from "../data/msm/pipeline.js";
import { planCorpus } from "../data/msm/plan.js";
import { samplesLeft } from "../evals/runner.js";
import type { LlmClient } from "../llm/client.js";
import { defaultModel } from "../llm/models.js";
import { servedModel } from "../llm/served.js";
import { trainWithEngine } from "../train/engines.js";
import { axolotlExecutable } from "../train/launcher.js";
import { type ModelArtifact, trainedModel } from "../train/models.js";
import { loadTrainPlan } from "../train/plan.js";
import { type RunningServers, servedAlive } from "../train/servers.js";
import { TOGETHER_KEY_ENV } from "../train/together.js";
import { isTrained, type LoadedExperiment } from "./config.js";
import { checkBaseFamilies } from "./families.js";
import { makePrefData, planPrefStep } from "./pref-data.js";
import { scenarioPackTexts } from "./scenario-texts.js";
import { startTrainedServers } from "./serving.js";
import type { EvalStage, SpecArtifact, StageGraph } from "./stages.js";
import {
  armData,
  type DataStep,
  type MixStep,
  type TrainingTodo,
  writeTrainingPlans,
} from "./training.js";

export interface Blocked {
  /** The training plan (or eval stage) that cannot go on here. */
  what: string;
  reason: string;
  hint: string;
}

export interface TrainedArmsResult {
  todos: TrainingTodo[];
  data: { step: DataStep; made: boolean; runId: string }[];
  trained: ModelArtifact[];
  blocked: Blocked[];
}

export interface ChainOptions {
  signal?: AbortSignal;
  log?: (line: string) => void;
  /** Called with each run id whose model calls count towards the experiment's budget. */
  onRun?: (runId: string) => void;
}

/** Why this machine cannot train with the engine, or undefined when it can. */
export function engineMissing(engine: "axolotl" | "together"): Omit<Blocked, "what"> | undefined {
  if (engine === "together")
    return readSecret(TOGETHER_KEY_ENV)
      ? undefined
      : {
          reason: "training.engine is together, but TOGETHER_API_KEY is not set",
          hint: "export TOGETHER_API_KEY=... (or put it in .env) and run again",
        };
  const exe = axolotlExecutable();
  return findExecutable(exe)
    ? undefined
    : {
        reason: `training.engine is axolotl, but ${exe} is not installed here`,
        hint: "run this on a GPU machine with axolotl (pip install axolotl; SPECSCI_AXOLOTL names another path), set training.engine: together, or run the plan's `specsci train run` there with this workspace",
      };
}

/** Makes the data of every waiting arm, then trains what this machine (or Together) can. */
export async function makeTrainedModels(
  loaded: LoadedExperiment,
  client: LlmClient,
  graph: StageGraph,
  o: ChainOptions = {},
): Promise<TrainedArmsResult> {
  const e = loaded.experiment;
  const todos = writeTrainingPlans(loaded, graph.training, graph.specs);
  const result: TrainedArmsResult = { todos, data: [], trained: [], blocked: [] };
  if (!todos.length || !e.training) return result;
  const made = new Map<string, string | Blocked>();
  // The evaluation texts every data step is checked against, read once.
  let pack: ReturnType<typeof scenarioPackTexts> | undefined;
  for (const todo of todos) {
    let blocked: Blocked | undefined;
    for (const step of todo.data) {
      if (!made.has(step.dir)) {
        // An AFT set that cannot be made holds up the mix made from it.
        const upstream =
          step.kind === "mix"
            ? mixInputs(step)
                .map((dir) => made.get(dir))
                .find((state) => typeof state === "object")
            : undefined;
        const spec =
          step.kind === "mix" ? undefined : graph.specs.find((s) => s.name === step.spec);
        if (upstream) {
          made.set(step.dir, upstream);
        } else if (step.kind === "mix") {
          o.signal?.throwIfAborted();
          const r = await makeMixData(loaded, step, o);
          result.data.push({ step, ...r });
          made.set(step.dir, r.runId);
        } else if (!spec) {
          made.set(step.dir, {
            what: step.dir,
            reason: `spec ${step.spec} is not made yet`,
            hint: "see the spec derivation errors above",
          });
        } else if (step.kind === "pref") {
          o.signal?.throwIfAborted();
          const r = await makePrefData(loaded, client, spec, step, o);
          result.data.push({ step, ...r });
          made.set(step.dir, r.empty ?? r.runId);
        } else {
          o.signal?.throwIfAborted();
          pack ??= scenarioPackTexts();
          const r = await makeData(loaded, client, spec, step, pack, o);
          result.data.push({ step, ...r });
          made.set(step.dir, r.empty ?? r.runId);
        }
      }
      const state = made.get(step.dir);
      if (typeof state === "object") blocked ??= { ...state, what: todo.plan };
    }
    if (blocked) {
      result.blocked.push(blocked);
      continue;
    }
    const missing = engineMissing(e.training.engine);
    if (missing) {
      result.blocked.push({ what: todo.plan, ...missing });
      continue;
    }
    const plan = loadTrainPlan(todo.file);
    o.log?.(`training ${todo.plan} (seeds ${todo.seeds.join(", ")}) with ${plan.plan.engine}`);
    try {
      const options = {
        seeds: todo.seeds,
        ...(o.signal ? { signal: o.signal } : {}),
        ...(o.log ? { log: o.log } : {}),
      };
      const trained = await trainWithEngine(plan, client.store, {
        ...options,
        pollMs: e.training.poll_s * 1000,
      });
      // A shared MSM run is listed once, however many cells continue it.
      for (const a of trained)
        if (!result.trained.some((x) => x.id === a.id)) result.trained.push(a);
    } catch (err) {
      // One arm's failed training leaves the others to go on; the failure is reported, not hidden.
      if (o.signal?.aborted || !(err instanceof SpecsciError)) throw err;
      result.blocked.push({
        what: todo.plan,
        reason: err.message,
        hint: err.hint ?? "fix it and run again: finished stages and checkpoints are kept",
      });
    }
  }
  return result;
}

/** A data directory is current when its manifest was written from the same id and recipe. */
function current(dir: string, idField: "corpus_id" | "set_id", id: string, config: unknown) {
  const m = writtenManifest(dir);
  return m !== undefined && m[idField] === id && canonicalJson(m.config) === canonicalJson(config);
}

/**
 * Why written data is not fit to train on: model calls still to retry, nothing kept, or short of
 * its target (a ladder arm must not train on fewer examples than its size says).
 */
export function shortfall(m: Record<string, unknown>, kind: "msm" | "aft"): string | undefined {
  const items = (m.items ?? {}) as Record<string, { failedByKind?: Record<string, number> }>;
  const calls = Object.values(items).reduce((n, st) => n + (st.failedByKind?.call ?? 0), 0);
  if (calls) return `${calls} model call(s) failed and are retried by the next run`;
  if (kind === "msm") {
    const docs = (m.documents as { kept?: number } | undefined)?.kept ?? 0;
    const b = m.budget as { target_tokens?: number | null; tokens?: number; reached?: boolean };
    if (!docs) return "it is empty: nothing passed its gates";
    if (b?.target_tokens && b.reached === false)
      return `it has ${b.tokens} of its ${b.target_tokens} tokens`;
    return undefined;
  }
  const sel = m.selection as {
    selected?: number;
    reached?: boolean;
    target_examples?: number | null;
    target_tokens?: number | null;
  };
  if (!sel?.selected) return "it is empty: no response passed";
  if (sel.reached === false)
    return `it has ${sel.selected} example(s), short of its target of ${sel.target_examples ?? `${sel.target_tokens} tokens`}`;
  return undefined;
}

/** A data step made by a generation pipeline (MSM corpus or AFT chat set). */
type GeneratedStep = Extract<DataStep, { kind: "msm" | "aft" }>;

/** The data directories a mix is made from, besides the IT files. */
const mixInputs = (step: MixStep) =>
  [step.into, step.anti?.dir].filter((d): d is string => d !== undefined);

/**
 * How a mix step is made: its AFT set with the anti-spec share, and IT data, or IT data alone.
 * `aft mix --it` with the same settings and seeds gives the same mix.
 */
const mixOptions = (loaded: LoadedExperiment, step: MixStep): MixOptions => ({
  ...(step.into ? { aligned: step.into } : {}),
  ...(step.anti ? { anti: { dir: step.anti.dir, fraction: step.anti.fraction } } : {}),
  ...(step.it ? { it: step.it, itFrom: `it.files in ${loaded.file}` } : {}),
  seed: step.seed,
});

/**
 * Makes a mix step's chat set unless its directory holds the same mix already (by the mix's id:
 * the sets' files, the IT files' content, the counts and the seeds). No model calls.
 */
async function makeMixData(
  loaded: LoadedExperiment,
  step: MixStep,
  o: ChainOptions,
): Promise<{ made: boolean; runId: string }> {
  const plan = planMix(mixOptions(loaded, step));
  if (writtenManifest(step.dir)?.mix_id === plan.id) return { made: false, runId: plan.id };
  const added = plan.composition
    .filter((c) => c.source !== "aligned")
    .map((c) => `${c.examples} ${c.source.startsWith("it:") ? "instruction-tuning" : c.source}`);
  o.log?.(
    `mixing ${added.join(" and ")} example(s)${step.into ? ` into ${step.into}` : " (IT only)"} in ${step.dir}`,
  );
  await writeMix(plan, step.dir);
  return { made: true, runId: plan.id };
}

/**
 * The recipe a data step is made with (the experiment's or the arm's own, sized for the arm), and
 * its id.
 */
function dataRecipe(
  loaded: LoadedExperiment,
  spec: SpecArtifact,
  step: GeneratedStep,
  client: LlmClient,
) {
  const recipes = loaded.experiment.training?.data ?? {};
  const named = step.recipe ?? recipes[step.kind];
  const file = named ? join(loaded.dir, named) : undefined;
  const generator = defaultModel("generator", client.config);
  const from = `${step.recipe ? `msm_recipe ${step.recipe}` : `training.data.${step.kind}`} in ${loaded.file}`;
  checkBaseFamilies(loaded);
  if (step.kind === "msm") {
    const config = loadMsmConfig(file, generator, from);
    const id = corpusContext(spec.spec, spec.hash, spec.name, config).corpusId;
    return {
      kind: "msm" as const,
      config,
      id,
      current: current(step.dir, "corpus_id", id, config),
    };
  }
  const config = loadAftConfig(file, generator, from);
  if (step.chatTemplate) config.chat_template = step.chatTemplate;
  if (step.size) {
    config.budget.examples = step.size;
    delete config.budget.target_tokens;
  }
  const id = aftContext(spec.spec, spec.hash, spec.name, config).setId;
  return { kind: "aft" as const, config, id, current: current(step.dir, "set_id", id, config) };
}

async function makeData(
  loaded: LoadedExperiment,
  client: LlmClient,
  spec: SpecArtifact,
  step: GeneratedStep,
  contamination: ReturnType<typeof scenarioPackTexts>,
  o: ChainOptions,
): Promise<{ made: boolean; runId: string; empty?: Blocked }> {
  const recipe = dataRecipe(loaded, spec, step, client);
  o.onRun?.(recipe.id);
  const written = writtenManifest(step.dir);
  if (recipe.current && written && !shortfall(written, recipe.kind))
    return { made: false, runId: recipe.id };
  const base = {
    spec: spec.spec,
    specHash: spec.hash,
    specName: spec.name,
    client,
    contamination,
    ...(o.signal ? { signal: o.signal } : {}),
    ...(o.log ? { log: o.log } : {}),
  };
  const source = { spec: spec.file ?? `${loaded.file}#specs.${spec.name}` };
  const what = recipe.kind === "msm" ? "MSM corpus" : "AFT chat set";
  o.log?.(`making the ${what} for ${spec.name} in ${step.dir}`);
  if (recipe.kind === "msm") {
    const build = await withFailedItems(client.store, step.dir, () =>
      buildCorpus({ ...base, config: recipe.config }),
    );
    await writeCorpus(build, step.dir, client.store, source);
    writeFailedItems(client.store, recipe.id, step.dir);
  } else {
    const build = await withFailedItems(client.store, step.dir, () =>
      buildAftSet({ ...base, config: recipe.config }),
    );
    await writeAftSet(build, step.dir, client.store, source);
    writeFailedItems(client.store, recipe.id, step.dir);
  }
  const short = shortfall(writtenManifest(step.dir) ?? {}, recipe.kind);
  if (!short) return { made: true, runId: recipe.id };
  return {
    made: true,
    runId: recipe.id,
    empty: {
      what: step.dir,
      reason: `the ${what} for ${spec.name} is not fit to train on: ${short}`,
      hint: `${join(step.dir, MANIFEST_FILE)} has the counts; run again to retry failed calls, or raise the recipe's budget.max_waves or counts (check the generator with \`specsci models test\`)`,
    },
  };
}

export interface TrainedArmsPlan {
  data: {
    step: DataStep;
    state: "up to date" | "to make" | "waits for its spec" | "waits for its AFT set";
    calls: number;
    costExpected: number | null;
    /**
     * An AFT set in another family's template than a set planned before it, from the same spec,
     * recipe and size: the same set id, so it resumes that set's stored prompts, responses and
     * verdicts and makes no model calls of its own (its calls and cost are that set's, not
     * counted twice). With a token budget, a template that counts more tokens may need a wave more.
     */
    sharesCallsWith?: string;
    /** For a mix step: the IT examples it mixes in. */
    itExamples?: number;
    /** For a dose arm's mix step whose AFT sets exist: the anti-spec examples it mixes in. */
    antiExamples?: number;
  }[];
  training: { plan: string; arm: string; seeds: number[]; engine: string; missing?: string }[];
}

/** What `run` would do for the trained arms: data to make (with its expected cost), training. */
export function planTrainedArms(
  loaded: LoadedExperiment,
  client: LlmClient,
  graph: StageGraph,
): TrainedArmsPlan {
  const e = loaded.experiment;
  const out: TrainedArmsPlan = { data: [], training: [] };
  if (!e.training) return out;
  const missing = engineMissing(e.training.engine);
  const seen = new Set<string>();
  // Preference sets of one spec share their answers: each is costed once.
  const prefPlanned = new Map<string, number>();
  // Seeds per plan: each seed once, though every eval of the arm waits for it.
  const byPlan = new Map<string, Set<number>>();
  for (const w of graph.training) byPlan.set(w.plan, (byPlan.get(w.plan) ?? new Set()).add(w.seed));
  // AFT sets by what their model calls depend on (all of the recipe but the template).
  const callsOf = new Map<string, string>();
  for (const [plan, seedSet] of byPlan) {
    const seeds = [...seedSet].sort((a, b) => a - b);
    const wait = graph.training.find((w) => w.plan === plan) as StageGraph["training"][number];
    const arm = e.arms.find((a) => a.name === wait.arm);
    if (!arm || !isTrained(arm)) continue;
    for (const step of armData(loaded, arm, wait.base)) {
      if (seen.has(step.dir)) continue;
      seen.add(step.dir);
      if (step.kind === "mix") {
        out.data.push(planMixStep(loaded, step, out.data));
        continue;
      }
      const spec = graph.specs.find((s) => s.name === step.spec);
      if (!spec) {
        out.data.push({ step, state: "waits for its spec", calls: 0, costExpected: null });
        continue;
      }
      if (step.kind === "pref") {
        out.data.push({ step, ...planPrefStep(loaded, client, spec, step, prefPlanned) });
        continue;
      }
      const r = dataRecipe(loaded, spec, step, client);
      const written = writtenManifest(step.dir);
      const ready = r.current && written !== undefined && !shortfall(written, r.kind);
      const calls = canonicalJson({ id: r.id, config: { ...r.config, chat_template: null } });
      const shared = r.kind === "aft" ? callsOf.get(calls) : undefined;
      if (r.kind === "aft" && !shared) callsOf.set(calls, step.dir);
      if (shared && !ready) {
        out.data.push({
          step,
          state: "to make",
          calls: 0,
          costExpected: 0,
          sharesCallsWith: shared,
        });
        continue;
      }
      const totals = ready
        ? { calls: 0, costExpected: 0 }
        : r.kind === "msm"
          ? planCorpus(spec.spec, spec.hash, spec.name, r.config, client).totals
          : planAftSet(spec.spec, spec.hash, spec.name, r.config, client).totals;
      out.data.push({
        step,
        state: ready ? "up to date" : "to make",
        calls: totals.calls,
        costExpected: totals.costExpected,
      });
    }
    out.training.push({
      plan,
      arm: arm.name,
      seeds,
      engine: e.training.engine,
      ...(missing ? { missing: missing.reason } : {}),
    });
  }
  return out;
}

/**
 * Where a mix step stands: it waits for an AFT set still to make (the aligned or the anti-spec
 * one), else its mix is current or not.
 */
function planMixStep(
  loaded: LoadedExperiment,
  step: MixStep,
  planned: TrainedArmsPlan["data"],
): TrainedArmsPlan["data"][number] {
  const none = { calls: 0, costExpected: 0 };
  const inputs = mixInputs(step);
  const waits = planned.some((d) => inputs.includes(d.step.dir) && d.state !== "up to date");
  if (waits) {
    // While its AFT sets are still to make, the IT part alone says how many IT examples go in.
    const itExamples = step.it
      ? (
          planMix({ it: step.it, itFrom: `it.files in ${loaded.file}`, seed: step.seed }).recipe
            .it as { examples: number }
        ).examples
      : undefined;
    return {
      step,
      state: "waits for its AFT set",
      ...none,
      ...(itExamples !== undefined ? { itExamples } : {}),
    };
  }
  const plan = planMix(mixOptions(loaded, step));
  const state = writtenManifest(step.dir)?.mix_id === plan.id ? "up to date" : "to make";
  const counts = plan.recipe as {
    it: { examples: number } | null;
    anti: { examples: number } | null;
  };
  return {
    step,
    state,
    ...none,
    ...(counts.it ? { itExamples: counts.it.examples } : {}),
    ...(counts.anti ? { antiExamples: counts.anti.examples } : {}),
  };
}

/**
 * Makes sure every trained model the eval stages call is served: a registered server that answers
 * is used as it is; an endpoint named in specsci.yaml is trusted to serve it; otherwise the
 * servers are started here (and stopped by the caller). Stages that cannot be served are returned
 * as blocked, and the rest can run.
 */
export async function serveTrainedStages(
  loaded: LoadedExperiment,
  client: LlmClient,
  stages: EvalStage[],
  o: ChainOptions = {},
): Promise<{ servers: RunningServers | null; blocked: (Blocked & { key: string })[] }> {
  const t = loaded.experiment.training;
  const none = { servers: null, blocked: [] };
  if (!t) return none;
  const prefix = `${t.endpoint}/`;
  // Only stages with samples still to run need a server.
  const needed = stages.filter(
    (s) =>
      isTrained(s.arm) &&
      s.model.startsWith(prefix) &&
      samplesLeft(
        client.store,
        s.runId,
        s.task.dataset.length * s.epochs,
        s.eval.retry_max_tokens,
      ) > 0,
  );
  if (!needed.length || client.config.endpoints[t.endpoint]) return none;
  const toStart = new Map<string, EvalStage[]>();
  const stale: (Blocked & { key: string })[] = [];
  for (const st of needed) {
    const served = servedModel(client.store, st.model);
    if (served && (await servedAlive(served))) {
      if (!st.modelVersion || served.weights === st.modelVersion) continue;
      // A server started before a retrain answers with the old weights under the same name.
      stale.push({
        key: st.key,
        what: st.model,
        reason: `the server at ${served.base_url}${served.pid ? ` (process ${served.pid})` : ""} serves older weights of ${st.model}`,
        hint: "stop that server and run again: a new one is started with the retrained weights",
      });
      continue;
    }
    toStart.set(st.model, [...(toStart.get(st.model) ?? []), st]);
  }
  if (!toStart.size) return { servers: null, blocked: stale };
  const blockAll = (reason: string, hint: string) => ({
    servers: null,
    blocked: [
      ...stale,
      ...[...toStart.values()].flat().map((s) => ({ key: s.key, what: s.model, reason, hint })),
    ],
  });
  if (!t.serve.start)
    return blockAll(
      `${[...toStart.keys()].join(", ")} ${toStart.size > 1 ? "are" : "is"} not served, and training.serve.start is false`,
      `serve them with \`specsci train serve --endpoint ${t.endpoint} --start\` (it registers them in this workspace), or add endpoint ${t.endpoint} to specsci.yaml`,
    );
  const artifacts = [...toStart.values()].map((ss) => {
    const key = (ss[0] as EvalStage).trainedModel as string;
    const artifact = trainedModel(client.store, key);
    // Stages get a trained model only once its record exists (buildStages), so it is there.
    if (!artifact) throw new Error(`${key}: no trained-model record for a stage that has one`);
    return artifact;
  });
  const started = await startTrainedServers(loaded, client, artifacts, o);
  return "servers" in started
    ? { servers: started.servers, blocked: stale }
    : blockAll(started.reason, started.hint);
}
