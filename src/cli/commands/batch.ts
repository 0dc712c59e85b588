import type { Command } from "commander";
import type { ContextFactory } from "../context.js";
import { printJson, printTable } from "../output.js";

export function registerBatchCommands(program: Command, context: ContextFactory): void {
  const batch = program.command("batch").description("provider batch jobs submitted by specsci");
  batch
    .command("list")
    .description(
      "list batch jobs with their provider ids and status (re-run the submitting command to resume one)",
    )
    .action(() => {
      const ctx = context();
      const jobs = ctx.store.llm.batchJobs();
      if (ctx.json) return printJson(jobs);
      if (jobs.length === 0) {
        process.stdout.write("no batch jobs\n");
        return;
      }
      printTable(
        ["job", "provider", "model", "remote id", "status", "round", "requests", "run", "created"],
        jobs.map((j) => [
          j.id.slice(0, 8),
          j.provider,
          j.model,
          j.remote_id ?? "-",
          j.status,
          j.round,
          j.request_count,
          j.run_id ?? "-",
          j.created_at,
        ]),
      );
    });
}
