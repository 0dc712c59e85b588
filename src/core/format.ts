/** How quantities read in the terminal, the same in every plan and stats command. */

const UNITS = ["k", "M", "B"] as const;

/**
 * A count of tokens, calls or documents, shortened: 950, 20.6k, 20.6M, 1.2B (one decimal). A
 * value that would round to 1000 of a unit is shown in the next one (999,960 is 1.0M, not
 * 1000.0k).
 */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Math.round(Math.abs(n)) < 1000) return String(Math.round(n));
  let value = n;
  for (const [i, unit] of UNITS.entries()) {
    value /= 1000;
    if (Math.abs(Number(value.toFixed(1))) < 1000 || i === UNITS.length - 1)
      return `${value.toFixed(1)}${unit}`;
  }
  throw new Error("unreachable");
}
