/**
 * view's public surface: the dashboard server (`specsci view`) and the annotation routes it is
 * started with. The API, its pages and the single-page app are the dashboard's own.
 */
export { annotationsApi } from "./annotations.js";
export { startViewServer, type ViewServer, type ViewServerOptions } from "./server.js";
