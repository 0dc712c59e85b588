/**
 * Line-at-a-time files, for inputs and outputs too large to hold whole (a request file of a
 * million prompts and its results): a reader that also hashes the bytes it reads, and writers
 * that wait when the disk or the pipe is behind.
 */
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream, mkdirSync, renameSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import type { Writable } from "node:stream";
import { StringDecoder } from "node:string_decoder";

/** One line of a file, without its "\n", and its number (from 1). */
export interface NumberedLine {
  text: string;
  number: number;
}

/**
 * The lines of a UTF-8 file, read in chunks; `hash.digest()` once they are all read is the
 * SHA-256 of the file's bytes. Written here rather than with readline, which splits lines just
 * as well but does not hand over the bytes it reads for the hash.
 */
export function readLines(path: string): {
  lines: AsyncGenerator<NumberedLine>;
  sha256: () => string;
} {
  const hash = createHash("sha256");
  let digest: string | undefined;
  async function* lines(): AsyncGenerator<NumberedLine> {
    const decoder = new StringDecoder("utf8");
    let rest = "";
    let number = 0;
    for await (const chunk of createReadStream(path)) {
      hash.update(chunk as Buffer);
      const text = rest + decoder.write(chunk as Buffer);
      let start = 0;
      for (let end = text.indexOf("\n"); end !== -1; end = text.indexOf("\n", start)) {
        yield { text: text.slice(start, end), number: ++number };
        start = end + 1;
      }
      rest = text.slice(start);
    }
    rest += decoder.end();
    digest = hash.digest("hex");
    if (rest) yield { text: rest, number: ++number };
  }
  return {
    lines: lines(),
    sha256: () => {
      if (digest === undefined) throw new Error("readLines: the file is not read to its end yet");
      return digest;
    },
  };
}

/** Where lines go, one after another. */
export interface LineSink {
  /** Resolves when the line is taken (at once, unless the writer is behind). */
  write(text: string): Promise<void>;
  /** Everything written is in place. */
  commit(): Promise<void>;
  /** The work failed or stopped: nothing of it is left as a result. */
  discard(): void;
}

/**
 * A file written line by line that appears whole or not at all: lines go to `PATH.partial`
 * beside it, renamed to PATH on commit, so a crash part-way (even kill -9) leaves no partial
 * PATH. A re-run writes the same `.partial` again, so a killed run's leftover is replaced.
 */
export function atomicLineFile(path: string): LineSink {
  mkdirSync(dirname(path), { recursive: true });
  const partial = `${path}.partial`;
  const stream = createWriteStream(partial);
  const sink = streamSink(stream);
  return {
    write: sink.write,
    commit: async () => {
      await sink.end();
      renameSync(partial, path);
    },
    discard: () => {
      stream.destroy();
      rmSync(partial, { force: true });
    },
  };
}

/** Lines to standard output (nothing to take back once written). */
export function stdoutLines(): LineSink {
  const sink = streamSink(process.stdout);
  return { write: sink.write, commit: async () => {}, discard: () => {} };
}

/** A writable with backpressure: a write waits for "drain" when the stream's buffer is full. */
function streamSink(stream: Writable) {
  let failed: Error | undefined;
  stream.on("error", (e) => {
    failed ??= e;
  });
  const check = () => {
    if (failed) throw failed;
  };
  return {
    write: async (text: string) => {
      check();
      if (stream.write(`${text}\n`)) return;
      await new Promise<void>((resolve) => {
        const done = () => {
          stream.off("drain", done);
          stream.off("error", done);
          resolve();
        };
        stream.once("drain", done);
        stream.once("error", done);
      });
      check();
    },
    end: () =>
      new Promise<void>((resolve, reject) => {
        check();
        stream.end((e?: Error | null) => (e || failed ? reject(e ?? failed) : resolve()));
      }),
  };
}
