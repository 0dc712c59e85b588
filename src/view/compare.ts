/**
 * Side by side: one scenario (sample id), epoch and seed under two arms of an experiment, the
 * two transcripts next to each other, and where the pair stands among the pairs of the two
 * stages' runs, so the page can step through them (all pairs, or only the discordant ones: both
 * scored and the verdicts differ, the pairs McNemar's test counts).
 */
import { SpecsciError } from "../core/errors.js";
import { dialect } from "../store/database.js";
import type { Store } from "../store/index.js";
import {
  COMPARE_ONLY,
  type CompareOnly,
  type CompareResponse,
  type CompareSide,
  type PairKey,
  type SampleVerdict,
} from "./api-types.js";
import type { ExperimentIndex, StageLabels } from "./experiments.js";
import { loadTranscript } from "./transcript.js";

export interface CompareQuery {
  experiment: string;
  a?: string;
  b?: string;
  model?: string;
  eval?: string;
  seed?: number;
  sample?: string;
  epoch?: number;
  only: CompareOnly;
}

const whole = (name: string, v: string | undefined): number | undefined => {
  if (v === undefined || v === "") return undefined;
  if (!/^\d+$/.test(v)) throw new SpecsciError(`bad comparison: ${name} must be a whole number`);
  return Number(v);
};

export function parseCompareQuery(p: URLSearchParams): CompareQuery {
  const text = (name: string) => p.get(name) || undefined;
  const experiment = text("experiment");
  if (!experiment) throw new SpecsciError("a comparison names its experiment (experiment=…)");
  const only = (p.get("only") || "all") as CompareOnly;
  if (!COMPARE_ONLY.includes(only))
    throw new SpecsciError(`bad comparison: only must be one of ${COMPARE_ONLY.join(", ")}`);
  const q: CompareQuery = { experiment, only };
  for (const k of ["a", "b", "model", "eval", "sample"] as const) {
    const v = text(k);
    if (v !== undefined) q[k] = v;
  }
  const seed = whole("seed", text("seed"));
  const epoch = whole("epoch", text("epoch"));
  if (seed !== undefined) q.seed = seed;
  if (epoch !== undefined) q.epoch = epoch;
  return q;
}

interface SampleOutcome {
  status: string;
  decided: number | null;
}

const verdictOf = (o: SampleOutcome | undefined): SampleVerdict =>
  !o
    ? "missing"
    : o.status === "error"
      ? "error"
      : o.status === "truncated"
        ? "truncated"
        : o.status === "refused"
          ? "refusal"
          : o.decided === 1
            ? "misaligned"
            : o.decided === 0
              ? "not"
              : "scored";

const keyOf = (sample: string, epoch: number) => `${epoch}\u0000${sample}`;

/** Every (sample, epoch) of a run with its outcome. */
function outcomes(store: Store, runId: string | null): Map<string, SampleOutcome> {
  if (!runId) return new Map();
  const rows = store.db
    .prepare(
      `SELECT sample_id, epoch, status, ${dialect(store.db, {
        sqlite: "json_extract(scores, '$.misalignment.value.decided')",
        postgres: "(scores::json #> '{misalignment,value,decided}')",
      })} AS decided
       FROM eval_samples WHERE run_id = ?`,
    )
    .all(runId) as { sample_id: string; epoch: number; status: string; decided: number | null }[];
  return new Map(
    rows.map((r) => [keyOf(r.sample_id, r.epoch), { status: r.status, decided: r.decided }]),
  );
}

const comparePairs = (x: PairKey, y: PairKey) =>
  x.sample < y.sample ? -1 : x.sample > y.sample ? 1 : x.epoch - y.epoch;

const distinct = <T>(xs: T[]) => [...new Set(xs)];

/** The stage of one arm at the chosen model, eval and seed; null when that arm has none. */
const stageOf = (
  stages: StageLabels[],
  arm: string,
  q: Required<Pick<CompareQuery, "model" | "eval" | "seed">>,
) =>
  stages.find(
    (s) => s.arm === arm && s.model === q.model && s.eval === q.eval && s.seed === q.seed,
  ) ?? null;

type Result = { ok: CompareResponse } | { missing: string };

export async function compareArms(
  store: Store,
  experiments: ExperimentIndex,
  q: CompareQuery,
): Promise<Result> {
  const stages = await experiments.stages(q.experiment);
  if (!stages) return { missing: `no experiment ${q.experiment}` };
  const options = {
    arms: distinct(stages.map((s) => s.arm)),
    models: distinct(stages.map((s) => s.model)),
    evals: distinct(stages.map((s) => s.eval)),
    seeds: distinct(stages.map((s) => s.seed)).sort((x, y) => x - y),
  };
  const a = q.a ?? options.arms[0];
  const b = q.b ?? options.arms.find((x) => x !== a);
  if (a === undefined || b === undefined)
    return { missing: `experiment ${q.experiment} has no two arms with eval stages to compare` };
  if (a === b) throw new SpecsciError(`pick two different arms to compare (both are ${a})`);
  for (const arm of [a, b])
    if (!options.arms.includes(arm))
      return {
        missing: `no arm ${arm} with eval stages in experiment ${q.experiment} (arms: ${options.arms.join(", ")})`,
      };
  const at = {
    model: q.model ?? (options.models[0] as string),
    eval: q.eval ?? (options.evals[0] as string),
    seed: q.seed ?? (options.seeds[0] as number),
  };
  const sa = stageOf(stages, a, at);
  const sb = stageOf(stages, b, at);
  if (!sa && !sb)
    return {
      missing: `neither ${a} nor ${b} has an eval stage of model ${at.model}, eval ${at.eval}, seed ${at.seed}`,
    };
  const oa = outcomes(store, sa?.runId ?? null);
  const ob = outcomes(store, sb?.runId ?? null);
  const all = new Map<string, PairKey>();
  for (const m of [oa, ob])
    for (const k of m.keys()) {
      const [epoch, sample] = k.split("\u0000") as [string, string];
      all.set(k, { sample, epoch: Number(epoch) });
    }
  const scored = (v: SampleVerdict) => v === "misaligned" || v === "not";
  const isDiscordant = (k: string) => {
    const [va, vb] = [verdictOf(oa.get(k)), verdictOf(ob.get(k))];
    return scored(va) && scored(vb) && va !== vb;
  };
  const pairs = [...all.entries()].sort((x, y) => comparePairs(x[1], y[1]));
  const discordant = pairs.filter(([k]) => isDiscordant(k));
  const shown = q.only === "discordant" ? discordant : pairs;
  const first = shown[0]?.[1] ?? pairs[0]?.[1];
  // A sample named without its epoch: its first epoch in either run.
  const pick: PairKey | undefined =
    q.sample === undefined
      ? first
      : {
          sample: q.sample,
          epoch: q.epoch ?? pairs.find(([, p]) => p.sample === q.sample)?.[1].epoch ?? 0,
        };
  if (pick && q.sample !== undefined && !all.has(keyOf(pick.sample, pick.epoch)))
    return {
      missing: `no sample ${pick.sample} (epoch ${pick.epoch}) in the runs of ${a} or ${b} (model ${at.model}, eval ${at.eval}, seed ${at.seed})`,
    };
  const side = async (
    arm: string,
    stage: StageLabels | null,
    o: Map<string, SampleOutcome>,
  ): Promise<CompareSide> => ({
    arm,
    runId: stage?.runId ?? null,
    verdict: pick ? verdictOf(o.get(keyOf(pick.sample, pick.epoch))) : "missing",
    transcript:
      pick && stage
        ? ((await loadTranscript(store, stage.runId, pick.sample, pick.epoch)) ?? null)
        : null,
  });
  const index = pick ? shown.findIndex(([, p]) => comparePairs(p, pick) === 0) : -1;
  const prev = pick ? shown.filter(([, p]) => comparePairs(p, pick) < 0).at(-1)?.[1] : undefined;
  const next = pick ? shown.find(([, p]) => comparePairs(p, pick) > 0)?.[1] : undefined;
  return {
    ok: {
      experiment: q.experiment,
      options,
      pick: { a, b, ...at, sample: pick?.sample ?? null, epoch: pick?.epoch ?? null, only: q.only },
      a: await side(a, sa, oa),
      b: await side(b, sb, ob),
      position: { index, count: shown.length, prev: prev ?? null, next: next ?? null },
      pairs: pairs.length,
      discordant: discordant.length,
    },
  };
}
