/**
 * The part of core's public surface that loads nothing else: what the CLI's start-up path (its
 * command tree and error report) needs before any command runs. All of it is in `index.ts` too.
 */
export { envSetting } from "./env.js";
export { SpecsciError } from "./errors.js";
export { packageVersion } from "./package-version.js";
export { redact } from "./secrets.js";
