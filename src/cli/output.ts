import { createProgress, log, type Progress } from "../core/index.js";
import { EXIT_SOME_CALLS_FAILED } from "./exit-codes.js";

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** A cell that reads as a quantity (`12`, `20.6k`, `$1.4092`, `73%`, `8/8`): right-aligned. */
const QUANTITY = /^-?\$?\d[\d,]*(\.\d+)?[kMB%×]?(\/\d+)?$/;
const isQuantity = (c: string | number) => typeof c === "number" || QUANTITY.test(c);

/**
 * A plain text table: columns padded to their widest cell, quantities right-aligned (a column
 * whose every filled cell is a number or reads as one), a dashed rule under the headers; each
 * line starts with `indent`.
 */
export function formatTable(headers: string[], rows: (string | number)[][], indent = ""): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  const right = headers.map((_, i) => {
    const filled = rows.map((r) => r[i]).filter((c) => c !== undefined && c !== "" && c !== "-");
    return filled.length > 0 && filled.every((c) => isQuantity(c as string | number));
  });
  const line = (row: string[]) =>
    `${indent}${row
      .map((c, i) => (right[i] ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join("  ")}`.trimEnd();
  const [head, ...body] = cells as [string[], ...string[][]];
  const rule = `${indent}${widths.map((w) => "-".repeat(w)).join("  ")}`;
  return `${[line(head), rule, ...body.map(line)].join("\n")}\n`;
}

/** A table (see `formatTable`) on stdout. */
export function printTable(headers: string[], rows: (string | number)[][]): void {
  process.stdout.write(formatTable(headers, rows));
}

/**
 * Columns for samples outside the rates other than failures (answers cut off, refusals), shown
 * only when some row has any, so the usual table stays as narrow as before.
 */
export function unscoredColumns<T extends { truncated: number; refused: number }>(rows: T[]) {
  const keys = (["truncated", "refused"] as const).filter((k) => rows.some((r) => r[k] > 0));
  return {
    heads: [...keys] as string[],
    cells: (r: T | null): (string | number)[] => keys.map((k) => (r ? r[k] : "")),
  };
}

export function formatUsd(usd: number | null): string {
  if (usd === null) return "unknown";
  return usd < 0.01 && usd > 0 ? `$${usd.toFixed(6)}` : `$${usd.toFixed(4)}`;
}

/** A progress bar for model downloads, created on first progress report. */
export function downloadProgress(): (received: number, total: number | undefined) => void {
  let bar: Progress | undefined;
  return (received, total) => {
    bar ??= createProgress("download", total ?? 0);
    if (total !== undefined) bar.setTotal(total);
    bar.update(received);
    if (total !== undefined && received >= total) bar.stop();
  };
}

/**
 * After a generation: items without a valid answer are noted; failed model calls are warned
 * about and make the exit code 3 (a rerun retries them). Both point at the file that lists them.
 */
export function reportItemFailures(
  stages: Record<string, { failedByKind: Record<string, number> }>,
  attempts: number,
  failuresFile: string,
): void {
  const sum = (kind: string) =>
    Object.values(stages).reduce((a, s) => a + (s.failedByKind[kind] ?? 0), 0);
  const invalid = sum("invalid");
  const failed = sum("call");
  if (invalid)
    log.warn(
      `${invalid} item(s) got no valid answer after ${attempts} attempts and are left out; ${failuresFile} has each one with the model's last answer and why it was rejected`,
    );
  if (failed) {
    log.warn(
      `${failed} model call(s) failed (listed in ${failuresFile}); run the same command again to retry them`,
    );
    process.exitCode = EXIT_SOME_CALLS_FAILED;
  }
}
