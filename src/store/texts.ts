import { sha256Hex } from "../core/hash.js";
import type { SqlDatabase, SqlStatement } from "./database.js";

/** Strings stored once by content hash (long prompts repeat across thousands of requests). */
export class Texts {
  private readonly insert: SqlStatement;
  private readonly select: SqlStatement;

  constructor(db: SqlDatabase) {
    this.insert = db.prepare(
      "INSERT INTO texts (hash, body) VALUES (?, ?) ON CONFLICT (hash) DO NOTHING",
    );
    this.select = db.prepare("SELECT body FROM texts WHERE hash = ?");
  }

  put(body: string): string {
    const hash = sha256Hex(body);
    this.insert.run(hash, body);
    return hash;
  }

  /** `put` for a caller that has the hash already (`hash` must be the SHA-256 of `body`). */
  putHashed(hash: string, body: string): void {
    this.insert.run(hash, body);
  }

  get(hash: string): string {
    const row = this.select.get(hash) as { body: string } | undefined;
    if (!row) throw new Error(`run store: text ${hash} is missing`);
    return row.body;
  }
}
