import { log, SpecsciError } from "../../core/index.js";
import { copyStore, damagedStore, type StoreCopyReport } from "../../store/index.js";
import type { CliContext } from "../context.js";
import { printJson, printTable } from "../output.js";

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

/** `specsci store copy SRC DST` */
export function storeCopy(ctx: CliContext, src: string, dst: string, o: { replace?: boolean }) {
  const report = copyStore(src, dst, {
    replace: o.replace === true,
    progress: (line) => log.info(line),
  });
  if (ctx.json) printJson(report);
  else printCopyReport(report);
  const bad = report.tables.filter((t) => !t.ok).map((t) => t.table);
  if (bad.length > 0)
    throw new SpecsciError(
      `store copy: ${bad.join(", ")} differ between SRC and DST after the copy (rows or content hash); DST was rolled back`,
      {
        hint: "DST is as it was before the copy; the table above shows each table's rows and hashes on both sides",
      },
    );
}

function printCopyReport(r: StoreCopyReport): void {
  const short = (hash: string) => hash.slice(0, 16);
  printTable(
    ["table", "rows", "DST rows", "hash", "DST hash", "check"],
    r.tables.map((t) => [
      t.copied ? t.table : `${t.table} (kept by triggers)`,
      t.source_rows,
      t.destination_rows,
      short(t.source_hash),
      short(t.destination_hash),
      t.ok ? "ok" : "MISMATCH",
    ]),
  );
  const rows = r.tables.filter((t) => t.copied).reduce((n, t) => n + t.source_rows, 0);
  if (r.committed)
    process.stdout.write(
      `copied ${rows} rows from ${r.source} to ${r.destination} in ${r.seconds.toFixed(1)} s: every table checks out\n`,
    );
}
