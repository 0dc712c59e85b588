import { onAbort } from "./abort.js";

export function nowIso(): string {
  return new Date().toISOString();
}

/** Waits `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    // Many retries back off at once: they share the signal's one listener (see abort.ts).
    const unsubscribe = signal
      ? onAbort(signal, () => {
          clearTimeout(timer);
          reject(signal.reason);
        })
      : () => {};
    const timer = setTimeout(() => {
      unsubscribe();
      resolve();
    }, ms);
  });
}
