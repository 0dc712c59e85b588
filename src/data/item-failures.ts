/**
 * The failed items of a generation run (an MSM corpus or an AFT chat set), written beside its
 * output so that a user can read what the model answered and why each answer was rejected.
 */
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { SpecsciError } from "../core/errors.js";
import { writeFileAtomic } from "../core/fs.js";
import type { Store } from "../store/db.js";

/** The file's name in the output directory. */
export const FAILED_ITEMS_FILE = "failed-items.jsonl";

/** A stage of a generation without one usable answer: nothing after it can be made. */
export class NoUsableAnswer extends SpecsciError {
  constructor(
    message: string,
    /** The corpus or chat set whose failed items explain it. */
    readonly runId: string,
  ) {
    super(message, {
      hint: "check the model with `specsci models test`; a rerun retries failed calls",
    });
    this.name = "NoUsableAnswer";
  }
}

/**
 * Writes every failed item of `runId` to `dir/failed-items.jsonl` (stage, key, kind, message,
 * attempts and the last answer) and returns the file and the count; a stale file from an earlier
 * run is removed when nothing failed.
 */
export function writeFailedItems(
  store: Store,
  runId: string,
  dir: string,
): { file: string; count: number } {
  const file = join(dir, FAILED_ITEMS_FILE);
  const rows = store.items.failed(runId);
  if (!rows.length) {
    if (existsSync(file)) rmSync(file);
    return { file, count: 0 };
  }
  const lines = rows.map((r) =>
    JSON.stringify({
      stage: r.stage,
      key: r.key,
      kind: r.error?.kind ?? "unknown",
      message: r.error?.message ?? "",
      attempts: r.attempts,
      answer: r.error?.answer ?? null,
    }),
  );
  mkdirSync(dirname(file), { recursive: true });
  writeFileAtomic(file, `${lines.join("\n")}\n`);
  return { file, count: rows.length };
}

/**
 * Runs a generation; when a stage ends it for want of a usable answer, its failed items are
 * written into `dir` and the error says where they are.
 */
export async function withFailedItems<T>(
  store: Store,
  dir: string,
  build: () => Promise<T>,
): Promise<T> {
  try {
    return await build();
  } catch (e) {
    if (!(e instanceof NoUsableAnswer)) throw e;
    const { file, count } = writeFailedItems(store, e.runId, dir);
    throw new SpecsciError(e.message, {
      hint: `${count ? `the failed items, with the model's last answer and why it was rejected, are in ${file}; ` : ""}${e.hint ?? ""}`,
    });
  }
}
