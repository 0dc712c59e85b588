import { resolve } from "node:path";
import { envVar } from "./env.js";

export const DEFAULT_WORKSPACE_DIR = ".specsci";

/**
 * The workspace directory holding the run store and its artifacts: an explicit flag, then
 * SPECSCI_WORKSPACE, then `.specsci/` in the current directory.
 */
export function resolveWorkspaceDir(explicit?: string): string {
  return resolve(explicit ?? envVar("SPECSCI_WORKSPACE") ?? DEFAULT_WORKSPACE_DIR);
}
