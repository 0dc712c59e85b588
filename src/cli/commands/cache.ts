import type { CliContext } from "../context.js";
import { printJson, printTable } from "../output.js";

/** `specsci cache stats` */
export function cacheStats(ctx: CliContext) {
  const stats = ctx.store.llm.cacheStats();
  if (ctx.json) return printJson(stats);
  printTable(
    ["model", "entries"],
    [...stats.models.map((m) => [m.model, m.entries]), ["total", stats.entries]],
  );
}
