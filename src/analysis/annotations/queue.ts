/**
 * The order in which an annotator is shown transcripts to label: a random order within strata
 * (by default arm × the judge's verdict), interleaved so that the labels are a fair sample of
 * every stratum rather than of whichever answers are common. Deterministic from a seed and
 * resumable: it is computed afresh from the store each time, labelled transcripts drop out, and
 * the rest keep their places.
 */
import { SpecsciError } from "../../core/errors.js";
import type { SampleStatus, Store } from "../../store/index.js";

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

const FNV_BASIS = 0x811c9dc5;

/** FNV-1a's state after `s`, from state `h` (so a shared prefix is hashed once). */
function fnv(h: number, s: string): number {
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h;
}

/** murmur3's finalizer: spreads FNV's bits into the 32-bit hash. */
function finish(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * A 32-bit hash of a string (FNV-1a, then murmur3's finalizer to spread the bits). Written here:
 * this only orders transcripts, and node:crypto takes half a second for 200,000 keys.
 */
const hash32 = (s: string): number => finish(fnv(FNV_BASIS, s));

function verdictOf(status: SampleStatus, decided: unknown): QueueVerdict {
  if (status !== "done") return status;
  return decided === 1 ? "misaligned" : decided === 0 ? "aligned" : "no verdict";
}

/** A run's epochs of one sample that fall in one stratum. */
type Group = Omit<QueueItem, "epoch">;

/**
 * A stratum's transcripts in columns (a group and an epoch each, with its draw: its place in the
 * stratum's random order), not as an object each: a stratum may hold 100,000 of them.
 */
interface Stratum {
  groups: Group[];
  group: number[];
  epoch: number[];
  draw: number[];
  labelled: number;
}

const keyOfItem = (c: QueueItem) => `${c.runId}/${c.sampleId}#${c.epoch}`;

function strataOf(store: Store, o: QueueOptions, annotator: string): Map<string, Stratum> {
  const strata = o.strata ?? ["arm", "verdict"];
  const statuses = new Set(o.statuses ?? ["done"]);
  const arms = new Map<string, string>();
  for (const r of o.runs) if (!arms.has(r.runId)) arms.set(r.runId, r.arm ?? r.runId);
  const runIds = [...arms.keys()];
  // The epochs the annotator has labelled, by run and sample.
  const labelled = new Map<string, Set<number>>();
  for (const a of store.annotations.list({ runIds, annotator }))
    if (!a.stale) {
      const key = `${a.runId}/${a.sampleId}`;
      labelled.set(key, (labelled.get(key) ?? new Set()).add(a.epoch));
    }
  const out = new Map<string, Stratum>();
  for (const r of store.annotations.queueSamples(runIds)) {
    if (!statuses.has(r.status)) continue;
    const arm = arms.get(r.runId) as string;
    const verdict = verdictOf(r.status, r.decided);
    const name = strata.map((s) => (s === "arm" ? arm : verdict)).join(" × ") || "all";
    let stratum = out.get(name);
    if (!stratum) {
      stratum = { groups: [], group: [], epoch: [], draw: [], labelled: 0 };
      out.set(name, stratum);
    }
    const g = stratum.groups.length;
    // The key's part before the epoch (`seed\0run/sample#`) is hashed once per group.
    const prefix = fnv(FNV_BASIS, `${o.seed}\u0000${r.runId}/${r.sampleId}#`);
    stratum.groups.push({
      runId: r.runId,
      sampleId: r.sampleId,
      arm,
      verdict,
      stratum: name,
    });
    const done = labelled.get(`${r.runId}/${r.sampleId}`);
    for (const epoch of r.epochs) {
      if (done?.has(epoch)) {
        stratum.labelled++;
        continue;
      }
      stratum.group.push(g);
      stratum.epoch.push(epoch);
      stratum.draw.push(finish(fnv(prefix, String(epoch))));
    }
  }
  return out;
}

/**
 * A stratum's first `n` unlabelled transcripts in its random order (draw, then key), without
 * sorting all of it: the n-th smallest draw is found by sorting the draws alone (a typed array's
 * numeric sort), and only the transcripts at or below it are made and sorted by the full order.
 */
function firstInOrder(s: Stratum, n: number): QueueItem[] {
  if (n === 0 || s.draw.length === 0) return [];
  const last =
    s.draw.length <= n
      ? Number.POSITIVE_INFINITY
      : (Float64Array.from(s.draw).sort()[n - 1] as number);
  const picked: { item: QueueItem; draw: number; key: string }[] = [];
  for (let i = 0; i < s.draw.length; i++) {
    const draw = s.draw[i] as number;
    if (draw > last) continue;
    const g = s.groups[s.group[i] as number] as Group;
    const item = {
      runId: g.runId,
      sampleId: g.sampleId,
      epoch: s.epoch[i] as number,
      arm: g.arm,
      verdict: g.verdict,
      stratum: g.stratum,
    };
    picked.push({ item, draw, key: keyOfItem(item) });
  }
  picked.sort((a, b) => a.draw - b.draw || (a.key < b.key ? -1 : 1));
  return picked.slice(0, n).map((p) => p.item);
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
  const scheduled: { item: QueueItem; at: number }[] = [];
  const strata: QueueStratum[] = [];
  for (const [stratum, s] of [...strataOf(store, o, annotator)].sort(([a], [b]) =>
    a < b ? -1 : 1,
  )) {
    const all = s.labelled + s.draw.length;
    const offset = hash32(`${o.seed}\u0000stratum\u0000${stratum}`) / 2 ** 32;
    const weight = o.allocation === "proportional" ? all : 1;
    // The first `limit` of the queue are among the first `limit` of every stratum.
    for (const [k, item] of firstInOrder(s, o.limit).entries())
      scheduled.push({ item, at: (s.labelled + k + offset) / weight });
    strata.push({ stratum, labelled: s.labelled, remaining: s.draw.length });
  }
  scheduled.sort((a, b) => a.at - b.at || (a.item.stratum < b.item.stratum ? -1 : 1));
  return {
    items: scheduled.slice(0, o.limit).map((s) => s.item),
    strata,
    remaining: strata.reduce((n, s) => n + s.remaining, 0),
  };
}
