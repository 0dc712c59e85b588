/**
 * `node --import ./scripts/loaded-modules.mjs …` appends the URL of every ES module the process
 * loads (a CommonJS package appears by its entry) to the file named by SPECSCI_LOADED_MODULES:
 * how the CLI's start-up is checked for libraries it should not load (bench/cli-start.ts, the
 * CLI tests). The hooks run on their own thread, where this same file is loaded again.
 */
import { appendFileSync } from "node:fs";
import { register } from "node:module";
import { isMainThread } from "node:worker_threads";

if (isMainThread) register(import.meta.url);

export async function load(url, context, next) {
  const loaded = await next(url, context);
  appendFileSync(process.env.SPECSCI_LOADED_MODULES, `${url}\n`);
  return loaded;
}
