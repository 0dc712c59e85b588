/**
 * specsci as a library (`import … from "specsci"`): every module's public surface, which is also
 * all the CLI calls (it imports nothing else; `npm run lint` checks). Each module curates its own
 * in its `index.ts`; internals (migrations, the managed model, limiter, batch backends, cache,
 * providers) stay behind them, and test doubles are in `specsci/test`. Names are unique across
 * modules: a clash between two `export *` is a compile error here.
 */
export * from "./analysis/index.js";
export * from "./core/index.js";
export * from "./data/index.js";
export * from "./evals/index.js";
export * from "./experiment/index.js";
export * from "./llm/index.js";
export * from "./report/index.js";
export * from "./spec/index.js";
export * from "./store/index.js";
export * from "./train/index.js";
export * from "./view/index.js";
