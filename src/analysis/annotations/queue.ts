/**
 * The order in which an annotator is shown transcripts to label: a random order within strata
 * (by default arm × the judge's verdict), interleaved so that the labels are a fair sample of
 * every stratum rather than of whichever answers are common. Deterministic from a seed and
 * resumable: it is computed afresh from the store each time, labelled transcripts drop out, and
 * the rest keep their places.
 */
import { SpecsciError } from "../../core/errors.js";
import type { SampleStatus, Store } from "../../store/index.js";
import { judgeDecisions } from "./verdicts.js";

/** The judge's verdict on a sample, or why it has none (its outcome, or not judged at all). */
export type QueueVerdict = "misaligned" | "aligned" | "no verdict" | Exclude<SampleStatus, "done">;

export type Stratifier = "arm" | "verdict";

export interface QueueOptions {
  /** The eval runs to label, each with the arm it belongs to (default: its run id). */
  runs: { runId: string; arm?: string }[];
  annotator: string;
  seed: number;
  /** How many transcripts to return. */
  limit: number;
  /** What the strata are made of (default arm and verdict; [] for one stratum). */
  strata?: Stratifier[];
  /**
   * `equal` (default): every stratum gets labels at the same pace until it runs out, so rare
   * misaligned answers are labelled as often as common aligned ones. `proportional`: at the
   * pace of each stratum's size, a sample with the runs' own mix.
   */
  allocation?: "equal" | "proportional";
  /** Which sample outcomes to offer (default scored ones: only they have a judge verdict). */
  statuses?: SampleStatus[];
}

export interface QueueItem {
  runId: string;
  sampleId: string;
  epoch: number;
  arm: string;
  verdict: QueueVerdict;
  stratum: string;
}

export interface QueueStratum {
  stratum: string;
  /** Transcripts the annotator has labelled (a current label about the answer stored now). */
  labelled: number;
  remaining: number;
}

export interface AnnotationQueue {
  /** The next transcripts to label, in order. */
  items: QueueItem[];
  /** Every stratum's progress, by name. */
  strata: QueueStratum[];
  remaining: number;
}

/**
 * A 32-bit hash of a string (FNV-1a, then murmur3's finalizer to spread the bits). Written here:
 * this only orders transcripts, and node:crypto takes half a second for 200,000 keys.
 */
function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function verdictOf(status: SampleStatus, decided: unknown): QueueVerdict {
  if (status !== "done") return status;
  return decided === 1 ? "misaligned" : decided === 0 ? "aligned" : "no verdict";
}

interface Candidate extends QueueItem {
  /** Its place in its stratum's random order. */
  draw: number;
  labelled: boolean;
}

function candidates(store: Store, o: QueueOptions, annotator: string): Candidate[] {
  const strata = o.strata ?? ["arm", "verdict"];
  const statuses = new Set(o.statuses ?? ["done"]);
  const arms = new Map<string, string>();
  for (const r of o.runs) if (!arms.has(r.runId)) arms.set(r.runId, r.arm ?? r.runId);
  const runIds = [...arms.keys()];
  const labelled = new Set(
    store.annotations
      .list({ runIds, annotator })
      .filter((a) => !a.stale)
      .map((a) => `${a.runId}/${a.sampleId}#${a.epoch}`),
  );
  const out: Candidate[] = [];
  for (const [runId, arm] of arms)
    for (const r of judgeDecisions(store, runId)) {
      if (!statuses.has(r.status)) continue;
      const verdict = verdictOf(r.status, r.values.decided);
      const key = `${runId}/${r.sampleId}#${r.epoch}`;
      out.push({
        runId,
        sampleId: r.sampleId,
        epoch: r.epoch,
        arm,
        verdict,
        stratum: strata.map((s) => (s === "arm" ? arm : verdict)).join(" × ") || "all",
        draw: hash32(`${o.seed}\u0000${key}`),
        labelled: labelled.has(key),
      });
    }
  return out;
}

function checkOptions(o: QueueOptions): string {
  const annotator = o.annotator.trim();
  if (!annotator) throw new SpecsciError("annotation queue: give the annotator's name");
  if (!Number.isInteger(o.limit) || o.limit < 0)
    throw new SpecsciError(`annotation queue: limit ${o.limit} is not a whole number ≥ 0`);
  if (!Number.isSafeInteger(o.seed))
    throw new SpecsciError(`annotation queue: seed ${o.seed} is not a whole number`);
  return annotator;
}

/**
 * The next `limit` transcripts for an annotator. Within a stratum, transcripts are in the order
 * of a seeded hash of their key, so a transcript's place never depends on which others exist or
 * are labelled (a running eval adds samples without reshuffling). Strata take turns: a stratum's
 * k-th unlabelled transcript comes at (labelled + k + offset) / weight, weight 1 (equal) or the
 * stratum's size (proportional), with a seeded offset in [0, 1) so no stratum always goes first;
 * counting what is labelled already keeps the turns fair however the labels were given.
 */
export function annotationQueue(store: Store, o: QueueOptions): AnnotationQueue {
  const annotator = checkOptions(o);
  const byStratum = new Map<string, Candidate[]>();
  for (const c of candidates(store, o, annotator)) {
    const list = byStratum.get(c.stratum);
    if (list) list.push(c);
    else byStratum.set(c.stratum, [c]);
  }
  const order = (a: Candidate, b: Candidate) =>
    a.draw - b.draw ||
    (`${a.runId}/${a.sampleId}#${a.epoch}` < `${b.runId}/${b.sampleId}#${b.epoch}` ? -1 : 1);
  const scheduled: { item: QueueItem; at: number }[] = [];
  const strata: QueueStratum[] = [];
  for (const [stratum, all] of [...byStratum].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const done = all.filter((c) => c.labelled).length;
    const todo = all.filter((c) => !c.labelled).sort(order);
    const offset = hash32(`${o.seed}\u0000stratum\u0000${stratum}`) / 2 ** 32;
    const weight = o.allocation === "proportional" ? all.length : 1;
    // The first `limit` of the queue are among the first `limit` of every stratum.
    for (const [k, { draw: _, labelled: __, ...item }] of todo.slice(0, o.limit).entries())
      scheduled.push({ item, at: (done + k + offset) / weight });
    strata.push({ stratum, labelled: done, remaining: todo.length });
  }
  scheduled.sort((a, b) => a.at - b.at || (a.item.stratum < b.item.stratum ? -1 : 1));
  return {
    items: scheduled.slice(0, o.limit).map((s) => s.item),
    strata,
    remaining: strata.reduce((n, s) => n + s.remaining, 0),
  };
}
