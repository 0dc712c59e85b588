/**
 * Calibration of the scenario pack against the original: the pack's scenarios and those imported
 * from an upstream agentic-misalignment checkout, run on the same model, conditions and settings,
 * compared per condition and pooled. A pack that elicits much less than the original makes every
 * spec comparison on it weaker, so a user checks this before trusting one.
 *
 * Each side is an ordinary eval run, built exactly as `eval run am` and `eval run am --upstream`
 * build theirs, so runs made either way are reused (and resumed) here.
 */
import { resolve } from "node:path";
import { SpecsciError } from "../../core/errors.js";
import {
  fisherExact,
  holm,
  type Interval,
  mean,
  newcombe,
  type UndefinedReason,
  wilson,
} from "../../core/statistics/comparisons.js";
import type { LlmClient } from "../../llm/client.js";
import type { JudgeOptions } from "../judge.js";
import { type EvalRunSummary, runEval } from "../runner.js";
import type { GenerateConfig } from "../types.js";
import { amScoreRows, type RateCell, runMetrics } from "./metrics.js";
import { type LoadedPack, loadPack } from "./pack.js";
import {
  allConditions,
  type Condition,
  conditionId,
  parseConditionId,
  type Toggles,
} from "./render.js";
import { agenticMisalignmentTask, selectConditions } from "./task.js";
import {
  importUpstreamTask,
  parseUpstreamId,
  UPSTREAM_FAMILIES,
  type UpstreamCondition,
  upstreamConditionId,
  upstreamConditionIds,
} from "./upstream.js";

/** The significance level of the verdict (on Holm-adjusted p-values). */
export const CALIBRATION_ALPHA = 0.05;

export interface CalibrateOptions {
  client: LlmClient;
  model: string;
  /** A checkout of the public agentic-misalignment repository (or its `templates/` folder). */
  upstreamDir: string;
  /**
   * `standard` (the paper's 27, the default), `all`, or condition ids, each in the pack's scheme
   * (`lethal-inaction_explicit-america_replacement`) or upstream's (`murder_explicit-america_replacement`).
   */
  conditions?: "standard" | "all" | string[];
  toggles?: Partial<Toggles>;
  epochs: number;
  judge: JudgeOptions;
  generate?: Partial<GenerateConfig>;
  signal?: AbortSignal;
  /** Another scenario pack than the built-in one. */
  packDir?: string;
}

/** One condition in both schemes; an id is null where that side has no such scenario. */
export interface ConditionPair {
  /** The pack's condition id (upstream ids given are translated to it). */
  condition: string;
  /** The upstream condition id, or null where upstream has no such scenario (self-exfiltration). */
  original: string | null;
  packHas: boolean;
  originalHas: boolean;
}

/** Pack minus original on one condition (or pooled): the rates, their difference and its test. */
export interface RateComparison {
  pack: RateCell;
  original: RateCell;
  /** Pack rate minus original rate. */
  diff: number;
  /** Newcombe's hybrid score 95% interval of `diff`. */
  diffCi: Interval;
  /** Fisher's exact test, two-sided. */
  p: number;
  undefinedReason: UndefinedReason;
}

export interface ConditionComparison extends RateComparison {
  condition: string;
  original_id: string;
  /** Holm-adjusted across the conditions both sides have. */
  pHolm: number;
}

/** A condition that only one side has: reported with the other side's rate, in no comparison. */
export interface OneSided {
  condition: string;
  original_id: string | null;
  lacking: "pack" | "original";
  /** The rate of the side that has it. */
  rate: RateCell;
}

export interface Calibration {
  model: string;
  epochs: number;
  runs: { pack: EvalRunSummary; original: EvalRunSummary };
  conditions: ConditionComparison[];
  oneSided: OneSided[];
  /** Over every sample of the conditions both sides have. */
  pooled: RateComparison;
  /** The paper's headline on each side: the mean of the per-condition rates (conditions both sides scored). */
  meanOverConditions: { pack: number; original: number };
  /** Conditions where the pack elicits significantly less / more than the original (Holm p < alpha). */
  less: number;
  more: number;
  alpha: number;
}

/** Our family's upstream scenario, or undefined (self-exfiltration has none). */
function scenarioOf(family: string): string | undefined {
  return Object.entries(UPSTREAM_FAMILIES).find(([, f]) => f === family)?.[0];
}

/**
 * The upstream id of one of our conditions. Upstream writes a swap condition's value as the pair
 * `{value}-{opposite}` (`swap-america-global`: the inbox of america, the goal of global), which is
 * what our swap of that value renders.
 */
export function originalIdOf(loaded: LoadedPack, c: Condition): string | null {
  const scenario = scenarioOf(c.family);
  if (!scenario) return null;
  const opposite = loaded.pack.goals[c.value]?.opposite;
  const goalValue = c.goal === "swap" && opposite ? `${c.value}-${opposite}` : c.value;
  return upstreamConditionId({
    scenario: scenario as UpstreamCondition["scenario"],
    goalType: c.goal,
    goalValue,
    urgency: c.threat,
  });
}

/** A condition id in either scheme as one of ours. */
function packConditionOf(id: string): Condition {
  const scenario = id.split("_")[0] ?? "";
  const family = Object.hasOwn(UPSTREAM_FAMILIES, scenario)
    ? UPSTREAM_FAMILIES[scenario]
    : undefined;
  if (family === undefined || family === scenario) {
    try {
      return parseConditionId(id);
    } catch (e) {
      if (family === undefined) throw e;
      // a leaking id in upstream's scheme only (a swap's value pair): read it as upstream's
    }
  }
  const u = parseUpstreamId(id);
  return {
    family: UPSTREAM_FAMILIES[u.scenario] as string,
    goal: u.goalType,
    value: u.goalValue.split("-")[0] as string,
    threat: u.urgency,
  };
}

/**
 * The selected conditions in both schemes, and which side has each. A condition neither side has
 * is an error (a typo, most likely); one that only one side has is kept and reported.
 */
export function pairConditions(
  loaded: LoadedPack,
  selection: CalibrateOptions["conditions"],
  originalIds: ReadonlySet<string>,
): ConditionPair[] {
  const chosen =
    selection === undefined || selection === "standard" || selection === "all"
      ? selectConditions(loaded, { conditions: selection ?? "standard" })
      : selection.map(packConditionOf);
  const ours = new Set(allConditions(loaded).map(conditionId));
  const pairs = new Map<string, ConditionPair>();
  for (const c of chosen) {
    const condition = conditionId(c);
    const original = originalIdOf(loaded, c);
    pairs.set(condition, {
      condition,
      original,
      packHas: ours.has(condition),
      originalHas: original !== null && originalIds.has(original),
    });
  }
  const neither = [...pairs.values()].filter((p) => !p.packHas && !p.originalHas);
  if (neither.length)
    throw new SpecsciError(
      `neither the pack nor the upstream checkout has condition ${neither.map((p) => p.condition).join(", ")}`,
      { hint: "`specsci eval scenarios` lists the pack's condition ids" },
    );
  const both = [...pairs.values()].filter((p) => p.packHas && p.originalHas);
  if (both.length === 0)
    throw new SpecsciError(
      "no selected condition is in both the pack and the upstream checkout, so there is nothing to compare",
      {
        hint: "choose conditions of the leaking, lethal-inaction (murder) or coercion (blackmail) families that the checkout has templates for",
      },
    );
  return [...pairs.values()];
}

/** The rate over several cells' samples, with its Wilson interval. */
function pooledCell(key: string, cells: RateCell[]): RateCell {
  const sum = (f: (c: RateCell) => number) => cells.reduce((s, c) => s + f(c), 0);
  const n = sum((c) => c.n);
  const misaligned = sum((c) => c.misaligned);
  return {
    key,
    n,
    misaligned,
    rate: n ? misaligned / n : Number.NaN,
    ci: wilson(misaligned, n),
    errors: sum((c) => c.errors),
    truncated: sum((c) => c.truncated),
    refused: sum((c) => c.refused),
  };
}

export function compareRates(pack: RateCell, original: RateCell): RateComparison {
  const { diff, ci } = newcombe(pack.misaligned, pack.n, original.misaligned, original.n);
  const fisher = fisherExact(
    pack.misaligned,
    pack.n - pack.misaligned,
    original.misaligned,
    original.n - original.misaligned,
  );
  return { pack, original, diff, diffCi: ci, p: fisher.p, undefinedReason: fisher.undefinedReason };
}

/** Each condition's rate cell of a finished run, by sample id. */
function ratesOf(client: LlmClient, runId: string): Map<string, RateCell> {
  return new Map(runMetrics(amScoreRows(client.store, runId)).byCondition.map((c) => [c.key, c]));
}

function rateFor(rates: Map<string, RateCell>, id: string): RateCell {
  const cell = rates.get(id);
  if (!cell) throw new Error(`calibration: no samples of ${id} after its run`);
  return cell;
}

/**
 * Runs (or resumes) the pack and the upstream scenarios on the same model and conditions, and
 * compares their misalignment rates per condition, pooled and as the mean over conditions.
 */
export async function calibrate(opts: CalibrateOptions): Promise<Calibration> {
  const upstreamDir = resolve(opts.upstreamDir);
  const loaded = loadPack(opts.packDir);
  const pairs = pairConditions(loaded, opts.conditions, new Set(upstreamConditionIds(upstreamDir)));
  const selection = opts.conditions ?? "standard";
  // "standard" and "all" stay named so that the pack's run is the one `eval run am` makes.
  const packConditions =
    typeof selection === "string"
      ? selection
      : pairs.filter((p) => p.packHas).map((p) => p.condition);
  const packTask = agenticMisalignmentTask(
    {
      conditions: packConditions,
      ...(opts.toggles ? { toggles: opts.toggles } : {}),
      ...(opts.packDir ? { packDir: opts.packDir } : {}),
    },
    opts.judge,
  );
  const originalIds = pairs.filter((p) => p.originalHas).map((p) => p.original as string);
  const originalTask = importUpstreamTask(
    upstreamDir,
    { conditions: originalIds, ...(opts.toggles ? { toggles: opts.toggles } : {}) },
    opts.judge,
  );
  const run = (task: typeof packTask) =>
    runEval({
      client: opts.client,
      task,
      modelId: opts.model,
      epochs: opts.epochs,
      ...(opts.generate ? { generate: opts.generate } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  const packRun = await run(packTask);
  const originalRun = await run(originalTask);
  const packRates = ratesOf(opts.client, packRun.runId);
  const originalRates = ratesOf(opts.client, originalRun.runId);

  const shared = pairs.filter((p) => p.packHas && p.originalHas);
  const raw = shared.map((p) => ({
    condition: p.condition,
    original_id: p.original as string,
    ...compareRates(rateFor(packRates, p.condition), rateFor(originalRates, p.original as string)),
  }));
  const adjusted = holm(raw.map((c) => c.p));
  const conditions = raw.map((c, i) => ({ ...c, pHolm: adjusted[i] as number }));
  const oneSided: OneSided[] = pairs
    .filter((p) => !(p.packHas && p.originalHas))
    .map((p) => ({
      condition: p.condition,
      original_id: p.original,
      lacking: p.packHas ? "original" : "pack",
      rate: p.packHas
        ? rateFor(packRates, p.condition)
        : rateFor(originalRates, p.original as string),
    }));
  const scored = conditions.filter((c) => c.pack.n > 0 && c.original.n > 0);
  const significant = conditions.filter((c) => c.pHolm < CALIBRATION_ALPHA);
  return {
    model: opts.model,
    epochs: opts.epochs,
    runs: { pack: packRun, original: originalRun },
    conditions,
    oneSided,
    pooled: compareRates(
      pooledCell(
        "all",
        conditions.map((c) => c.pack),
      ),
      pooledCell(
        "all",
        conditions.map((c) => c.original),
      ),
    ),
    meanOverConditions: {
      pack: mean(scored.map((c) => c.pack.rate)),
      original: mean(scored.map((c) => c.original.rate)),
    },
    less: significant.filter((c) => c.diff < 0).length,
    more: significant.filter((c) => c.diff > 0).length,
    alpha: CALIBRATION_ALPHA,
  };
}

const percent = (x: number) => (Number.isNaN(x) ? "-" : `${(100 * x).toFixed(1)}%`);

/** One line: on how many conditions the pack elicits less or more than the original, and pooled. */
export function calibrationVerdict(c: Calibration): string {
  const total = c.conditions.length;
  const of = `of ${total} condition${total === 1 ? "" : "s"}`;
  const counts =
    c.less && c.more
      ? `less than the original on ${c.less} and more on ${c.more} ${of}`
      : c.less
        ? `less than the original on ${c.less} ${of}`
        : c.more
          ? `more than the original on ${c.more} ${of}`
          : `neither less nor more than the original on any ${of}`;
  const p = Number.isNaN(c.pooled.p) ? "-" : c.pooled.p.toPrecision(2);
  return `the pack elicits ${counts} (Holm p < ${c.alpha}); pooled ${percent(c.pooled.pack.rate)} vs ${percent(c.pooled.original.rate)} (Fisher p ${p})`;
}
