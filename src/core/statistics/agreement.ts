/**
 * Agreement between labellers: Cohen's kappa (with its large-sample interval) for two raters and
 * Fleiss' kappa for several, over any labels (a category present or not, or one of many
 * categories), and precision and recall of a binary label against a reference (human labels). A
 * kappa is null where it is undefined: when chance agreement is 1 (every rating the same), no
 * agreement beyond chance can be measured. Checked against sklearn's and statsmodels' formulas in
 * `test/fixtures/stats-reference.json`.
 */
import { Z95 } from "../stats.js";

/** A label a rater gives: a category id, a number, or a yes/no. */
export type Rating = string | number | boolean;

export interface Kappa {
  kappa: number | null;
  /** Observed and chance agreement. */
  observed: number;
  chance: number;
  n: number;
}

export interface CohenKappa<T extends Rating> extends Kappa {
  /** The labels, in the order of the matrix's rows and columns. */
  labels: T[];
  /** `matrix[i][j]`: items rater A labelled `labels[i]` and rater B `labels[j]` (rows: rater A). */
  matrix: number[][];
}

/** The labels given, in `order` where one is given, else as they first appear. */
function labelsOf<T extends Rating>(ratings: T[], order: T[] | undefined, who: string): T[] {
  const labels = [...new Set(order ?? ratings)];
  if (order) {
    const known = new Set(order);
    const stray = ratings.find((r) => !known.has(r));
    if (stray !== undefined) throw new Error(`${who}: label ${String(stray)} is not in the labels`);
  }
  return labels;
}

/**
 * Cohen's kappa of rater A (`a[i]`) and rater B (`b[i]`) on the same items: (pₒ − pₑ)/(1 − pₑ),
 * with chance agreement pₑ from the two raters' own label frequencies.
 */
export function cohenKappa<T extends Rating>(a: T[], b: T[], labels?: T[]): CohenKappa<T> {
  if (a.length !== b.length) throw new Error("cohenKappa: the raters rated different items");
  const order = labelsOf([...a, ...b], labels, "cohenKappa");
  const index = new Map(order.map((l, i) => [l, i]));
  const matrix = order.map(() => order.map(() => 0));
  a.forEach((x, i) => {
    const row = matrix[index.get(x) as number] as number[];
    const j = index.get(b[i] as T) as number;
    row[j] = (row[j] as number) + 1;
  });
  const n = a.length;
  if (!n) return { kappa: null, observed: 0, chance: 0, n, labels: order, matrix };
  let agree = 0;
  let chance = 0;
  for (const [i, row] of matrix.entries()) {
    agree += row[i] as number;
    const rowTotal = row.reduce((s, x) => s + x, 0);
    const colTotal = matrix.reduce((s, r) => s + (r[i] as number), 0);
    chance += (rowTotal / n) * (colTotal / n);
  }
  const observed = agree / n;
  return { ...kappaOf(observed, chance), n, labels: order, matrix };
}

/**
 * Fleiss' kappa. `ratings[i][r]`: rater r's label for item i; every item has the same number of
 * raters (≥ 2), who need not be the same people. Per item, the share of agreeing rater pairs; by
 * chance, Σ pⱼ² over each label's share pⱼ of all ratings.
 */
export function fleissKappa<T extends Rating>(ratings: T[][]): Kappa {
  const n = ratings.length;
  if (!n) return { kappa: null, observed: 0, chance: 0, n };
  const k = (ratings[0] as T[]).length;
  if (k < 2 || ratings.some((r) => r.length !== k))
    throw new Error("fleissKappa: every item needs the same number of raters, at least two");
  const totals = new Map<T, number>();
  let observed = 0;
  for (const item of ratings) {
    const counts = new Map<T, number>();
    for (const r of item) counts.set(r, (counts.get(r) ?? 0) + 1);
    let pairs = 0;
    for (const [label, c] of counts) {
      pairs += c * (c - 1);
      totals.set(label, (totals.get(label) ?? 0) + c);
    }
    observed += pairs / (k * (k - 1));
  }
  observed /= n;
  let chance = 0;
  for (const t of totals.values()) chance += (t / (n * k)) ** 2;
  return { ...kappaOf(observed, chance), n };
}

export interface KappaInterval {
  /** The large-sample standard error of kappa. */
  se: number;
  /** kappa ± z·se, clipped to [−1, 1] (kappa cannot leave it). */
  ci: [number, number];
}

/**
 * The Wald interval of a Cohen's kappa, with the large-sample variance of Fleiss, Cohen and
 * Everitt (1969) that SAS's PROC FREQ and statsmodels' `cohens_kappa` report. Null where kappa is
 * undefined. With every item on the diagonal the variance is 0 and the interval has no width: it
 * then says nothing, and `n` is what tells how much the agreement is worth.
 */
export function cohenKappaInterval(k: CohenKappa<Rating>, z = Z95): KappaInterval | null {
  if (k.kappa === null || !k.n) return null;
  const kappa = k.kappa;
  const p = k.matrix.map((row) => row.map((x) => x / k.n));
  const rows = p.map((row) => row.reduce((s, x) => s + x, 0));
  const cols = p.map((_, j) => p.reduce((s, row) => s + (row[j] as number), 0));
  let diagonal = 0;
  let off = 0;
  for (const [i, row] of p.entries())
    for (const [j, pij] of row.entries()) {
      const ri = rows[i] as number;
      const cj = cols[j] as number;
      if (i === j) diagonal += pij * (1 - (ri + cj) * (1 - kappa)) ** 2;
      else off += pij * ((cols[i] as number) + (rows[j] as number)) ** 2;
    }
  const variance =
    (diagonal + (1 - kappa) ** 2 * off - (kappa - k.chance * (1 - kappa)) ** 2) /
    ((1 - k.chance) ** 2 * k.n);
  // Rounding can leave a hair below 0 where the true variance is 0 (perfect agreement).
  const se = Math.sqrt(Math.max(0, variance));
  return { se, ci: [Math.max(-1, kappa - z * se), Math.min(1, kappa + z * se)] };
}

function kappaOf(
  observed: number,
  chance: number,
): { kappa: number | null; observed: number; chance: number } {
  return { kappa: chance === 1 ? null : (observed - chance) / (1 - chance), observed, chance };
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
