import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { parse } from "dotenv";

/**
 * specsci's own environment variables, each named here once with its default and what it sets,
 * and read through `envSetting`. Variables that follow another project's convention (provider API
 * keys through secrets.ts, `ANTHROPIC_BASE_URL`, `OPENAI_BASE_URL`, `TOGETHER_BASE_URL`,
 * `HF_TOKEN`, `HF_ENDPOINT`) are read with `envVar` where that convention applies.
 */
export const SPECSCI_ENV = {
  SPECSCI_ENV_FILE: {
    default: ".env",
    doc: "the dotenv file loaded at start; variables already set keep their values",
  },
  SPECSCI_WORKSPACE: {
    default: ".specsci",
    doc: "the workspace directory (run store and blobs); --workspace wins",
  },
  SPECSCI_STORE_URL: {
    doc: "a PostgreSQL run store shared by a team (postgres://user@host:port/db); unset, the workspace's SQLite file; wins over store: in specsci.yaml",
  },
  SPECSCI_CONFIG: {
    doc: "the specsci.yaml to load; --config wins; unset, ./specsci.yaml when there is one",
  },
  SPECSCI_DEBUG: { doc: "set (to anything): internal errors print their stack trace" },
  SPECSCI_MODEL_CACHE: {
    default: () => join(homedir(), ".cache", "specsci", "models"),
    doc: "where GGUF models downloaded for the local provider are kept",
  },
  SPECSCI_AXOLOTL: { default: "axolotl", doc: "the axolotl executable that training runs" },
  SPECSCI_PYTHON: {
    doc: "the Python whose package versions a training run records; unset, the one on axolotl's #! line",
  },
  SPECSCI_VLLM: { default: "vllm", doc: "the vLLM executable that serves trained models" },
  SPECSCI_NVIDIA_SMI: {
    default: "nvidia-smi",
    doc: "the nvidia-smi that train serve asks for the GPUs (count and memory) it plans servers on",
  },
  SPECSCI_SGLANG: {
    default: "python",
    doc: "the Python that runs SGLang's server (`-m sglang.launch_server`) for trained models",
  },
} as const satisfies Record<string, { default?: string | (() => string); doc: string }>;

export type SpecsciVariable = keyof typeof SPECSCI_ENV;

/** The variables with a default: reading one always gives a value. */
type Defaulted = {
  [K in SpecsciVariable]: (typeof SPECSCI_ENV)[K] extends { default: unknown } ? K : never;
}[SpecsciVariable];

/** One of specsci's variables: its value when set (empty counts as unset), else its default. */
export function envSetting<N extends SpecsciVariable>(
  name: N,
): N extends Defaulted ? string : string | undefined {
  const fallback = (SPECSCI_ENV[name] as { default?: string | (() => string) }).default;
  const value = envVar(name) ?? (typeof fallback === "function" ? fallback() : fallback);
  return value as N extends Defaulted ? string : string | undefined;
}

/**
 * Loads `.env` from the current directory (or SPECSCI_ENV_FILE) into process.env without
 * overriding variables that are already set (empty ones count as unset). Keys stay in the
 * environment: nothing copies them anywhere else.
 */
export function loadEnvFile(path = envSetting("SPECSCI_ENV_FILE")): string | undefined {
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
