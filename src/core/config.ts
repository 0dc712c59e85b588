/**
 * The workspace configuration file (`specsci.yaml`): where it is, and reading it against a schema.
 * What the file may hold is composed by the modules that own the settings: today every section
 * belongs to the model layer (llm/config.ts), which core does not know about (core is below it).
 * Every field is optional; `specsci.yaml` may be absent. Invalid files fail with
 * `file:line:col: setting: problem` so the user knows exactly what to fix.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import type { z } from "zod";
import { envSetting } from "./env.js";
import { readUserFile } from "./fs.js";
import { parseYamlWithSchema } from "./yaml-schema.js";

export const CONFIG_FILE_NAME = "specsci.yaml";

/** Where the config file is: an explicit path, then SPECSCI_CONFIG, then ./specsci.yaml if present. */
export function findConfigFile(explicit?: string): string | undefined {
  if (explicit) return resolve(explicit);
  const fromEnv = envSetting("SPECSCI_CONFIG");
  if (fromEnv) return resolve(fromEnv);
  const local = resolve(CONFIG_FILE_NAME);
  return existsSync(local) ? local : undefined;
}

/** Reads the config file (see findConfigFile) against `schema`; with none, the schema's defaults. */
export function loadConfigFile<S extends z.ZodType>(
  schema: S,
  path?: string,
): { config: z.infer<S>; path: string | undefined } {
  const file = findConfigFile(path);
  if (!file) return { config: schema.parse({}), path: undefined };
  const text = readUserFile(file, "config file", {
    from: path ? "--config" : "SPECSCI_CONFIG",
    hint: "give an existing specsci.yaml, or none for the defaults",
  });
  return { config: parseConfigText(schema, text, file), path: file };
}

/** Parses and validates config text; errors name the file, line, column and setting. */
export function parseConfigText<S extends z.ZodType>(
  schema: S,
  text: string,
  file: string,
): z.infer<S> {
  return parseYamlWithSchema(text, file, schema, "see the Configuration section of the README");
}
