import type { Command } from "commander";
import type { ContextFactory } from "../context.js";
import { implementedIn } from "../lazy.js";

export function registerBatchCommands(program: Command, context: ContextFactory): void {
  const action = implementedIn(() => import("../commands/batch.js"), context);
  const batch = program.command("batch").description("provider batch jobs submitted by specsci");
  batch
    .command("list")
    .description(
      "list batch jobs with their provider ids and status (re-run the submitting command to resume one)",
    )
    .action(action("batchList"));
}
