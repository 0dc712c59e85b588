/**
 * What the Annotate page and the transcript page's label panel share: the annotator's name
 * (remembered in this browser), the queue a URL names, and the scope the API is asked about.
 */

const NAME_KEY = "specsci.annotator";
const SEED_KEY = "specsci.annotate.seed";

export const rememberedAnnotator = (): string => localStorage.getItem(NAME_KEY) ?? "";

export function rememberAnnotator(name: string): void {
  if (name.trim()) localStorage.setItem(NAME_KEY, name.trim());
}

/** The last queue seed used here (resuming keeps the order), or a fresh random one. */
export function rememberedSeed(): number {
  const stored = Number(localStorage.getItem(SEED_KEY));
  if (Number.isSafeInteger(stored) && localStorage.getItem(SEED_KEY) !== null) return stored;
  const seed = crypto.getRandomValues(new Uint32Array(1))[0] as number;
  localStorage.setItem(SEED_KEY, String(seed));
  return seed;
}

export const rememberSeed = (seed: number) => localStorage.setItem(SEED_KEY, String(seed));

/** What is annotated: an experiment's transcripts, or some eval runs'. */
export interface Scope {
  experiment: string | null;
  runs: string[];
}

/** A labelling queue: a scope walked in a seeded order by one annotator. */
export interface QueueRef extends Scope {
  seed: number;
  annotator: string;
}

/** The API's query for a scope (`experiment=…` or `run=…&run=…`). */
export function scopeQuery(s: Scope): URLSearchParams {
  const q = new URLSearchParams();
  if (s.experiment) q.set("experiment", s.experiment);
  else for (const r of s.runs) q.append("run", r);
  return q;
}

export const scopeOf = (query: URLSearchParams): Scope | null => {
  const experiment = query.get("experiment") || null;
  const runs = query.getAll("run").filter(Boolean);
  return experiment || runs.length ? { experiment, runs } : null;
};

/**
 * The queue on the transcript page, from its URL. Its names are prefixed (`qexperiment`, `qrun`,
 * `qseed`): the sample filter the page carries along owns `experiment`, `run` and `seed`.
 */
export function queueOf(query: URLSearchParams): QueueRef | null {
  const experiment = query.get("qexperiment") || null;
  const runs = query.getAll("qrun").filter(Boolean);
  const seed = Number(query.get("qseed"));
  const annotator = query.get("annotator")?.trim() ?? "";
  if ((!experiment && !runs.length) || !Number.isSafeInteger(seed) || !annotator) return null;
  return { experiment, runs, seed, annotator };
}

/** The transcript page's URL for a queue's transcript. */
export function queueTranscriptUrl(
  q: QueueRef,
  t: { runId: string; sampleId: string; epoch: number },
): string {
  const p = new URLSearchParams({ runId: t.runId, sampleId: t.sampleId, epoch_: String(t.epoch) });
  if (q.experiment) p.set("qexperiment", q.experiment);
  for (const r of q.experiment ? [] : q.runs) p.append("qrun", r);
  p.set("qseed", String(q.seed));
  p.set("annotator", q.annotator);
  return `/transcript?${p}`;
}

/** The Annotate page of a queue (its scope, seed and annotator in the URL). */
export function annotatePageUrl(q: Scope & { seed?: number; annotator?: string }): string {
  const p = scopeQuery(q);
  if (q.seed !== undefined) p.set("seed", String(q.seed));
  if (q.annotator) p.set("annotator", q.annotator);
  return `/annotate?${p}`;
}

export const sampleKey = (t: { runId: string; sampleId: string; epoch: number }) =>
  `${t.runId}/${t.sampleId}#${t.epoch}`;

/** The queue's transcripts skipped in this browser session: "label next" passes them by. */
export function skipped(q: QueueRef): Set<string> {
  const raw = sessionStorage.getItem(`specsci.skipped.${JSON.stringify(q)}`);
  return new Set(raw ? (JSON.parse(raw) as string[]) : []);
}

export function skip(q: QueueRef, key: string): void {
  const s = skipped(q);
  s.add(key);
  sessionStorage.setItem(`specsci.skipped.${JSON.stringify(q)}`, JSON.stringify([...s]));
}

/**
 * The queue's next transcript: the first that is not `current` and not skipped this session
 * (when every other one is skipped, the first that is not `current`).
 */
export function nextOf<T extends { runId: string; sampleId: string; epoch: number }>(
  q: QueueRef,
  items: T[],
  current: string | null,
): T | undefined {
  const passed = skipped(q);
  return (
    items.find((i) => sampleKey(i) !== current && !passed.has(sampleKey(i))) ??
    items.find((i) => sampleKey(i) !== current)
  );
}
