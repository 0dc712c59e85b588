import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

let gc: (() => void) | null | undefined;

/**
 * One full, compacting collection now. For a long-lived process after a one-off burst of
 * allocation (the dashboard's report of a large experiment): V8 grows its heap to a multiple of
 * the live size while the burst runs and keeps it while the process idles, so the server would
 * hold several hundred MB for a report whose live part is tens of MB. V8 offers no API for this;
 * `--expose-gc` set at run time gives a new context its `gc()`. Where that is refused (a
 * runtime without it), nothing is done.
 */
export function collectGarbage(): void {
  if (gc === undefined) {
    try {
      setFlagsFromString("--expose-gc");
      gc = runInNewContext("gc") as () => void;
    } catch {
      gc = null;
    }
  }
  gc?.();
}
