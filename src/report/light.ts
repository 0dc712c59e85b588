/**
 * The part of report's public surface that loads nothing heavy: the number formats of its table
 * cells, for commands that print a figure the way the report does without building one. All of
 * it is in `index.ts` too.
 */
export { kappaOrReason, pct } from "./tables.js";
