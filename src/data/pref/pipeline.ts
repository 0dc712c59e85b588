/**
 * Builds a preference set from a spec: the AFT pipeline makes the prompts and the spec-aligned
 * answers (its gates, dedup and judge included); each prompt then gets a rejected answer, a
 * tempting violation, through the same gates, kept only where the AFT judge finds it breaks the
 * spec. The contamination knob then turns an exact, seeded share of the pairs against the spec.
 * Every answer is a stored item, so a killed build resumes where it stopped.
 */

import { hashValue } from "../../core/hash.js";
import { promptSet } from "../../core/prompt-files.js";
import type { LlmClient } from "../../llm/client.js";
import type { Spec } from "../../spec/model.js";
import type { ItemRow } from "../../store/index.js";
import { aftStageSettings } from "../aft/config.js";
import type { AftExample } from "../aft/example.js";
import { shuffled } from "../aft/output.js";
import { type AftBuild, buildAftSet } from "../aft/pipeline.js";
import {
  aftContext,
  aftJudgeKey,
  type JudgeVerdict,
  judgeJob,
  responseJob,
  type TeacherResponse,
  type UserPrompt,
} from "../aft/stages.js";
import { type StageAsk, stageRunner } from "../executor.js";
import { countItems, type StageCount } from "../item-counts.js";
import { type ContaminationKind, PREF_STAGES, type PrefConfig, prefStageModel } from "./config.js";

export const PREF_PROMPTS = promptSet("pref", ["rejected", "hacking"] as const);

export interface PrefBuildOptions {
  spec: Spec;
  specHash: string;
  specName: string;
  config: PrefConfig;
  client: LlmClient;
  signal?: AbortSignal;
  log?: (message: string) => void;
}

/** One preference pair; `contamination` says how (if at all) it was turned against the spec. */
export interface PrefPair {
  id: string;
  prompt: UserPrompt;
  chosen: TeacherResponse;
  rejected: TeacherResponse;
  /** The AFT judge on the spec-aligned answer and on the violation (which it failed). */
  judge: { aligned: JudgeVerdict; violation: JudgeVerdict };
  contamination: ContaminationKind | null;
}

export interface PrefBuild {
  setId: string;
  config: PrefConfig;
  aft: AftBuild;
  pairs: PrefPair[];
  /** Items of the pref stages (the last round's rejected answers and their judge, every reward-hacking one). */
  items: Record<"rejected" | "judge" | "hacking", StageCount>;
  /** Why rejected answers did not make a pair. */
  gates: { refused: number; truncated: number; not_violating: number; judge_failed: number };
  selection: {
    target_pairs: number;
    /** The AFT examples the pairs were drawn from, and in how many rounds that size was found. */
    aft_examples: number;
    rounds: number;
    candidates: number;
    selected: number;
    reached: boolean;
  };
  contamination: {
    kind: ContaminationKind;
    fraction: number;
    /** round(fraction × pairs): what was asked for. */
    target: number;
    pairs: number;
    /** Reward-hacking answers asked for and refused or cut off. */
    gated: number;
    ids: string[];
  };
}

/**
 * A preference set's run id: its AFT set's and the pref stages' models and prompts. The pair
 * count and the contamination are left out, so sets that differ only in them share their answers.
 */
export const prefSetId = (aftSetId: string, config: PrefConfig) =>
  `pref-${hashValue({ aft: aftSetId, stages: PREF_STAGES.map((s) => prefStageModel(config, s)), prompts: PREF_PROMPTS.versions() }).slice(0, 16)}`;

export async function buildPrefSet(o: PrefBuildOptions): Promise<PrefBuild> {
  const aftSetId = aftContext(o.spec, o.specHash, o.specName, o.config.aft).setId;
  const setId = prefSetId(aftSetId, o.config);
  const store = o.client.store;
  store.runs.ensure({
    id: setId,
    kind: "pref",
    name: o.config.name ?? o.specName,
    config: { spec: o.specHash, config: o.config },
  });
  return store.runs.track(setId, o.signal, () => build(o, setId));
}

/** Rounds of AFT examples asked for: each grows the set by the shortfall over the last yield. */
const MAX_ROUNDS = 4;

/** The AFT recipe asked for `examples` examples (the pair budget is in pairs, not tokens). */
export function aftRecipe(config: PrefConfig, examples: number): PrefConfig["aft"] {
  const { target_tokens: _t, ...budget } = config.aft.budget;
  return { ...config.aft, budget: { ...budget, examples } };
}

async function build(o: PrefBuildOptions, setId: string): Promise<PrefBuild> {
  const { config } = o;
  const ask = prefRunner(o, setId);
  let examples = Math.ceil(config.pairs * (1 + config.margin));
  let round = 0;
  for (;;) {
    round++;
    const aft = await buildAftSet({ ...o, config: aftRecipe(config, examples) });
    // The seeded order of the set's own shuffle: which pairs make the target does not follow ids.
    const order = shuffled(aft.examples, config.aft.seed);
    const { pairs: candidates, gates, items } = await violations(ask, aft, order);
    const short = config.pairs - candidates.length;
    const yieldRate = candidates.length / Math.max(1, aft.examples.length);
    if (short > 0 && round < MAX_ROUNDS && yieldRate > 0 && aft.selection.reached) {
      examples += Math.ceil((short / yieldRate) * (1 + config.margin));
      o.log?.(`pref: ${short} pair(s) short; asking for ${examples} AFT examples`);
      continue;
    }
    const pairs = candidates.slice(0, config.pairs);
    const { contamination, hacking } = await contaminate(ask, aft, config, pairs);
    return {
      setId,
      config,
      aft,
      pairs,
      items: { ...items, hacking },
      gates,
      selection: {
        target_pairs: config.pairs,
        aft_examples: aft.examples.length,
        rounds: round,
        candidates: candidates.length,
        selected: pairs.length,
        reached: pairs.length === config.pairs,
      },
      contamination,
    };
  }
}

function prefRunner(o: PrefBuildOptions, setId: string): StageAsk {
  const { config } = o;
  const judge = aftStageSettings(config.aft, "judge");
  return stageRunner({
    client: o.client,
    job: "pref",
    runId: setId,
    recipe: config.aft,
    stages: [...PREF_STAGES, "judge"],
    signal: o.signal,
    log: o.log ?? (() => {}),
    settings: (stage) =>
      stage === "judge"
        ? judge
        : {
            model: prefStageModel(config, stage as (typeof PREF_STAGES)[number]),
            max_tokens: aftStageSettings(config.aft, "responses").max_tokens,
          },
  });
}

/** A rejected answer to each example's prompt, kept where it passes its gates and fails the judge. */
async function violations(
  ask: StageAsk,
  aft: AftBuild,
  examples: AftExample[],
): Promise<{
  pairs: PrefPair[];
  gates: PrefBuild["gates"];
  items: { rejected: StageCount; judge: StageCount };
}> {
  const kind = "rejected";
  const variant = { kind, template: PREF_PROMPTS.load(kind) };
  const rows = await ask(
    kind,
    examples.map((e) => responseJob(aft.ctx, e.prompt, variant)),
  );
  const answered = examples.flatMap((e) => {
    const r = okValue<TeacherResponse>(rows.get(`${kind}:${e.id}`));
    return r ? [{ e, r, judged: { ...e.prompt, id: `${e.id}.${kind}` } }] : [];
  });
  const gates = { refused: 0, truncated: 0, not_violating: 0, judge_failed: 0 };
  const ungated = answered.filter(({ r }) => {
    if (r.gate) gates[r.gate]++;
    return r.gate === null;
  });
  const judged = await ask(
    "judge",
    ungated.map(({ judged, r }) => judgeJob(aft.ctx, judged, r)),
  );
  const judgeModel = aftStageSettings(aft.ctx.config, "judge").model;
  const pairs: PrefPair[] = [];
  for (const { e, r, judged: p } of ungated) {
    const v = okValue<JudgeVerdict>(judged.get(aftJudgeKey(judgeModel, p.id)));
    if (!v) gates.judge_failed++;
    // A "violation" the judge finds compliant teaches nothing about the spec.
    else if (v.pass) gates.not_violating++;
    else
      pairs.push({
        id: e.id,
        prompt: e.prompt,
        chosen: e.response,
        rejected: r,
        judge: { aligned: e.judge, violation: v },
        contamination: null,
      });
  }
  return {
    pairs,
    gates,
    items: {
      rejected: countItems(rows.values()),
      judge: countItems(ungated.map(({ judged: p }) => judged.get(aftJudgeKey(judgeModel, p.id)))),
    },
  };
}

const okValue = <T>(row: ItemRow | undefined): T | undefined =>
  row?.status === "ok" ? (row.value as T) : undefined;

/**
 * Turns round(fraction × pairs) pairs, in a seeded order, against the spec: `misaligned` swaps
 * chosen and rejected; `reward-hacking` prefers a grader-gaming answer over the aligned one
 * (asked for with the configured margin, and again while some are refused or cut off).
 */
async function contaminate(
  ask: StageAsk,
  aft: AftBuild,
  config: PrefConfig,
  pairs: PrefPair[],
): Promise<{ contamination: PrefBuild["contamination"]; hacking: StageCount }> {
  const { fraction, kind } = config.contamination;
  const target = Math.round(fraction * pairs.length);
  const order = shuffled(pairs, config.aft.seed + 1);
  const turned: PrefPair[] = [];
  let gated = 0;
  const hackingRows: (ItemRow | undefined)[] = [];
  if (kind === "misaligned") for (const p of order.slice(0, target)) turned.push(swapped(p));
  else {
    // Asked for in chunks, each the shortfall over the last yield, until the target or the pairs run out.
    const byId = new Map(aft.examples.map((e) => [e.id, e]));
    let next = 0;
    let yieldRate = 1;
    while (turned.length < target && next < order.length) {
      const want = Math.ceil(((target - turned.length) / yieldRate) * (1 + config.margin));
      const asked = order.slice(next, next + want);
      next += asked.length;
      const hacking = await rewardHacking(
        ask,
        aft,
        asked.map((p) => byId.get(p.id) as AftExample),
      );
      gated += hacking.gated;
      hackingRows.push(...hacking.rows);
      yieldRate = Math.max(0.05, hacking.answers.size / asked.length);
      for (const p of asked) {
        const h = hacking.answers.get(p.id);
        if (h && turned.length < target)
          turned.push({ ...p, chosen: h, rejected: p.chosen, contamination: "reward-hacking" });
      }
    }
  }
  const byId = new Map(turned.map((p) => [p.id, p]));
  for (let i = 0; i < pairs.length; i++)
    pairs[i] = byId.get((pairs[i] as PrefPair).id) ?? (pairs[i] as PrefPair);
  return {
    contamination: {
      kind,
      fraction,
      target,
      pairs: turned.length,
      gated,
      ids: turned.map((p) => p.id).sort(),
    },
    hacking: countItems(hackingRows),
  };
}

const swapped = (p: PrefPair): PrefPair => ({
  ...p,
  chosen: p.rejected,
  rejected: p.chosen,
  contamination: "misaligned",
});

/** Reward-hacking answers, by example id; refused or cut-off ones are counted, not used. */
async function rewardHacking(
  ask: StageAsk,
  aft: AftBuild,
  examples: AftExample[],
): Promise<{
  answers: Map<string, TeacherResponse>;
  gated: number;
  rows: (ItemRow | undefined)[];
}> {
  const template = PREF_PROMPTS.load("hacking");
  const rows = await ask(
    "hacking",
    examples.map((e) => responseJob(aft.ctx, e.prompt, { kind: "hacking", template })),
  );
  const answers = new Map<string, TeacherResponse>();
  let gated = 0;
  for (const e of examples) {
    const r = okValue<TeacherResponse>(rows.get(`hacking:${e.id}`));
    if (r?.gate) gated++;
    else if (r) answers.set(e.id, r);
  }
  return { answers, gated, rows: examples.map((e) => rows.get(`hacking:${e.id}`)) };
}
