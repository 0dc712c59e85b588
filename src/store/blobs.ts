import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { sha256Hex } from "../core/hash.js";
import type { SqlDatabase } from "./database.js";

/**
 * Content-addressed files beside the database for large artifacts (corpora, exports). A blob is
 * written to a temporary file, flushed and renamed into place, so a crash leaves either the whole
 * blob or none of it, never a torn file under its hash.
 */
export class BlobStore {
  constructor(readonly dir: string) {}

  pathOf(hash: string): string {
    if (!/^[0-9a-f]{64}$/.test(hash)) throw new Error(`not a blob hash: ${hash}`);
    return join(this.dir, hash.slice(0, 2), hash.slice(2));
  }

  put(data: string | Uint8Array): string {
    const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
    const hash = sha256Hex(bytes);
    const path = this.pathOf(hash);
    if (existsSync(path)) return hash;
    mkdirSync(join(this.dir, hash.slice(0, 2)), { recursive: true });
    const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
    const fd = openSync(tmp, "w");
    try {
      writeSync(fd, bytes);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
    return hash;
  }

  has(hash: string): boolean {
    return existsSync(this.pathOf(hash));
  }

  get(hash: string): Buffer {
    return readFileSync(this.pathOf(hash));
  }
}

/**
 * A PostgreSQL store's blobs: rows of a table (migration 3), so every driver of a team sees the
 * same ones without a shared file system (whose renames need not be atomic across machines). A
 * row lands whole or not at all, as a file renamed into place does.
 */
export class DatabaseBlobStore extends BlobStore {
  constructor(private readonly db: SqlDatabase) {
    super("");
  }

  override pathOf(hash: string): string {
    throw new Error(`blob ${hash} is a row of the PostgreSQL store, not a file`);
  }

  override put(data: string | Uint8Array): string {
    const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
    const hash = sha256Hex(bytes);
    this.db
      .prepare("INSERT INTO blobs (hash, data) VALUES (?, ?) ON CONFLICT (hash) DO NOTHING")
      .run(hash, bytes);
    return hash;
  }

  override has(hash: string): boolean {
    return this.db.prepare("SELECT 1 FROM blobs WHERE hash = ?").get(hash) !== undefined;
  }

  override get(hash: string): Buffer {
    const data = this.db.prepare("SELECT data FROM blobs WHERE hash = ?").pluck().get(hash);
    if (!Buffer.isBuffer(data)) throw new Error(`run store: blob ${hash} is missing`);
    return data;
  }
}
