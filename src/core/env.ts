import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parse } from "dotenv";

/**
 * Loads `.env` from the current directory (or SPECSCI_ENV_FILE) into process.env without
 * overriding variables that are already set (empty ones count as unset). Keys stay in the
 * environment: nothing copies them anywhere else.
 */
export function loadEnvFile(path = envVar("SPECSCI_ENV_FILE") ?? ".env"): string | undefined {
  const file = resolve(path);
  if (!existsSync(file)) return undefined;
  for (const [name, value] of Object.entries(parse(readFileSync(file)))) {
    if (envVar(name) === undefined) process.env[name] = value;
  }
  return file;
}

/** An environment variable's value; empty counts as unset (as shells and CI templates leave them). */
export function envVar(name: string): string | undefined {
  const v = process.env[name];
  return v === undefined || v === "" ? undefined : v;
}
