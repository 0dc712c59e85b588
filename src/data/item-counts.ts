/** Counts of a generation stage's stored items: how many finished, how many failed and why. */
import type { ItemRow } from "../store/item-tables.js";

export interface StageCount {
  ok: number;
  failed: number;
  /** Failed items by kind: `call` (the model call failed) or `invalid` (no valid answer). */
  failedByKind: Record<string, number>;
  /** The first failure's message, to show with the counts. */
  example?: string;
}

/** Counts the rows (missing ones, not asked yet, are skipped). */
export function countItems(rows: Iterable<ItemRow | undefined>): StageCount {
  const c: StageCount = { ok: 0, failed: 0, failedByKind: {} };
  for (const r of rows) {
    if (!r) continue;
    if (r.status === "ok") {
      c.ok++;
      continue;
    }
    c.failed++;
    const kind = r.error?.kind ?? "unknown";
    c.failedByKind[kind] = (c.failedByKind[kind] ?? 0) + 1;
    c.example ??= `${r.key}: ${r.error?.message}`;
  }
  return c;
}
