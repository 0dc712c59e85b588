/**
 * Generation in waves toward a budget, shared by MSM corpora and AFT chat sets: each wave gives
 * work to the strata short of their share, and what it yields decides the next. A wave's plan is
 * stored (stage `waves`) before any of its work runs, so a resumed or repeated build replays the
 * stored plans in order and asks exactly what an uninterrupted one asks; a plan is made only for a
 * wave that has none stored. A stratum that gains nothing in two waves in a row (all refused, say)
 * is dead: it gets no more work, and its share goes to the live ones.
 */
import type { Store } from "../store/index.js";

export const WAVES_STAGE = "waves";

/** Waves in a row without a gain after which a stratum gets no more work. */
const STRIKES = 2;

/** The parts of a wave loop that are the builder's own; `P` is its plan of one wave. */
export interface WaveSteps<P> {
  store: Store;
  /** The run whose items the plans are. */
  runId: string;
  /** Every stratum's key: all are live at the start. */
  strata: Iterable<string>;
  /** The number of the first wave and of the last, stored or not (none: no last). */
  first: number;
  last?: number;
  /** Where wave `n`'s plan is stored: the key names what it was planned for (target, screening). */
  key(n: number): string;
  /** A plan for wave `n` from what the waves before it yielded, or undefined: no more waves. */
  plan(n: number, live: ReadonlySet<string>): P | undefined;
  /** A new plan for wave `n` was stored (to say so in the log). */
  planned?(plan: P, n: number): void;
  /** The strata a plan gives work to. */
  strataOf(plan: P): Iterable<string>;
  run(plan: P, n: number): Promise<void>;
  /** What each stratum has toward its share (tokens, examples): it gained if this grew. */
  measure(): Map<string, number>;
}

/** Runs the waves, stored ones first; returns how many ran. */
export async function runWaves<P>(steps: WaveSteps<P>): Promise<number> {
  const stored = steps.store.items.stage(steps.runId, WAVES_STAGE);
  const live = new Set(steps.strata);
  const strikes = new Map<string, number>();
  let waves = 0;
  for (let n = steps.first; n <= (steps.last ?? Number.POSITIVE_INFINITY); n++) {
    const key = steps.key(n);
    const plan = (stored.get(key)?.value as P | undefined) ?? newPlan(steps, n, key, live);
    if (plan === undefined) break;
    const before = steps.measure();
    waves++;
    await steps.run(plan, n);
    const after = steps.measure();
    for (const s of new Set(steps.strataOf(plan))) {
      const gained = (after.get(s) ?? 0) > (before.get(s) ?? 0);
      strikes.set(s, gained ? 0 : (strikes.get(s) ?? 0) + 1);
      if ((strikes.get(s) ?? 0) >= STRIKES) live.delete(s);
    }
  }
  return waves;
}

/** Plans wave `n` and stores the plan before any of its work runs: a resumed run replays it. */
function newPlan<P>(
  steps: WaveSteps<P>,
  n: number,
  key: string,
  live: ReadonlySet<string>,
): P | undefined {
  if (!live.size) return undefined;
  const plan = steps.plan(n, live);
  if (plan === undefined) return undefined;
  steps.store.items.put(steps.runId, {
    key,
    stage: WAVES_STAGE,
    status: "ok",
    value: plan,
    error: null,
    attempts: 1,
  });
  steps.planned?.(plan, n);
  return plan;
}
