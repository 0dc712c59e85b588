import { createHash } from "node:crypto";

const MOD = 1n << 256n;

/**
 * A content hash of a table that two backends agree on when they hold the same rows. Each value
 * is hashed as what the store means, not as its driver's type: an integer, a real, a text, a
 * null or bytes (PostgreSQL's bigint, double and boolean come back from postgres.ts as SQLite's
 * numbers; a number is integer or real by its value, as SQLite's affinity stores it). Rows are
 * combined by adding their digests (mod 2^256), so the hash does not depend on the order rows are
 * read in: PostgreSQL orders text keys by its collation, SQLite by bytes, and sorting either way
 * would cost the other backend its index. A sum detects the accidents a copy can have (a lost,
 * changed or extra row), not an adversary.
 */
export class TableHash {
  private sum = 0n;
  rows = 0;

  constructor(private readonly columns: string[]) {}

  /** One row, its values in `columns`' order. */
  add(values: readonly unknown[]): void {
    const h = createHash("sha256");
    for (const v of values) h.update(encodeValue(v));
    this.sum = (this.sum + BigInt(`0x${h.digest("hex")}`)) % MOD;
    this.rows++;
  }

  /** The columns (by name, in any order they were listed) and the rows together. */
  digest(): string {
    const names = createHash("sha256")
      .update([...this.columns].sort().join("\u0000"))
      .digest();
    const h = createHash("sha256").update(names).update(this.sum.toString(16).padStart(64, "0"));
    return h.digest("hex");
  }
}

/** A tag, the length and the bytes: no two different values encode alike. */
export function encodeValue(v: unknown): Buffer {
  if (v === null || v === undefined) return Buffer.from("n");
  if (typeof v === "bigint") return tagged("i", Buffer.from(v.toString()));
  if (typeof v === "number")
    return tagged(
      Number.isInteger(v) ? "i" : "r",
      Buffer.from(Number.isInteger(v) ? v.toFixed(0) : String(v)),
    );
  if (typeof v === "string") return tagged("s", Buffer.from(v, "utf8"));
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) return tagged("b", Buffer.from(v));
  throw new Error(`store copy: a value of type ${typeof v} has no neutral form`);
}

function tagged(tag: string, bytes: Buffer): Buffer {
  const head = Buffer.alloc(9);
  head.write(tag, 0, "latin1");
  head.writeBigUInt64BE(BigInt(bytes.length), 1);
  return Buffer.concat([head, bytes]);
}
