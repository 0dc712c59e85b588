/** The specsci library: everything the CLI does is a call into these modules. */
export * from "./core/index.js";
export * from "./data/index.js";
export * from "./evals/index.js";
export * from "./llm/index.js";
export * from "./spec/index.js";
export * from "./store/index.js";
export * from "./train/index.js";
