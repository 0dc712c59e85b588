/**
 * Agreement between labellers on a binary label (a category present or not): Cohen's kappa for two
 * raters, Fleiss' kappa for several, and precision and recall against a reference (human labels).
 * A kappa is null where it is undefined: when chance agreement is 1 (every rating the same), no
 * agreement beyond chance can be measured.
 */

export interface Kappa {
  kappa: number | null;
  /** Observed and chance agreement. */
  observed: number;
  chance: number;
  n: number;
}

export function cohenKappa(a: boolean[], b: boolean[]): Kappa {
  if (a.length !== b.length) throw new Error("cohenKappa: the raters rated different items");
  const n = a.length;
  if (!n) return { kappa: null, observed: 0, chance: 0, n };
  let agree = 0;
  let aYes = 0;
  let bYes = 0;
  for (let i = 0; i < n; i++) {
    if (a[i] === b[i]) agree++;
    if (a[i]) aYes++;
    if (b[i]) bYes++;
  }
  const observed = agree / n;
  const chance = (aYes / n) * (bYes / n) + (1 - aYes / n) * (1 - bYes / n);
  return { kappa: chance === 1 ? null : (observed - chance) / (1 - chance), observed, chance, n };
}

/** `ratings[i][r]`: rater r's label for item i; every item has the same number of raters (≥ 2). */
export function fleissKappa(ratings: boolean[][]): Kappa {
  const n = ratings.length;
  if (!n) return { kappa: null, observed: 0, chance: 0, n };
  const k = (ratings[0] as boolean[]).length;
  if (k < 2 || ratings.some((r) => r.length !== k))
    throw new Error("fleissKappa: every item needs the same number of raters, at least two");
  let yes = 0;
  let pBar = 0;
  for (const item of ratings) {
    const y = item.filter(Boolean).length;
    yes += y;
    // Agreeing pairs among the item's raters, per class.
    pBar += (y * (y - 1) + (k - y) * (k - y - 1)) / (k * (k - 1));
  }
  pBar /= n;
  const p = yes / (n * k);
  const chance = p * p + (1 - p) * (1 - p);
  return { kappa: chance === 1 ? null : (pBar - chance) / (1 - chance), observed: pBar, chance, n };
}

export interface Confusion {
  tp: number;
  fp: number;
  fn: number;
  tn: number;
  /** Null when the labeller never said yes (precision) or the reference never did (recall). */
  precision: number | null;
  recall: number | null;
}

export function confusion(predicted: boolean[], reference: boolean[]): Confusion {
  if (predicted.length !== reference.length)
    throw new Error("confusion: predictions and reference differ in length");
  const c = { tp: 0, fp: 0, fn: 0, tn: 0 };
  predicted.forEach((p, i) => {
    const r = reference[i];
    if (p && r) c.tp++;
    else if (p) c.fp++;
    else if (r) c.fn++;
    else c.tn++;
  });
  return {
    ...c,
    precision: c.tp + c.fp ? c.tp / (c.tp + c.fp) : null,
    recall: c.tp + c.fn ? c.tp / (c.tp + c.fn) : null,
  };
}
