import type { Command } from "commander";
import type { ContextFactory } from "../context.js";
import { implementedIn } from "../lazy.js";

export function registerUsageCommand(program: Command, context: ContextFactory): void {
  const action = implementedIn(() => import("../commands/usage.js"), context);
  program
    .command("usage")
    .description("tokens, calls and cost per run, stage and model (cache replays cost nothing)")
    .option("--run <id>", "only this run")
    .action(action("usage"));
}
