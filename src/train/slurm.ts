import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../core/fs.js";
import { axolotlConfigs, configText, runDirOf, slurmScript } from "./axolotl.js";
import { resolveData } from "./data.js";
import { writeSupportFiles } from "./launcher.js";
import { parentStage } from "./parent.js";
import type { LoadedPlan } from "./plan.js";

/** Writes one seed's configs and its Slurm script; returns the script's path. */
export async function writeRunFiles(loaded: LoadedPlan, seed: number): Promise<string> {
  const configs = axolotlConfigs(
    loaded,
    seed,
    await resolveData(loaded),
    await parentStage(loaded, seed),
  );
  const dir = runDirOf(loaded, seed);
  mkdirSync(dir, { recursive: true });
  for (const c of configs) writeFileAtomic(c.path, configText(c));
  writeSupportFiles(configs, dir);
  const script = join(dir, "slurm.sh");
  writeFileAtomic(script, slurmScript(loaded, seed, configs));
  return script;
}
