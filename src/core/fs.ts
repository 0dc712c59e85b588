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
import { dirname, isAbsolute, relative, resolve } from "node:path";
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

/**
 * Where a path the user gave came from, for the message when it is wrong: the argument or option
 * (`-r/--recipe`), or the setting and its file (`training.data.msm in experiment.yaml`).
 */
export interface UserPathOrigin {
  from?: string | undefined;
  hint?: string | undefined;
}

/** A file the user named, read whole; a missing or unreadable one is an error naming it. */
export function readUserFile(file: string, what: string, origin: UserPathOrigin = {}): string {
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    throw userPathError(e as NodeJS.ErrnoException, file, what, origin);
  }
}

/** A path the user named that must exist as a file or a directory; returns it. */
export function requireUserPath(
  path: string,
  what: string,
  kind: "file" | "dir",
  origin: UserPathOrigin = {},
): string {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch (e) {
    throw userPathError(e as NodeJS.ErrnoException, path, what, origin);
  }
  if (isDir !== (kind === "dir"))
    throw userPathError(
      Object.assign(new Error(), { code: isDir ? "EISDIR" : "ENOTDIR" }),
      path,
      what,
      origin,
    );
  return path;
}

/** One clear sentence for the usual ways a user's path is wrong, instead of a raw ENOENT. */
function userPathError(
  e: NodeJS.ErrnoException,
  path: string,
  what: string,
  origin: UserPathOrigin,
): SpecsciError {
  const from = origin.from ? ` (${origin.from})` : "";
  const problem =
    e.code === "ENOENT"
      ? "does not exist"
      : e.code === "EISDIR"
        ? "is a directory, not a file"
        : e.code === "ENOTDIR"
          ? "is not a directory"
          : e.code === "EACCES" || e.code === "EPERM"
            ? "cannot be read (permission denied)"
            : `cannot be read: ${e.message}`;
  const hint =
    origin.hint ??
    (e.code === "ENOENT" && !isAbsolute(path)
      ? `check the path; relative paths are taken from ${process.cwd()}`
      : "check the path");
  return new SpecsciError(`${what} ${path}${from} ${problem}`, { hint, cause: e });
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

/** A path as the user would type it from the working directory (absolute when outside it). */
export function displayPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel.startsWith("..") ? path : rel;
}
