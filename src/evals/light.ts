/**
 * The part of evals' public surface that loads nothing else: the defaults the CLI's command tree
 * shows in its help before any command runs. All of it is in `index.ts` too.
 */
export { DEFAULT_TOGGLES, type Toggles } from "./am/toggles.js";
