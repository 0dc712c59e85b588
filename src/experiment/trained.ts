/**
 * The chain behind an experiment's trained arms, run by `specsci run`: make the data (MSM corpora,
 * AFT chat sets), train (axolotl here, or Together), then serve what was trained here so the eval
 * stages can call it. Each step is cached and resumable on its own: data directories are kept
 * while their recipe and spec are unchanged (and generation resumes from the store), training
 * skips finished stages and resumes from checkpoints, and served models are registered in the
 * store. An arm whose step cannot run here (no axolotl, no Together key, no vLLM) is reported as
 * blocked with what to do, after everything upstream of it is done.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { SpecsciError } from "../core/errors.js";
import { findExecutable } from "../core/executable.js";
import { canonicalJson } from "../core/hash.js";
import { loadAftConfig } from "../data/aft/config.js";
import { writeAftSet } from "../data/aft/output.js";
import { buildAftSet } from "../data/aft/pipeline.js";
import { planAftSet } from "../data/aft/plan.js";
import { aftContext } from "../data/aft/stages.js";
import { loadMsmConfig } from "../data/msm/config.js";
import { corpusContext } from "../data/msm/context.js";
import { writeCorpus } from "../data/msm/output.js";
import { buildCorpus } from "../data/msm/pipeline.js";
import { planCorpus } from "../data/msm/plan.js";
import type { LlmClient } from "../llm/client.js";
import { servedModel } from "../llm/served.js";
import type { ModelArtifact } from "../train/launcher.js";
import { runTraining } from "../train/launcher.js";
import { loadTrainPlan } from "../train/plan.js";
import { servingPlan } from "../train/serve.js";
import { type RunningServers, servedAlive, startServers } from "../train/servers.js";
import { runTogether } from "../train/together.js";
import { isTrained, type LoadedExperiment } from "./config.js";
import { scenarioPackTexts } from "./scenario-texts.js";
import type { EvalStage, SpecArtifact, StageGraph } from "./stages.js";
import {
  armData,
  type DataStep,
  type TrainingTodo,
  trainingDir,
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
    return process.env.TOGETHER_API_KEY
      ? undefined
      : {
          reason: "training.engine is together, but TOGETHER_API_KEY is not set",
          hint: "export TOGETHER_API_KEY=... (or put it in .env) and run again",
        };
  const exe = process.env.SPECSCI_AXOLOTL ?? "axolotl";
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
  for (const todo of todos) {
    let blocked: Blocked | undefined;
    for (const step of todo.data) {
      if (!made.has(step.dir)) {
        const spec = graph.specs.find((s) => s.name === step.spec);
        if (!spec) {
          made.set(step.dir, {
            what: step.dir,
            reason: `spec ${step.spec} is not made yet`,
            hint: "see the spec derivation errors above",
          });
        } else {
          o.signal?.throwIfAborted();
          const r = await makeData(loaded, client, spec, step, o);
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
      const trained =
        plan.plan.engine === "together"
          ? await runTogether(plan, client.store, options)
          : await runTraining(plan, client.store, options);
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
  const file = join(dir, "manifest.json");
  if (!existsSync(file)) return false;
  try {
    const m = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
    return m[idField] === id && canonicalJson(m.config) === canonicalJson(config);
  } catch {
    return false;
  }
}

/** The recipe a data step is made with (the experiment's, sized for the arm), and its id. */
function dataRecipe(loaded: LoadedExperiment, spec: SpecArtifact, step: DataStep) {
  const recipes = loaded.experiment.training?.data ?? {};
  const file = recipes[step.kind] ? join(loaded.dir, recipes[step.kind] as string) : undefined;
  if (step.kind === "msm") {
    const config = loadMsmConfig(file);
    const id = corpusContext(spec.spec, spec.hash, spec.name, config).corpusId;
    return {
      kind: "msm" as const,
      config,
      id,
      current: current(step.dir, "corpus_id", id, config),
    };
  }
  const config = loadAftConfig(file);
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
  step: DataStep,
  o: ChainOptions,
): Promise<{ made: boolean; runId: string; empty?: Blocked }> {
  const recipe = dataRecipe(loaded, spec, step);
  o.onRun?.(recipe.id);
  if (recipe.current) return { made: false, runId: recipe.id };
  const base = {
    spec: spec.spec,
    specHash: spec.hash,
    specName: spec.name,
    client,
    contamination: scenarioPackTexts(),
    ...(o.signal ? { signal: o.signal } : {}),
    ...(o.log ? { log: o.log } : {}),
  };
  const source = { spec: spec.file ?? `${loaded.file}#specs.${spec.name}` };
  const what = recipe.kind === "msm" ? "MSM corpus" : "AFT chat set";
  o.log?.(`making the ${what} for ${spec.name} in ${step.dir}`);
  let kept: number;
  if (recipe.kind === "msm") {
    const build = await buildCorpus({ ...base, config: recipe.config });
    await writeCorpus(build, step.dir, client.store, source);
    kept = build.documents.length;
  } else {
    const build = await buildAftSet({ ...base, config: recipe.config });
    await writeAftSet(build, step.dir, client.store, source);
    kept = build.selection.selected;
  }
  if (kept) return { made: true, runId: recipe.id };
  return {
    made: true,
    runId: recipe.id,
    empty: {
      what: step.dir,
      reason: `the ${what} for ${spec.name} is empty: nothing passed its gates`,
      hint: `${join(step.dir, "manifest.json")} has the counts; check the generator with \`specsci models test\``,
    },
  };
}

export interface TrainedArmsPlan {
  data: {
    step: DataStep;
    state: "up to date" | "to make" | "waits for its spec";
    calls: number;
    costExpected: number | null;
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
  const byPlan = new Map<string, number[]>();
  for (const w of graph.training) byPlan.set(w.plan, [...(byPlan.get(w.plan) ?? []), w.seed]);
  for (const [plan, seeds] of byPlan) {
    const armName = graph.training.find((w) => w.plan === plan)?.arm as string;
    const arm = e.arms.find((a) => a.name === armName);
    if (!arm || !isTrained(arm)) continue;
    for (const step of armData(loaded, arm)) {
      if (seen.has(step.dir)) continue;
      seen.add(step.dir);
      const spec = graph.specs.find((s) => s.name === step.spec);
      if (!spec) {
        out.data.push({ step, state: "waits for its spec", calls: 0, costExpected: null });
        continue;
      }
      const r = dataRecipe(loaded, spec, step);
      const totals = r.current
        ? { calls: 0, costExpected: 0 }
        : r.kind === "msm"
          ? planCorpus(spec.spec, spec.hash, spec.name, r.config, client).totals
          : planAftSet(spec.spec, spec.hash, spec.name, r.config, client).totals;
      out.data.push({
        step,
        state: r.current ? "up to date" : "to make",
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
      client.store.evals.statusCounts(s.runId).done < s.task.dataset.length * s.epochs,
  );
  if (!needed.length || client.config.endpoints[t.endpoint]) return none;
  const toStart = new Map<string, EvalStage[]>();
  for (const st of needed) {
    const served = servedModel(client.store, st.model);
    if (served && (await servedAlive(served))) continue;
    toStart.set(st.model, [...(toStart.get(st.model) ?? []), st]);
  }
  if (!toStart.size) return none;
  const blockAll = (reason: string, hint: string) => ({
    servers: null,
    blocked: [...toStart.values()].flat().map((s) => ({ key: s.key, what: s.model, reason, hint })),
  });
  if (!t.serve.start)
    return blockAll(
      `${[...toStart.keys()].join(", ")} ${toStart.size > 1 ? "are" : "is"} not served, and training.serve.start is false`,
      `serve them with \`specsci train serve --endpoint ${t.endpoint} --start\` (it registers them in this workspace), or add endpoint ${t.endpoint} to specsci.yaml`,
    );
  const exe =
    t.serve.engine === "vllm"
      ? (process.env.SPECSCI_VLLM ?? "vllm")
      : (process.env.SPECSCI_SGLANG ?? "python");
  if (!findExecutable(exe))
    return blockAll(
      `the trained models are served with ${t.serve.engine}, and ${exe} is not installed here`,
      `run this on the GPU machine with ${t.serve.engine} (SPECSCI_${t.serve.engine.toUpperCase()} names another path), or serve them there with \`specsci train serve --host 0.0.0.0\` and add endpoint ${t.endpoint} to specsci.yaml`,
    );
  const artifacts = [...toStart.values()].map((ss) => {
    const key = (ss[0] as EvalStage).trainedModel as string;
    return JSON.parse(client.store.artifacts.get(key)?.content ?? "null") as ModelArtifact;
  });
  const plans = servingPlan(artifacts, {
    engine: t.serve.engine,
    host: t.serve.host,
    ...(t.serve.port !== undefined ? { port: t.serve.port } : {}),
    executable: exe,
  });
  o.log?.(
    `serving ${artifacts.length} trained model(s) on ${plans.length} ${t.serve.engine} server(s)`,
  );
  const servers = await startServers(plans, {
    engine: t.serve.engine,
    host: t.serve.host,
    endpoint: t.endpoint,
    timeoutMs: t.serve.timeout_s * 1000,
    store: client.store,
    logDir: join(trainingDir(loaded), "serve"),
    ...(o.signal ? { signal: o.signal } : {}),
    ...(o.log ? { log: o.log } : {}),
  });
  return { servers, blocked: [] };
}
