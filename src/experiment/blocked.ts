/**
 * What `specsci run` could not do on this machine (train a model without the engine, serve one
 * without a GPU…), grouped for the person who has to do it: one entry per distinct reason, and
 * the commands to run by hand where the hardware is.
 */
import type { LoadedExperiment } from "./config.js";
import type { ExperimentRunResult } from "./run.js";
import type { Blocked } from "./trained.js";
import { serveCommand } from "./training.js";

export interface BlockedReason {
  reason: string;
  hint: string;
  /** What it holds up (training plans, data directories, eval stages), each named once. */
  whats: string[];
}

/** One entry per distinct reason and hint, in the order first met. */
export function blockedReasons(blocked: Blocked[]): BlockedReason[] {
  const groups = new Map<string, BlockedReason>();
  for (const b of blocked) {
    const key = JSON.stringify([b.reason, b.hint]);
    const group = groups.get(key) ?? { reason: b.reason, hint: b.hint, whats: [] };
    if (!group.whats.includes(b.what)) group.whats.push(b.what);
    groups.set(key, group);
  }
  return [...groups.values()];
}

/**
 * The shell commands that do by hand what is held up: for each blocked training plan its data
 * commands (less the data this run made already; each command once) and its training commands,
 * then the serving command (none for Together, which serves its own). Null when no training plan
 * is held up.
 */
export function manualSteps(
  loaded: LoadedExperiment,
  run: Pick<ExperimentRunResult, "trainedArms" | "blocked">,
): string[] | null {
  const { trainedArms, blocked } = run;
  const isBlocked = (what: string) => blocked.some((b) => b.what === what);
  const manual = (trainedArms?.todos ?? []).filter((t) => isBlocked(t.plan));
  if (!manual.length) return null;
  const made = new Set(
    trainedArms?.data.filter((d) => !isBlocked(d.step.dir)).map((d) => d.step.dir),
  );
  const commands = [
    ...new Set(
      manual.flatMap((t) =>
        t.commands.filter((_, i) => i >= t.data.length || !made.has(t.data[i]?.dir ?? "")),
      ),
    ),
  ];
  const serve = serveCommand(loaded);
  return [...commands, ...(serve ? [serve] : [])];
}
