import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { dirname, resolve } from "node:path";
import { SpecsciError } from "./errors.js";

/**
 * Writes a file whole or not at all: a temporary file beside it, renamed into place, so a reader
 * (or a crash) never sees half a file. Missing directories above it are created.
 */
export function writeFileAtomic(path: string, content: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
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

/**
 * Checks an output path the user gave (`from`: the argument or setting, e.g. `-o/--out`) before
 * any work is done, so that a long run never ends in failing to write its result: a file must not
 * be a directory, a directory must not be a file, and the nearest existing directory above it must
 * be a writable directory (missing ones are created on writing). Returns the absolute path.
 */
export function checkOutputPath(path: string, kind: "file" | "dir", from: string): string {
  const abs = resolve(path);
  const fail = (problem: string, hint: string) =>
    new SpecsciError(`${from} ${path}: ${problem}`, { hint });
  if (existsSync(abs)) {
    const isDir = statSync(abs).isDirectory();
    if (kind === "file" && isDir)
      throw fail("is a directory", "give the name of a file (it may be in that directory)");
    if (kind === "dir" && !isDir)
      throw fail("is a file, not a directory", "give a directory (a new one is created)");
  }
  let above = kind === "dir" && existsSync(abs) ? abs : dirname(abs);
  while (!existsSync(above)) above = dirname(above);
  if (!statSync(above).isDirectory())
    throw fail(`${above} is a file, not a directory`, "give a path whose parents are directories");
  try {
    accessSync(above, constants.W_OK);
  } catch {
    throw fail(`cannot write in ${above} (permission denied)`, "give a path you can write to");
  }
  return abs;
}
