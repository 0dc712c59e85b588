/**
 * What the quick spec commands (`spec list`, `spec show`) need: reading, checking and measuring a
 * spec, without the transforms and their model access (the LLM layer, the store). Heavier than
 * `light.ts` (it loads the Markdown parser and the front-matter schema), so not for the CLI's
 * start-up path. All of it is in `index.ts` too.
 */
export { checkSpecFile } from "./io.js";
export { libraryFiles, listLibrary, resolveSpecRef } from "./library.js";
export { withoutPositions } from "./model.js";
export { specStats } from "./stats.js";
