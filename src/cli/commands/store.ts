import { damagedStore } from "../../store/index.js";
import type { CliContext } from "../context.js";
import { printJson } from "../output.js";

/** `specsci store info` */
export function storeInfo(ctx: CliContext) {
  const s = ctx.store;
  const count = (table: string) =>
    (s.db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  const file = s.file;
  const info = {
    workspace: s.dir,
    database: file,
    schema_version: s.schemaVersion(),
    size_bytes: s.sizeBytes(),
    runs: count("runs"),
    cached_responses: count("llm_cache"),
    model_calls: count("llm_calls"),
    batch_jobs: count("batch_jobs"),
  };
  if (ctx.json) return printJson(info);
  for (const [k, v] of Object.entries(info))
    process.stdout.write(`${k.replace(/_/g, " ").padEnd(17)} ${v}\n`);
}

/** `specsci store check` */
export function storeCheck(ctx: CliContext) {
  const problems = ctx.store.check();
  if (ctx.json) printJson({ ok: problems.length === 0, problems });
  else if (problems.length === 0) {
    const where = ctx.store.backend === "postgres" ? ctx.store.file : ctx.store.dir;
    process.stdout.write(`ok: ${where} is consistent\n`);
  }
  if (problems.length)
    throw damagedStore(
      ctx.store.file,
      `${problems.length} problem(s): ${problems.slice(0, 5).join("; ")}`,
    );
}
