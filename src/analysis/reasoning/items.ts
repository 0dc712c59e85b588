/**
 * One model answer per stored item: asked until it passes its check, then stored as `ok`, or as
 * `failed` with `invalid` (no acceptable answer in the attempts) or `call` (the call failed; the
 * next run asks again). An abort is not a failure and stores nothing.
 */

import { forEachBounded } from "../../core/pool.js";
import type { ChatMessage, ChatModel } from "../../llm/types.js";
import type { Check } from "../../llm/validated.js";
import { generateValidated, NoValidAnswer, type ValidatedOptions } from "../../llm/validated.js";
import type { Store } from "../../store/index.js";
import type { ItemRow } from "../../store/item-tables.js";

export async function askItem<T>(
  store: Store,
  analysis: string,
  item: { key: string; stage: string },
  model: ChatModel,
  messages: (feedback: string | undefined) => ChatMessage[],
  check: (text: string) => Check<T>,
  options: ValidatedOptions,
): Promise<void> {
  const row: ItemRow = { ...item, status: "ok", value: null, error: null, attempts: 0 };
  try {
    const r = await generateValidated(model, messages, check, options);
    row.value = r.value;
    row.attempts = r.attempts.length;
  } catch (e) {
    if (options.signal?.aborted) throw e;
    row.status = "failed";
    if (e instanceof NoValidAnswer) {
      row.error = { kind: "invalid", message: e.lastProblem };
      row.attempts = e.attempts.length;
    } else row.error = { kind: "call", message: (e as Error).message };
  }
  store.items.put(analysis, row);
}

/** Whether an item still needs asking: never asked, or its call failed. */
export const needsAsking = (row: ItemRow | undefined) =>
  !row || (row.status === "failed" && row.error?.kind === "call");

/** Runs `work` over the items, `size` at a time (see core/pool.ts). */
export const pool = <T>(items: T[], size: number, work: (item: T) => Promise<void>) =>
  forEachBounded(items, (item) => work(item), { concurrency: size });
