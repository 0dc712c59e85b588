/**
 * core's public surface: errors, the environment and secrets, hashing, logging and progress,
 * workspace and user paths, the number format of tables, provenance, small statistics. Config
 * composition, prompt files, text helpers and the rest stay internal to the modules that use them.
 */
export { envSetting, envVar, loadEnvFile, SPECSCI_ENV, type SpecsciVariable } from "./env.js";
export { SpecsciError } from "./errors.js";
export { formatCount } from "./format.js";
export {
  checkOutputPath,
  displayPath,
  readUserFile,
  requireUserPath,
  type UserPathOrigin,
  writeFileAtomic,
} from "./fs.js";
export { canonicalJson, hashValue, sha256Hex } from "./hash.js";
export { parseJsonl, readJsonl } from "./jsonl.js";
export { atomicLineFile, type LineSink, readLines, stdoutLines } from "./lines.js";
export { type LogLevel, log, setLogLevel } from "./log.js";
export { packageVersion } from "./package-version.js";
export { createProgress, disableProgress, type Progress } from "./progress.js";
export { type CodeVersion, codeVersion } from "./provenance.js";
export { readSecret, redact } from "./secrets.js";
export { mean, stderr, wilson, Z95 } from "./stats.js";
export { DEFAULT_WORKSPACE_DIR, resolveWorkspaceDir } from "./workspace.js";
