import { redact } from "./secrets.js";

/**
 * Errors a user can cause and fix (a bad file, a missing key, an unreachable server). The CLI prints
 * `message` (and `hint`) as one clear line and exits non-zero; it never shows a stack for these.
 * Anything else that is thrown is an internal invariant and is reported as a bug.
 */
export class SpecsciError extends Error {
  readonly hint: string | undefined;
  readonly exitCode: number;
  constructor(
    message: string,
    options: { hint?: string; exitCode?: number; cause?: unknown } = {},
  ) {
    // Scrubbed here, once: the message may quote a server that echoed a key, and it is printed,
    // logged and stored (a training stage's failure reason) from many places.
    super(redact(message), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "SpecsciError";
    this.hint = options.hint === undefined ? undefined : redact(options.hint);
    this.exitCode = options.exitCode ?? 1;
  }
}
