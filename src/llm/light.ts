/**
 * The part of llm's public surface that loads nothing else: what the CLI's start-up path (its
 * command tree's defaults and its error report) needs before any command runs. All of it is in
 * `index.ts` too.
 */
export { DEFAULT_MODELS, type ModelRole } from "./default-models.js";
export { ModelCallError } from "./errors.js";
