import { spawn } from "node:child_process";
import type { Command } from "commander";
import { SpecsciError } from "../../core/errors.js";
import { log } from "../../core/log.js";
import { annotationsApi } from "../../view/annotations.js";
import { startViewServer } from "../../view/server.js";
import type { ContextFactory } from "../context.js";

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

function parsePort(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n > 65535)
    throw new SpecsciError(`--port ${v}: not a port number`, {
      hint: "give 1-65535, or 0 for a free port",
    });
  return n;
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

export function registerViewCommand(program: Command, context: ContextFactory): void {
  program
    .command("view")
    .description(
      "the dashboard: a local web app over the workspace's store (experiments, samples, transcripts), live while `specsci run` writes",
    )
    .option("--port <n>", "port to listen on (0: a free one)", parsePort, 0)
    .option(
      "--host <address>",
      "address to listen on; other machines can reach anything but loopback",
      "127.0.0.1",
    )
    .option("--open", "open the dashboard in the default browser")
    .action(async (o: { port: number; host: string; open?: boolean }) => {
      const ctx = context();
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
    });
}
