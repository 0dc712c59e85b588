import { renameSync, writeFileSync } from "node:fs";

/**
 * Writes a file whole or not at all: a temporary file beside it, renamed into place, so a reader
 * (or a crash) never sees half a file.
 */
export function writeFileAtomic(path: string, content: string | Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, content);
  renameSync(tmp, path);
}
