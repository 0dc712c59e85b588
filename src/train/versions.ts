/**
 * The versions of the Python packages a training run used (axolotl, transformers, peft, torch,
 * accelerate, deepspeed), read from the interpreter that runs axolotl: its console script names
 * that interpreter on its first line (`#!/…/python`). SPECSCI_PYTHON overrides it. A package that
 * is not installed is recorded as null; an interpreter that cannot be asked leaves a reason.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { envSetting } from "../core/env.js";
import { findExecutable } from "../core/executable.js";

export const PACKAGES = ["axolotl", "transformers", "peft", "torch", "accelerate", "deepspeed"];

export type EngineVersions =
  | { python: string; packages: Record<string, string | null> }
  | { python: null; error: string };

const PROBE = `import json, importlib.metadata as m
def v(p):
    try:
        return m.version(p)
    except Exception:
        return None
print(json.dumps({p: v(p) for p in ${JSON.stringify(PACKAGES)}}))`;

/** The interpreter behind a console script, from its `#!` line, when it is a Python. */
function interpreterOf(executable: string): string | undefined {
  const path = findExecutable(executable);
  if (!path) return undefined;
  try {
    const first = readFileSync(path, "utf8").slice(0, 300).split("\n")[0] ?? "";
    const m = /^#!\s*(\S*python[\d.]*)\s*$/.exec(first);
    return m?.[1];
  } catch {
    return undefined;
  }
}

export function engineVersions(axolotl: string): EngineVersions {
  const python = envSetting("SPECSCI_PYTHON") ?? interpreterOf(axolotl);
  if (!python)
    return {
      python: null,
      error: `${axolotl} is not a Python console script; set SPECSCI_PYTHON to record package versions`,
    };
  const r = spawnSync(python, ["-c", PROBE], { encoding: "utf8", timeout: 60_000 });
  if (r.error || r.status !== 0)
    return {
      python: null,
      error: `${python} could not be asked: ${r.error?.message ?? r.stderr.trim().split("\n").at(-1)}`,
    };
  try {
    return { python, packages: JSON.parse(r.stdout) as Record<string, string | null> };
  } catch {
    return { python: null, error: `${python} answered ${r.stdout.slice(0, 200)}` };
  }
}
