/**
 * Locality-sensitive hashing over MinHash signatures: the band/row choice, candidate pairs from
 * band buckets, their verification, and union-find clusters.
 */

/** Bands and rows per band; `bands * rows <= numPerm`. */
export interface Banding {
  bands: number;
  rows: number;
}

/** Probability that two documents of Jaccard `s` share at least one band bucket. */
export function candidateProbability(s: number, { bands, rows }: Banding): number {
  return 1 - (1 - s ** rows) ** bands;
}

/** Composite Simpson's rule; the S-curve is smooth, so 128 intervals is plenty. */
function integrate(f: (x: number) => number, a: number, b: number, intervals = 128): number {
  const h = (b - a) / intervals;
  let sum = f(a) + f(b);
  for (let i = 1; i < intervals; i++) sum += f(a + i * h) * (i % 2 === 1 ? 4 : 2);
  return (sum * h) / 3;
}

/**
 * The banding that minimizes the weighted area of mistakes under the S-curve: false positives
 * (pairs below `threshold` that become candidates) plus false negatives (pairs at or above it that
 * never do), each integrated over similarity, as datasketch does. Ties keep the first found (fewer
 * bands), which is also the cheaper one.
 */
export function chooseBanding(
  threshold: number,
  numPerm: number,
  falseNegativeWeight: number,
): Banding {
  let best: Banding = { bands: 1, rows: numPerm };
  let bestError = Number.POSITIVE_INFINITY;
  for (let bands = 1; bands <= numPerm; bands++) {
    for (let rows = 1; bands * rows <= numPerm; rows++) {
      const banding = { bands, rows };
      const falsePositive = integrate((s) => candidateProbability(s, banding), 0, threshold);
      const falseNegative = integrate((s) => 1 - candidateProbability(s, banding), threshold, 1);
      const error = (1 - falseNegativeWeight) * falsePositive + falseNegativeWeight * falseNegative;
      if (error < bestError) {
        bestError = error;
        best = banding;
      }
    }
  }
  return best;
}

/** Fraction of equal signature positions: the MinHash estimate of two documents' Jaccard. */
export function estimateSimilarity(
  signatures: Uint32Array,
  numPerm: number,
  a: number,
  b: number,
): number {
  let equal = 0;
  const oa = a * numPerm;
  const ob = b * numPerm;
  for (let p = 0; p < numPerm; p++) if (signatures[oa + p] === signatures[ob + p]) equal++;
  return equal / numPerm;
}

/** Union-find over document indexes whose root is always the component's smallest index. */
export class Components {
  readonly parent: Int32Array;
  constructor(size: number) {
    this.parent = new Int32Array(size);
    for (let i = 0; i < size; i++) this.parent[i] = i;
  }
  find(i: number): number {
    const parent = this.parent;
    let x = i;
    while (parent[x] !== x) {
      const up = parent[parent[x] as number] as number; // path halving
      parent[x] = up;
      x = up;
    }
    return x;
  }
  union(a: number, b: number): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra < rb) this.parent[rb] = ra;
    else if (rb < ra) this.parent[ra] = rb;
  }
}

// 2^21: a band key is 32 bits of one hash and 21 of another, 53 bits in all, an exact double.
const HIGH = 2097152;

/**
 * Links every pair of `members` (indexes into `signatures`, ascending) that share a band bucket
 * and whose estimated Jaccard is at least `threshold`. Buckets are keyed by 53 bits of two
 * murmur-style hashes of the band's rows, so unrelated documents almost never share one by
 * accident (and verification would drop them if they did). Each bucket is a linked list through
 * `next` (one Int32Array per band, no per-bucket arrays). A new document is checked against each
 * earlier bucket member not already in its component, so once a cluster forms, repeats in other
 * bands cost one `find` each.
 *
 * Verification uses the signature estimate only: the exact shingle Jaccard would need every
 * document's shingle set kept (about 2 KB each) and its standard error with 128 permutations,
 * about 0.035 near 0.8, is small next to the gap between near-duplicates and unrelated texts.
 */
export function linkNearDuplicates(
  signatures: Uint32Array,
  numPerm: number,
  members: Int32Array,
  { bands, rows }: Banding,
  threshold: number,
): Components {
  const size = signatures.length / numPerm;
  const components = new Components(size);
  const next = new Int32Array(size);
  const minEqual = threshold * numPerm;
  for (let band = 0; band < bands; band++) {
    const heads = new Map<number, number>();
    const first = band * rows;
    for (let k = 0; k < members.length; k++) {
      const d = members[k] as number;
      const base = d * numPerm + first;
      let h1 = band | 0;
      let h2 = (band ^ 0x5bd1e995) | 0;
      for (let r = 0; r < rows; r++) {
        const v = signatures[base + r] as number;
        h1 = Math.imul(h1 ^ v, 0x9e3779b1);
        h1 ^= h1 >>> 15;
        h2 = Math.imul((h2 + v) | 0, 0x85ebca6b);
        h2 ^= h2 >>> 13;
      }
      h1 = Math.imul(h1 ^ (h1 >>> 16), 0x7feb352d);
      h2 = Math.imul(h2 ^ (h2 >>> 16), 0x846ca68b);
      const key = (h1 >>> 0) * HIGH + ((h2 ^ (h2 >>> 15)) >>> 11);
      const head = heads.get(key);
      if (head === undefined) {
        next[d] = -1;
      } else {
        next[d] = head;
        const od = d * numPerm;
        for (let m = head; m !== -1; m = next[m] as number) {
          if (components.find(m) === components.find(d)) continue;
          const om = m * numPerm;
          let equal = 0;
          for (let p = 0; p < numPerm; p++) if (signatures[om + p] === signatures[od + p]) equal++;
          if (equal >= minEqual) components.union(m, d);
        }
      }
      heads.set(key, d);
    }
  }
  return components;
}
