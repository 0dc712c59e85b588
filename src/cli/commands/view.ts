import { spawn } from "node:child_process";
import { log } from "../../core/index.js";
import { annotationsApi, startViewServer } from "../../view/index.js";
import type { CliContext } from "../context.js";

/** The platform's "open this URL" program. */
const OPENER: Record<string, [string, string[]]> = {
  darwin: ["open", []],
  win32: ["cmd", ["/c", "start", ""]],
};

function openBrowser(url: string): void {
  const [cmd, args] = OPENER[process.platform] ?? ["xdg-open", []];
  const child = spawn(cmd, [...args, url], { stdio: "ignore", detached: true });
  child.on("error", (e) => log.warn(`cannot open a browser (${cmd}: ${e.message}); open ${url}`));
  child.unref();
}

/** Resolves on the first SIGINT/SIGTERM/SIGHUP: the dashboard runs until the user stops it. */
function untilStopped(): Promise<NodeJS.Signals> {
  const signals = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
  return new Promise((resolve) => {
    const stop = (s: NodeJS.Signals) => {
      for (const x of signals) process.off(x, stop);
      resolve(s);
    };
    for (const s of signals) process.on(s, stop);
  });
}

/** `specsci view` */
export async function view(ctx: CliContext, o: { port: number; host: string; open?: boolean }) {
  const server = await startViewServer({
    workspaceDir: ctx.workspaceDir,
    config: ctx.config,
    host: o.host,
    port: o.port,
    modules: [annotationsApi],
  });
  // The URL is the first line, for scripts and tests that start the dashboard.
  process.stdout.write(`${server.url}\n`);
  log.info(`serving ${ctx.workspaceDir} (read-only but for annotations); Ctrl-C stops`);
  if (o.open) openBrowser(server.url);
  await untilStopped();
  await server.close();
}
