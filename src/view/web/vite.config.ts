import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

/**
 * The dashboard's single-page app, built by `npm run build` (run by `npm install`) into
 * dist/view/app, where `specsci view` serves it: no build step and no network at view time.
 */
export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "/",
  logLevel: "warn",
  // Preact's JSX runtime, as the app's tsconfig says (no Babel preset needed).
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  resolve: { alias: { react: "preact/compat", "react-dom": "preact/compat" } },
  build: {
    outDir: fileURLToPath(new URL("../../../dist/view/app", import.meta.url)),
    emptyOutDir: true,
    // vega is large; one chunk served from loopback is fine.
    chunkSizeWarningLimit: 4000,
    sourcemap: false,
  },
});
