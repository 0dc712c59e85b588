/**
 * Ctrl-C for long commands: the first SIGINT (or SIGTERM, SIGHUP) aborts the work through an AbortSignal, so in-flight
 * results are committed and the command can be resumed; a second one exits at once.
 */
export async function withInterrupt<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSignal = () => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write("\nstopping after the calls in flight (Ctrl-C again to quit now)\n");
    controller.abort(Object.assign(new Error("interrupted"), { name: "AbortError" }));
  };
  // A terminal closing (SIGHUP) or a scheduler stopping the job (SIGTERM) stops it the same way.
  const signals = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
  for (const s of signals) process.on(s, onSignal);
  try {
    return await work(controller.signal);
  } finally {
    for (const s of signals) process.off(s, onSignal);
  }
}
