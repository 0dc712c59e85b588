import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";

/** How often the worker copies the WAL into the database (a few MB of WAL at full speed). */
const INTERVAL_MS = 100;
/** The longest `stop` waits for the worker to close its connection. */
const STOP_WAIT_MS = 5000;

// Slots of the shared state: set by the owner, then by the worker.
const STOP = 0;
const STARTED = 1;
const CLOSED = 2;

/**
 * The worker, as a script (a file of its own would not exist beside the sources under vitest).
 * It opens its own connection and checkpoints PASSIVE on a timer: that never blocks the writer
 * or a reader, and once every frame is copied the writer starts the WAL afresh, so it stays
 * small. Every exit acknowledges, so `stop` never waits for nothing.
 */
const WORKER = `
const { workerData } = require("node:worker_threads");
const state = new Int32Array(workerData.state);
const done = () => { Atomics.store(state, ${CLOSED}, 1); Atomics.notify(state, ${CLOSED}); };
Atomics.store(state, ${STARTED}, 1);
if (Atomics.load(state, ${STOP}) !== 0) done();
else {
  let db;
  try {
    db = new (require(workerData.driver))(workerData.file, { fileMustExist: true });
    while (Atomics.load(state, ${STOP}) === 0) {
      try { db.pragma("wal_checkpoint(PASSIVE)"); } catch {}
      Atomics.wait(state, ${STOP}, 0, workerData.intervalMs);
    }
  } catch {
  } finally {
    try { db?.close(); } catch {}
    done();
  }
}
`;

/**
 * WAL checkpoints of a SQLite store on a thread of their own, for bulk writers: on the writer's
 * thread they were ~10% of `eval run`'s time (copying the WAL into the database, and its
 * fsyncs). The writer's own autocheckpoint stays on, larger, as a backstop should the worker
 * fall behind or fail. Crash-safe as any checkpoint: a kill -9 mid-copy leaves the WAL valid.
 */
export class Checkpointer {
  private readonly state = new Int32Array(new SharedArrayBuffer(3 * 4));
  private readonly worker: Worker;

  constructor(file: string) {
    this.worker = new Worker(WORKER, {
      eval: true,
      workerData: {
        driver: createRequire(import.meta.url).resolve("better-sqlite3"),
        file,
        state: this.state.buffer,
        intervalMs: INTERVAL_MS,
      },
    });
    this.worker.unref(); // never what keeps a process alive
    this.worker.on("error", () => {}); // the backstop checkpoints instead
  }

  /**
   * Synchronous, so `Store.close` stays so: the worker's connection is closed when this returns,
   * and the writer's close, the last, checkpoints the rest and removes the WAL.
   */
  stop(): void {
    Atomics.store(this.state, STOP, 1);
    Atomics.notify(this.state, STOP);
    // A worker not yet started sees the stop before it opens anything (both sides are atomic).
    if (Atomics.load(this.state, STARTED) === 1) Atomics.wait(this.state, CLOSED, 0, STOP_WAIT_MS);
    void this.worker.terminate();
  }
}
