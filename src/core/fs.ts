import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { SpecsciError } from "./errors.js";

/**
 * Writes a file whole or not at all: a temporary file beside it, renamed into place, so a reader
 * (or a crash) never sees half a file.
 */
export function writeFileAtomic(path: string, content: string | Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, content);
  renameSync(tmp, path);
}

/** A file the user named, read whole; a missing or unreadable one is an error naming it. */
export function readUserFile(file: string, what: string, hint?: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    throw new SpecsciError(
      `cannot read ${what} ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      hint ? { hint } : {},
    );
  }
}
