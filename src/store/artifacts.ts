import { canonicalJson } from "../core/hash.js";
import { nowIso } from "../core/time.js";
import type { BlobStore } from "./blobs.js";
import type { SqlDatabase } from "./database.js";

export interface ArtifactRecord {
  key: string;
  kind: string;
  content: string;
  meta: unknown;
  createdAt: string;
}

/**
 * Derived artifacts by content key: the key hashes the inputs (parent hashes, transform,
 * parameters, model, prompt version), so an artifact is made once and reused while its inputs are
 * unchanged. The blob is written (and flushed) before its row, so a row never points at nothing.
 */
export class Artifacts {
  constructor(
    private readonly db: SqlDatabase,
    private readonly blobs: BlobStore,
  ) {}

  get(key: string): ArtifactRecord | undefined {
    const row = this.db.prepare("SELECT * FROM artifacts WHERE key = ?").get(key) as
      | { key: string; kind: string; blob: string; meta: string; created_at: string }
      | undefined;
    if (!row) return undefined;
    return {
      key: row.key,
      kind: row.kind,
      content: this.blobs.get(row.blob).toString("utf8"),
      meta: JSON.parse(row.meta),
      createdAt: row.created_at,
    };
  }

  put(key: string, kind: string, content: string, meta: unknown): void {
    const blob = this.blobs.put(content);
    this.db
      .prepare(
        `INSERT INTO artifacts (key, kind, blob, meta, created_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET kind = excluded.kind, blob = excluded.blob,
           meta = excluded.meta, created_at = excluded.created_at`,
      )
      .run(key, kind, blob, canonicalJson(meta), nowIso());
  }

  /** Removes an artifact's row (its blob stays: blobs are shared by content). */
  delete(key: string): void {
    this.db.prepare("DELETE FROM artifacts WHERE key = ?").run(key);
  }

  /** Every artifact of one kind, oldest first. */
  list(kind: string): ArtifactRecord[] {
    const rows = this.db
      .prepare("SELECT key FROM artifacts WHERE kind = ? ORDER BY created_at, key")
      .all(kind) as { key: string }[];
    return rows.map((r) => this.get(r.key) as ArtifactRecord);
  }
}
