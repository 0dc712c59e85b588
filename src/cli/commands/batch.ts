import type { CliContext } from "../context.js";
import { printJson, printTable } from "../output.js";

/** `specsci batch list` */
export function batchList(ctx: CliContext) {
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
}
