import { resolve } from "node:path";
import { envSetting, SPECSCI_ENV } from "./env.js";

export const DEFAULT_WORKSPACE_DIR = SPECSCI_ENV.SPECSCI_WORKSPACE.default;

/**
 * The workspace directory holding the run store and its artifacts: an explicit flag, then
 * SPECSCI_WORKSPACE, then `.specsci/` in the current directory.
 */
export function resolveWorkspaceDir(explicit?: string): string {
  return resolve(explicit ?? envSetting("SPECSCI_WORKSPACE"));
}
