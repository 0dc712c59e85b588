import type { SqlDatabase } from "./database.js";

interface Pending {
  write: () => void;
  resolve: () => void;
  reject: (e: unknown) => void;
}

/**
 * Group commit: writes queued during one turn of the event loop are committed together in one
 * transaction, and each caller's promise settles only after that commit. Concurrent model calls
 * then share one WAL append instead of paying for one each (the commit dominated the cost of a
 * call), while a caller still never sees a result that is not yet in the store.
 */
export class GroupCommit {
  private queue: Pending[] = [];
  private scheduled = false;

  /** `around` wraps each commit's writes inside its transaction (the store's batched indexing). */
  constructor(
    private readonly db: SqlDatabase,
    private readonly around: (writes: () => void) => void = (writes) => writes(),
  ) {}

  enqueue(write: () => void): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ write, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Commits everything queued now (also called before the store closes). */
  flush(): void {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    try {
      this.db.transaction(() =>
        this.around(() => {
          for (const p of batch) p.write();
        }),
      )();
      for (const p of batch) p.resolve();
    } catch {
      // One bad write must not sink the others: retry each in its own transaction.
      for (const p of batch) {
        try {
          this.db.transaction(() => this.around(p.write))();
          p.resolve();
        } catch (e) {
          p.reject(e);
        }
      }
    }
  }
}
