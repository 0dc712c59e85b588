/**
 * Many calls through one model with their outcomes handed out in input order, the cache resolved
 * a chunk at a time before the calls: one look-up for a chunk's keys, its hits answered and
 * recorded together and emitted at once, and only the misses sent as calls of their own (limiter,
 * retries, one promise each; prepared and looked up once, in the chunk). A cached replay then
 * costs no pool, promise or statement per call.
 */
import { PendingCall } from "./managed.js";
import type { CallOptions, ChatOutcome, ChatRequest } from "./types.js";

/** What this needs of a model: `ManagedModel` gives it. */
export interface ChunkedModel {
  callCached(
    requests: readonly ChatRequest[],
    options?: CallOptions,
  ): Promise<(ChatOutcome | PendingCall)[]>;
}

export interface OrderedCallsOptions extends CallOptions {
  /** Items read and looked up together. */
  chunk: number;
  /** Calls (misses) in progress at once; the model's limiter decides how many are on the wire. */
  concurrency: number;
  /**
   * Outcomes held for an earlier, slower call, at most (plus one chunk): a single slow call
   * holds up reading only once this many later items are done.
   */
  window: number;
}

/** One item's place in the output: its outcome once known. */
interface Slot<T> {
  item: T;
  outcome: ChatOutcome | undefined;
}

/**
 * Runs every item (read lazily) and hands each outcome to `emit` in input order; `emit` may wait
 * (backpressure). The first error (a failed record write, the abort's reason, `emit`'s) stops
 * reading; calls in flight are waited for, then it is thrown. Failures of calls are outcomes.
 */
export async function callInOrder<T>(
  model: ChunkedModel,
  items: Iterable<T> | AsyncIterable<T>,
  requestOf: (item: T) => ChatRequest,
  options: OrderedCallsOptions,
  emit: (outcome: ChatOutcome, item: T) => void | Promise<void>,
  onDone?: () => void,
): Promise<void> {
  const callOpts: CallOptions = {};
  if (options.context) callOpts.context = options.context;
  if (options.signal) callOpts.signal = options.signal;
  const signal = options.signal;
  // Slots not yet emitted, oldest first (`head` is the oldest's index: no shift per item).
  let queue: Slot<T>[] = [];
  let head = 0;
  let inFlight = 0;
  let stopped: { error: unknown } | undefined;
  // The reader sleeps here while the window is full or no call can start; any progress wakes it.
  let wake: (() => void) | undefined;
  const progressed = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const sleep = () => new Promise<void>((r) => (wake = r));
  const stop = (error: unknown) => {
    stopped ??= { error };
    progressed();
  };

  let emitting = false;
  const drain = async () => {
    if (emitting) return;
    emitting = true;
    try {
      while (!stopped && head < queue.length) {
        const slot = queue[head] as Slot<T>;
        if (slot.outcome === undefined) break;
        queue[head++] = undefined as unknown as Slot<T>;
        await emit(slot.outcome, slot.item);
        onDone?.();
      }
      // Compact now and then, so the queue never grows with the run.
      if (head > 4096 && head * 2 > queue.length) {
        queue = queue.slice(head);
        head = 0;
      }
    } catch (e) {
      stop(e);
    } finally {
      emitting = false;
      progressed();
    }
  };

  const start = (slot: Slot<T>, call: PendingCall) => {
    inFlight++;
    call.start().then(
      (outcome) => {
        inFlight--;
        slot.outcome = outcome;
        void drain();
      },
      (e) => {
        inFlight--;
        stop(e);
      },
    );
  };

  const held = () => queue.length - head;
  try {
    for await (const chunk of chunks(items, options.chunk)) {
      while (!stopped && held() >= options.window) await sleep();
      if (stopped) break;
      if (signal?.aborted) {
        stop(signal.reason);
        break;
      }
      const answers = await model.callCached(chunk.map(requestOf), callOpts);
      let i = 0;
      for (; i < chunk.length && !stopped; i++) {
        const answer = answers[i] as ChatOutcome | PendingCall;
        const pending = answer instanceof PendingCall;
        const slot: Slot<T> = { item: chunk[i] as T, outcome: pending ? undefined : answer };
        queue.push(slot);
        if (!pending) continue;
        while (!stopped && inFlight >= options.concurrency) await sleep();
        if (signal?.aborted) stop(signal.reason);
        if (stopped) break;
        start(slot, answer);
      }
      // Stopped part way: the misses not started are given up.
      for (; i < chunk.length; i++) {
        const answer = answers[i];
        if (answer instanceof PendingCall) answer.drop();
      }
      await drain();
    }
  } catch (e) {
    // From the source, the look-up or its records' commit.
    stop(e);
  }
  // Calls still in flight record their own outcomes: wait for them, and for the last emits.
  for (;;) {
    if (!emitting && !stopped) await drain();
    if (inFlight === 0 && !emitting && (stopped || head >= queue.length)) break;
    await sleep();
  }
  signal?.throwIfAborted();
  if (stopped) throw stopped.error;
}

/** `items` in arrays of up to `size`, read lazily. */
async function* chunks<T>(
  items: Iterable<T> | AsyncIterable<T>,
  size: number,
): AsyncGenerator<T[]> {
  let chunk: T[] = [];
  for await (const item of items) {
    chunk.push(item);
    if (chunk.length >= size) {
      yield chunk;
      chunk = [];
    }
  }
  if (chunk.length) yield chunk;
}
