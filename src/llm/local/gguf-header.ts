import { closeSync, openSync, readSync, statSync } from "node:fs";
import { GGUF_MAGIC } from "./gguf-writer.js";

export interface GgufHeader {
  version: number;
  tensorCount: number;
  metadataCount: number;
  sizeBytes: number;
}

/**
 * Reads and sanity-checks a GGUF header in JS, before llama.cpp ever sees the file: random bytes,
 * HTML error pages saved as .gguf and truncated downloads are caught here with a plain message.
 * Returns a reason string instead of throwing so callers can word the error for their context.
 */
export function readGgufHeader(path: string): GgufHeader | { problem: string } {
  let size: number;
  try {
    size = statSync(path).size;
  } catch (e) {
    return {
      problem: `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    };
  }
  if (size < 24) return { problem: `${path} is too small to be a GGUF model (${size} bytes)` };
  const buf = Buffer.alloc(24);
  const fd = openSync(path, "r");
  try {
    readSync(fd, buf, 0, 24, 0);
  } finally {
    closeSync(fd);
  }
  if (buf.toString("latin1", 0, 4) !== GGUF_MAGIC) {
    return { problem: `${path} is not a GGUF model file (it does not start with "GGUF")` };
  }
  const version = buf.readUInt32LE(4);
  if (version < 2 || version > 3)
    return { problem: `${path} has unsupported GGUF version ${version}` };
  const tensorCount = Number(buf.readBigUInt64LE(8));
  const metadataCount = Number(buf.readBigUInt64LE(16));
  if (tensorCount > 1e6 || metadataCount > 1e6) {
    return { problem: `${path} has an implausible GGUF header (corrupt file?)` };
  }
  return { version, tensorCount, metadataCount, sizeBytes: size };
}
