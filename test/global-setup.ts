import { execFileSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * CLI tests run the real `specsci` binary, which runs the compiled dist/: build it once, with
 * the dashboard's app (dist/view/app), which the view tests serve.
 */
export default function setup(): void {
  const root = join(dirname(fileURLToPath(import.meta.url)), "..");
  const run = (script: string, args: string[]) =>
    execFileSync(process.execPath, [join(root, script), ...args], { cwd: root, stdio: "inherit" });
  run("node_modules/typescript/bin/tsc", ["-p", "tsconfig.build.json"]);
  run("node_modules/vite/bin/vite.js", ["build", "--config", "src/view/web/vite.config.ts"]);
}
