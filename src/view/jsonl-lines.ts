/**
 * Random access to the lines of a large JSONL file (a corpus's dataset.jsonl) for paging: one
 * streaming pass records where each line starts, then a page is one positioned read. The index
 * is remembered per file while its size and modification time stay the same. (By hand: the
 * JSONL readers in core/ and data/ read whole files, which a page of a large corpus must not.)
 */
import { createReadStream } from "node:fs";
import { open, stat } from "node:fs/promises";

const NEWLINE = 0x0a;

export class JsonlLines {
  private constructor(
    readonly file: string,
    /** Byte offset of each line's start, and one past the last line's end. */
    private readonly bounds: number[],
  ) {}

  get count(): number {
    return this.bounds.length - 1;
  }

  static async index(file: string, size: number): Promise<JsonlLines> {
    const bounds = [0];
    let at = 0;
    for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
      const buf = chunk as Buffer;
      for (let i = buf.indexOf(NEWLINE); i >= 0; i = buf.indexOf(NEWLINE, i + 1))
        bounds.push(at + i + 1);
      at += buf.length;
    }
    // A last line without its newline still counts.
    if (at > (bounds.at(-1) as number)) bounds.push(size);
    return new JsonlLines(file, bounds);
  }

  /** The text of lines [from, from + n) (fewer at the end), newlines removed. */
  async read(from: number, n: number): Promise<string[]> {
    const to = Math.min(this.count, from + n);
    if (from >= to) return [];
    const start = this.bounds[from] as number;
    const end = this.bounds[to] as number;
    const buf = Buffer.alloc(end - start);
    const fh = await open(this.file, "r");
    try {
      await fh.read(buf, 0, buf.length, start);
    } finally {
      await fh.close();
    }
    const out: string[] = [];
    for (let i = from; i < to; i++)
      out.push(
        buf
          .subarray((this.bounds[i] as number) - start, (this.bounds[i + 1] as number) - start)
          .toString("utf8")
          .replace(/\r?\n$/, ""),
      );
    return out;
  }
}

/** Indexes by file, rebuilt when the file changes (a corpus regenerated in place). */
export class JsonlIndexCache {
  private readonly cache = new Map<string, { stamp: string; lines: Promise<JsonlLines> }>();

  async lines(file: string): Promise<JsonlLines> {
    const s = await stat(file);
    const stamp = `${s.size}:${s.mtimeMs}`;
    const hit = this.cache.get(file);
    if (hit?.stamp === stamp) return hit.lines;
    const lines = JsonlLines.index(file, s.size);
    this.cache.set(file, { stamp, lines });
    lines.catch(() => this.cache.delete(file));
    return lines;
  }
}
