/**
 * Process groups this process started (trainers, model servers) and has not stopped yet. They run
 * in groups of their own, so a signal to specsci does not reach them; if specsci exits with them
 * still tracked (a second Ctrl-C, an uncaught error), they are killed on the way out rather than
 * left holding GPUs and checkpoints.
 */
const groups = new Set<number>();
let hooked = false;

export function trackGroup(pid: number): void {
  groups.add(pid);
  if (hooked) return;
  hooked = true;
  process.on("exit", () => {
    for (const g of groups)
      try {
        process.kill(-g, "SIGKILL");
      } catch {
        // Already gone.
      }
  });
}

export function untrackGroup(pid: number): void {
  groups.delete(pid);
}
