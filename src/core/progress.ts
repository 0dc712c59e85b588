import cliProgress from "cli-progress";

export interface Progress {
  increment(by?: number): void;
  update(value: number): void;
  setTotal(total: number): void;
  stop(): void;
}

const silent: Progress = { increment() {}, update() {}, setTotal() {}, stop() {} };

let enabledGlobally = true;

/** Turns progress bars off for the whole process (--json, --quiet). */
export function disableProgress(): void {
  enabledGlobally = false;
}

/**
 * A progress bar on stderr for long work. Quiet when stderr is not a terminal (CI, pipes, tests),
 * so logs never fill with redraws.
 */
export function createProgress(label: string, total: number): Progress {
  if (!enabledGlobally || !process.stderr.isTTY) return silent;
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${label} [{bar}] {value}/{total} {percentage}% | {duration_formatted} | eta {eta_formatted}`,
      hideCursor: true,
      clearOnComplete: false,
      etaBuffer: 200,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  return {
    increment: (by = 1) => bar.increment(by),
    update: (value) => bar.update(value),
    setTotal: (t) => bar.setTotal(t),
    stop: () => bar.stop(),
  };
}
