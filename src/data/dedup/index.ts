/**
 * Document deduplication for generated corpora: exact duplicates (equal normalized text) and near
 * duplicates (MinHash + LSH over word shingles), keeping the first document of each group in input
 * order. Fingerprinting, the expensive part, runs on worker threads for large inputs; banding and
 * clustering run here.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { SpecsciError } from "../../core/errors.js";
import { chooseBanding, estimateSimilarity, linkNearDuplicates } from "./lsh.js";
import { type Fingerprints, fingerprint, permutationSeeds, type SignConfig } from "./minhash.js";
import { DIGEST_BYTES } from "./normalize.js";
import type { ChunkRequest, ChunkResult } from "./worker.js";

export { normalizeText } from "./normalize.js";

export interface NearOptions {
  /** Jaccard similarity of word shingles at which two documents are near duplicates; default 0.8. */
  threshold?: number;
  /** MinHash permutations; default 128. */
  numPerm?: number;
  /** Words per shingle; default 5. */
  shingle?: number;
  /** Seed for the permutations; default 1. */
  seed?: number;
  /**
   * Weight of missed pairs against spurious candidates when choosing bands and rows; default 0.7.
   * Above datasketch's 0.5 because every candidate here is verified, so a spurious one costs only a
   * signature comparison while a missed one is lost.
   */
  falseNegativeWeight?: number;
}

export interface DedupOptions {
  /** Find exact duplicates (equal normalized text); default true. */
  exact?: boolean;
  /** Near-duplicate settings, or false to skip near duplicates; default on. */
  near?: NearOptions | false;
  /** Worker threads for fingerprinting; default min(2, available parallelism); 0 for in-process. */
  workers?: number;
  /** Below this many documents, fingerprint in-process (a worker takes 0.1–0.3 s to start); default 2000. */
  workerMinDocs?: number;
}

export interface Duplicate {
  id: string;
  /** The kept document this one duplicates (never itself a duplicate). */
  keptId: string;
  kind: "exact" | "near";
  /**
   * 1 for exact duplicates; for near ones the MinHash-estimated Jaccard to the kept document,
   * which can fall below the threshold when the document joined the cluster through another
   * member (clusters are connected components of verified pairs).
   */
  similarity: number;
}

export interface NearParams {
  threshold: number;
  numPerm: number;
  shingle: number;
  seed: number;
  falseNegativeWeight: number;
  bands: number;
  rows: number;
}

export interface DedupResult {
  /** In input order of `id`. */
  duplicates: Duplicate[];
  /** Documents that are nobody's duplicate. */
  kept: number;
  /** The near-duplicate settings used, or null when near duplicates were not looked for. */
  params: NearParams | null;
}

export const DEFAULT_WORKER_MIN_DOCS = 2000;
/** Documents per message to a worker: large enough to amortize messaging, small enough to balance. */
const MAX_CHUNK = 1000;

/**
 * Finds exact and near duplicates among `docs`. Exact duplicates are removed first; near
 * duplicates are clustered with union-find, and each cluster keeps its first document. An exact
 * duplicate of a document that is itself a near duplicate is reported as a near duplicate of the
 * kept document (same signature, so same similarity), so `keptId` always names a kept document.
 * Results are deterministic and do not depend on the number of workers.
 */
export async function findDuplicates(
  docs: readonly { id: string; text: string }[],
  options: DedupOptions = {},
): Promise<DedupResult> {
  const { exact, params, workers, workerMinDocs } = resolveOptions(options);
  checkDocs(docs);
  const ids = docs.map((d) => d.id);
  const n = docs.length;
  const config: SignConfig = {
    shingle: params?.shingle ?? 1,
    seeds: params ? permutationSeeds(params.seed, params.numPerm) : new Int32Array(0),
    exact,
  };
  const texts = docs.map((d) => d.text);
  const prints =
    (exact || params) && workers > 0 && n >= workerMinDocs
      ? await fingerprintInWorkers(texts, config, workers)
      : fingerprint(texts, config);

  // Exact: the first document with each digest is kept.
  const exactOf = new Int32Array(n).fill(-1);
  if (exact) {
    const firstByDigest = new Map<string, number>();
    const bytes = Buffer.from(
      prints.digests.buffer,
      prints.digests.byteOffset,
      prints.digests.byteLength,
    );
    for (let i = 0; i < n; i++) {
      const key = bytes.toString("latin1", i * DIGEST_BYTES, (i + 1) * DIGEST_BYTES);
      const first = firstByDigest.get(key);
      if (first === undefined) firstByDigest.set(key, i);
      else exactOf[i] = first;
    }
  }

  const duplicates: Duplicate[] = [];
  if (params === null) {
    for (let i = 0; i < n; i++) {
      const e = exactOf[i] as number;
      if (e >= 0)
        duplicates.push({
          id: ids[i] as string,
          keptId: ids[e] as string,
          kind: "exact",
          similarity: 1,
        });
    }
    return { duplicates, kept: n - duplicates.length, params };
  }

  const members = new Int32Array(n);
  let m = 0;
  for (let i = 0; i < n; i++) if (exactOf[i] === -1) members[m++] = i;
  const { numPerm, threshold } = params;
  const components = linkNearDuplicates(
    prints.signatures,
    numPerm,
    members.subarray(0, m),
    params,
    threshold,
  );
  for (let i = 0; i < n; i++) {
    const e = exactOf[i] as number;
    const self = e >= 0 ? e : i;
    const root = components.find(self);
    if (root === i) continue;
    const id = ids[i] as string;
    if (root === self) {
      duplicates.push({ id, keptId: ids[root] as string, kind: "exact", similarity: 1 });
    } else {
      const similarity = estimateSimilarity(prints.signatures, numPerm, self, root);
      duplicates.push({ id, keptId: ids[root] as string, kind: "near", similarity });
    }
  }
  return { duplicates, kept: n - duplicates.length, params };
}

interface Resolved {
  exact: boolean;
  params: NearParams | null;
  workers: number;
  workerMinDocs: number;
}

const OPTION_KEYS = ["exact", "near", "workers", "workerMinDocs"];
const NEAR_KEYS = ["threshold", "numPerm", "shingle", "seed", "falseNegativeWeight"];

function resolveOptions(options: DedupOptions): Resolved {
  unknownKeys("", options, OPTION_KEYS);
  const exact = options.exact ?? true;
  if (typeof exact !== "boolean") throw invalid("exact", "must be true or false");
  const workers = options.workers ?? Math.min(2, availableParallelism());
  integerIn("workers", workers, 0, 64);
  const workerMinDocs = options.workerMinDocs ?? DEFAULT_WORKER_MIN_DOCS;
  integerIn("workerMinDocs", workerMinDocs, 0, Number.MAX_SAFE_INTEGER);
  const near = options.near ?? {};
  if (near === false) return { exact, params: null, workers, workerMinDocs };
  if (typeof near !== "object" || near === null)
    throw invalid("near", "must be an object of settings or false");
  unknownKeys("near.", near, NEAR_KEYS);
  const threshold = near.threshold ?? 0.8;
  if (typeof threshold !== "number" || !(threshold > 0 && threshold < 1))
    throw invalid("near.threshold", "must be a number strictly between 0 and 1");
  const numPerm = near.numPerm ?? 128;
  integerIn("near.numPerm", numPerm, 16, 1024);
  const shingle = near.shingle ?? 5;
  integerIn("near.shingle", shingle, 1, 64);
  const seed = near.seed ?? 1;
  integerIn("near.seed", seed, 0, 0xffffffff);
  const falseNegativeWeight = near.falseNegativeWeight ?? 0.7;
  if (
    typeof falseNegativeWeight !== "number" ||
    !(falseNegativeWeight > 0 && falseNegativeWeight < 1)
  )
    throw invalid("near.falseNegativeWeight", "must be a number strictly between 0 and 1");
  const banding = chooseBanding(threshold, numPerm, falseNegativeWeight);
  return {
    exact,
    params: { threshold, numPerm, shingle, seed, falseNegativeWeight, ...banding },
    workers,
    workerMinDocs,
  };
}

/** A misspelt setting would otherwise be silently ignored. */
function unknownKeys(prefix: string, object: object, known: string[]): void {
  for (const key of Object.keys(object))
    if (!known.includes(key))
      throw new SpecsciError(`unknown dedup option ${prefix}${key}`, {
        hint: `known options: ${known.map((k) => prefix + k).join(", ")}`,
      });
}

function integerIn(name: string, value: unknown, min: number, max: number): void {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max)
    throw invalid(name, `must be an integer from ${min} to ${max}`);
}

function invalid(name: string, rule: string): SpecsciError {
  return new SpecsciError(`dedup option ${name} ${rule}`);
}

function checkDocs(docs: readonly { id: string; text: string }[]): void {
  if (!Array.isArray(docs)) throw new SpecsciError("dedup: documents must be an array");
  const seen = new Set<string>();
  for (const [i, doc] of docs.entries()) {
    if (typeof doc?.id !== "string" || typeof doc.text !== "string")
      throw new SpecsciError(`dedup: document ${i} must have a string id and a string text`);
    if (seen.has(doc.id)) throw new SpecsciError(`dedup: document id "${doc.id}" appears twice`);
    seen.add(doc.id);
  }
}

/**
 * Fingerprints on worker threads: chunks go out to whichever worker is free (two in flight each,
 * so none waits on the main thread) and signatures come back as transferred ArrayBuffers.
 * Workers are terminated however this ends.
 */
async function fingerprintInWorkers(
  texts: string[],
  config: SignConfig,
  workerCount: number,
): Promise<Fingerprints> {
  const n = texts.length;
  const numPerm = config.seeds.length;
  const signatures = new Uint32Array(n * numPerm);
  const digests = new Uint8Array(config.exact ? n * DIGEST_BYTES : 0);
  if (n === 0) return { signatures, digests };
  const chunkSize = Math.max(1, Math.min(MAX_CHUNK, Math.ceil(n / (workerCount * 4))));
  const count = Math.min(workerCount, Math.ceil(n / chunkSize));
  const workers: Worker[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      let nextStart = 0;
      let pending = 0;
      const send = (worker: Worker) => {
        if (nextStart >= n) return;
        const start = nextStart;
        nextStart = Math.min(n, start + chunkSize);
        pending++;
        const request: ChunkRequest = { start, texts: texts.slice(start, nextStart) };
        worker.postMessage(request);
      };
      for (let w = 0; w < count; w++) {
        const worker = startWorker(config);
        workers.push(worker);
        worker.on("message", (result: ChunkResult) => {
          try {
            if (numPerm) signatures.set(new Uint32Array(result.signatures), result.start * numPerm);
            if (config.exact)
              digests.set(new Uint8Array(result.digests), result.start * DIGEST_BYTES);
            pending--;
            send(worker);
            if (pending === 0 && nextStart >= n) resolve();
          } catch (e) {
            reject(e);
          }
        });
        worker.on("error", (error) =>
          reject(new Error(`dedup worker failed: ${error.message}`, { cause: error })),
        );
        worker.on("exit", (code) =>
          reject(new Error(`dedup worker exited early with code ${code}`)),
        );
        send(worker);
        send(worker);
      }
    });
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
  return { signatures, digests };
}

/**
 * A worker running worker.js next to this file (compiled, from dist/) or, when this file is
 * TypeScript (vitest, tsx), worker.ts through tsx. Node 20 ignores `--import tsx` in a worker's
 * execArgv (the worker fails with "Unknown file extension .ts"), so from sources a two-line
 * bootstrap registers tsx's loader inside the worker and then imports worker.ts. tsx is resolved
 * from this file, not from the working directory.
 */
function startWorker(config: SignConfig): Worker {
  const options = { workerData: config, execArgv: workerExecArgv() };
  if (!import.meta.url.endsWith(".ts"))
    return new Worker(new URL("./worker.js", import.meta.url), options);
  const tsx = JSON.stringify(import.meta.resolve("tsx/esm/api"));
  const entry = JSON.stringify(new URL("./worker.ts", import.meta.url).href);
  const bootstrap = `import(${tsx}).then((tsx) => { tsx.register(); return import(${entry}); });`;
  return new Worker(bootstrap, { ...options, eval: true });
}

/**
 * The parent's Node flags, which workers inherit by default, less --input-type: left in (as by
 * `node --input-type=module -e …`) it makes the worker refuse to load its file.
 */
function workerExecArgv(): string[] {
  const flags: string[] = [];
  for (let i = 0; i < process.execArgv.length; i++) {
    const flag = process.execArgv[i] as string;
    if (flag === "--input-type") i++;
    else if (!flag.startsWith("--input-type=")) flags.push(flag);
  }
  return flags;
}
