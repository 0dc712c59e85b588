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
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "SpecsciError";
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? 1;
  }
}
