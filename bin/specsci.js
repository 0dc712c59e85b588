#!/usr/bin/env node
// The specsci command. The TypeScript sources are compiled to dist/ by `npm install` (prepare).
let main;
try {
  ({ main } = await import("../dist/cli/main.js"));
} catch (e) {
  if (e && e.code === "ERR_MODULE_NOT_FOUND" && String(e.message).includes("dist/cli/main.js")) {
    process.stderr.write(
      "specsci: error: specsci is not built yet\n  hint: run `npm install` (or `npm run build`) in the specsci directory\n",
    );
    process.exit(1);
  }
  throw e;
}
process.exitCode = await main(process.argv);
