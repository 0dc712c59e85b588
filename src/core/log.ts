import { redact } from "./secrets.js";

export type LogLevel = "quiet" | "normal" | "verbose";

let level: LogLevel = "normal";

export function setLogLevel(l: LogLevel): void {
  level = l;
}

/** Diagnostics go to stderr (stdout is for results and --json); secrets are scrubbed. */
export const log = {
  warn(message: string): void {
    if (level !== "quiet") process.stderr.write(`warning: ${redact(message)}\n`);
  },
  info(message: string): void {
    if (level !== "quiet") process.stderr.write(`${redact(message)}\n`);
  },
  debug(message: string): void {
    if (level === "verbose") process.stderr.write(`debug: ${redact(message)}\n`);
  },
};
