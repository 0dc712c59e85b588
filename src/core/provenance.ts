import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { packageVersion } from "./package-version.js";

export { packageVersion };

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

export interface CodeVersion {
  package: string;
  version: string;
  /** The git commit specsci runs from, when it runs from a checkout. */
  commit: string | null;
  /** Uncommitted changes in that checkout. */
  dirty: boolean | null;
}

let cached: CodeVersion | undefined;
/** Which specsci produced a result: package version, and the git commit when there is one. */
export function codeVersion(): CodeVersion {
  if (cached) return cached;
  const pkg = packageVersion();
  let commit: string | null = null;
  let dirty: boolean | null = null;
  try {
    commit = execFileSync("git", ["rev-parse", "HEAD"], {
      cwd: ROOT,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
    dirty =
      execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], {
        cwd: ROOT,
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
      }).trim() !== "";
  } catch {
    // Not a git checkout (an npm install): the package version is the provenance.
  }
  cached = { package: pkg.name, version: pkg.version, commit, dirty };
  return cached;
}
