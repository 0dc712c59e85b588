/**
 * The records of the calls that end in one event-loop turn, written together: their call log
 * rows and cache entries in multi-row INSERTs inside the store's group commit, instead of one
 * statement each. Each caller still resolves only once its record is committed.
 */
import type { Store } from "../store/index.js";
import { type CallRecord, writeRecords } from "./call-record.js";

interface Queued {
  /** One call's record, or the many of one `commitMany` (one promise for them all). */
  records: readonly CallRecord[];
  resolve: () => void;
  reject: (e: unknown) => void;
  error?: unknown;
}

export class GroupedRecords {
  private batch: Queued[] | undefined;

  constructor(private readonly store: Store) {}

  /** Resolves once `record` is committed; rejects when its write failed. */
  commit(record: CallRecord): Promise<void> {
    return this.commitMany([record]);
  }

  /**
   * Resolves once every one of `records` is committed (in this turn's batch, in one promise);
   * rejects with the first failed write, as `commit` of each would.
   */
  commitMany(records: readonly CallRecord[]): Promise<void> {
    return new Promise((resolve, reject) => {
      if (!this.batch) this.start();
      this.batch?.push({ records, resolve, reject });
    });
  }

  /** Opens this turn's batch, written by one write in the group commit. */
  private start(): void {
    const batch: Queued[] = [];
    this.batch = batch;
    this.store
      .txGrouped(() => {
        // Records that come after this point go to the next batch.
        if (this.batch === batch) this.batch = undefined;
        this.write(batch);
      })
      .then(
        () => {
          for (const q of batch) q.error === undefined ? q.resolve() : q.reject(q.error);
        },
        (e) => {
          for (const q of batch) q.reject(e);
        },
      );
  }

  /**
   * All records in one savepoint; when that fails (one record's row breaking a constraint, say),
   * each in its own, so one bad record fails only its own call, as a write of its own would.
   */
  private write(batch: Queued[]): void {
    for (const q of batch) delete q.error;
    try {
      this.store.tx(() =>
        writeRecords(
          this.store,
          batch.length === 1 ? (batch[0] as Queued).records : batch.flatMap((q) => q.records),
        ),
      );
      return;
    } catch {
      // Retried one by one below.
    }
    for (const q of batch) {
      for (const r of q.records) {
        try {
          this.store.tx(r.write);
        } catch (e) {
          q.error ??= e;
        }
      }
    }
  }
}
