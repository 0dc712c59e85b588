import type { Command } from "commander";
import { SpecsciError } from "../../core/light.js";
import type { ContextFactory } from "../context.js";
import { implementedIn } from "../lazy.js";

function parsePort(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n > 65535)
    throw new SpecsciError(`--port ${v}: not a port number`, {
      hint: "give 1-65535, or 0 for a free port",
    });
  return n;
}

export function registerViewCommand(program: Command, context: ContextFactory): void {
  const action = implementedIn(() => import("../commands/view.js"), context);
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
    .action(action("view"));
}
