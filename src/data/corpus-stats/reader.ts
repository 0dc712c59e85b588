/**
 * Reads a corpus file (`dataset.jsonl`) line by line. Lines are split from 1 MiB chunks by hand:
 * twice as fast as node:readline on 15 kB lines (see bench/msm-stats.ts).
 */
import { open } from "node:fs/promises";
import { SpecsciError } from "../../core/errors.js";

/** What the statistics read of one document. */
export interface CorpusLine {
  text: string;
  tokens: number;
  /** `(none)` when the document has none. */
  domain: string;
  docType: string;
}

const NONE = "(none)";
const CHUNK = 1 << 20;

/**
 * Calls `onDocument` with each document of `file` in order and `onChunk` with the bytes read so
 * far after each chunk. Blank lines are skipped; a malformed line is an error naming it.
 */
export async function readDocuments(
  file: string,
  onDocument: (doc: CorpusLine) => void,
  onChunk: (bytes: number) => void,
): Promise<void> {
  try {
    await forEachLine(
      file,
      (line, lineNo) => {
        const doc = parseLine(file, line, lineNo);
        if (doc) onDocument(doc);
      },
      onChunk,
    );
  } catch (err) {
    if (err instanceof SpecsciError) throw err;
    throw new SpecsciError(`cannot read corpus ${file}: ${(err as Error).message}`, {
      hint: "Pass the path of a readable corpus dataset.jsonl.",
      cause: err,
    });
  }
}

/**
 * Calls `onLine` with each line of `file` and `onChunk` with the bytes read so far after each
 * 1 MiB chunk. A line may span chunks: its pieces are joined as bytes. One buffer is read into
 * again and again: the new buffer per chunk that a read stream gives lives until the next garbage
 * collection, 43–67 MiB of them at the peak of bench/msm-stats.ts (2 MiB this way).
 */
export async function forEachLine(
  file: string,
  onLine: (line: string, lineNo: number) => void,
  onChunk: (bytes: number) => void = () => {},
): Promise<void> {
  const handle = await open(file, "r");
  try {
    const buffer = Buffer.allocUnsafe(CHUNK);
    let lineNo = 0;
    let bytes = 0;
    let pending: Buffer[] = [];
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, CHUNK, null);
      if (bytesRead === 0) break;
      const chunk = buffer.subarray(0, bytesRead);
      let start = 0;
      for (let nl = chunk.indexOf(10, start); nl !== -1; nl = chunk.indexOf(10, start)) {
        let line: string;
        if (pending.length > 0) {
          pending.push(chunk.subarray(start, nl));
          line = Buffer.concat(pending).toString("utf8");
          pending = [];
        } else line = chunk.toString("utf8", start, nl);
        onLine(line, ++lineNo);
        start = nl + 1;
      }
      // A copy: the buffer is overwritten by the next read.
      if (start < chunk.length) pending.push(Buffer.from(chunk.subarray(start)));
      bytes += bytesRead;
      onChunk(bytes);
    }
    if (pending.length > 0) onLine(Buffer.concat(pending).toString("utf8"), ++lineNo);
  } finally {
    await handle.close();
  }
}

/** One line as a document, or undefined for a blank line. */
function parseLine(file: string, raw: string, lineNo: number): CorpusLine | undefined {
  const line = lineNo === 1 && raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw;
  let doc: unknown;
  try {
    doc = JSON.parse(line);
  } catch (err) {
    if (line.trim() === "") return undefined; // blank lines are allowed
    throw malformed(file, lineNo, `not valid JSON (${(err as Error).message})`, err);
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc))
    throw malformed(file, lineNo, "not a JSON object");
  const { text, token_count: count, domain, doc_type: docType } = doc as Record<string, unknown>;
  if (typeof text !== "string")
    throw malformed(file, lineNo, text === undefined ? "no `text`" : "`text` is not a string");
  if (typeof count !== "number" || !Number.isInteger(count) || count < 0 || count > 0x7fffffff)
    throw malformed(
      file,
      lineNo,
      count === undefined
        ? "no `token_count`"
        : `\`token_count\` is not a non-negative integer (${JSON.stringify(count)})`,
    );
  return {
    text,
    tokens: count,
    domain: typeof domain === "string" ? domain : NONE,
    docType: typeof docType === "string" ? docType : NONE,
  };
}

function malformed(file: string, line: number, problem: string, cause?: unknown): SpecsciError {
  return new SpecsciError(`${file}:${line}: ${problem}`, {
    hint: "Each line of a corpus file must be one JSON object with a string `text` and a non-negative integer `token_count`; repair or remove the line (or regenerate the corpus).",
    cause,
  });
}
