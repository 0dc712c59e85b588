import { readFileSync } from "node:fs";

let cached: { name: string; version: string } | undefined;

/**
 * specsci's package name and version (package.json), without asking git for the commit. Apart
 * from provenance.ts, which starts git, so that `specsci --version` and the help load nothing more.
 */
export function packageVersion(): { name: string; version: string } {
  cached ??= JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    name: string;
    version: string;
  };
  return cached;
}
